// Issue 17's benchmark (`npm run bench walks`): diff and ps -a --size on a
// container with 10,000 files written; see bench/walks.ts.
import { runBundled } from './bundled.mjs';

await runBundled('walks');
