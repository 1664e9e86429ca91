// Issue 9's hot paths (`npm run bench hotpaths`): run --rm, warm pull, 50 × run -d
// and ps, with Podman side by side. bench/hotpaths.ts imports the test
// registry harness (TypeScript), so it is bundled first (bench/bundled.mjs).
import { runBundled } from './bundled.mjs';

await runBundled('hotpaths');
