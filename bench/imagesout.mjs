// Issue 13's benchmark (`npm run bench imagesout`): push, save and load against
// Podman in the same run. bench/imagesout.ts imports the registry harness
// (TypeScript), so it is bundled first and run in a child process.
import { runBundled } from './bundled.mjs';

await runBundled('imagesout');
