// Issue 4's benchmarks (`npm run bench lifecycle`), with a real image from the
// test registry. The registry harness the tests use is TypeScript, so
// bench/lifecycle.ts (which imports it) is bundled first and run in a child
// process (bench/bundled.mjs).
import { runBundled } from './bundled.mjs';

await runBundled('lifecycle');
