// Issue 3's benchmark (`npm run bench pull`). The registry harness the tests
// use is TypeScript, so bench/pull.ts (which imports it) is bundled first and
// run in a child process (bench/bundled.mjs).
import { runBundled } from './bundled.mjs';

await runBundled('pull');
