// Issue 12's benchmark (`npm run bench build`): skiff build cold and fully
// cached against node -e 0 and podman build, with the test registry's busybox.
// bench/build.ts imports the TypeScript registry harness, so it is bundled
// first and run in a child process (bench/bundled.mjs).
import { runBundled } from './bundled.mjs';

await runBundled('build');
