// The suite's count from vitest's JSON report: "N passed, N failed, N skipped".
// Shared by `npm test` (scripts/test.mjs) and `npm run test:vm` (test/vm/run.mjs).
import { readFileSync } from 'node:fs';

/** Counts a JSON report; a missing or unreadable report counts as one failure. */
export function countReport(file) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed = r.numPassedTests;
    failed = r.numFailedTests;
    skipped = r.numPendingTests + r.numTodoTests;
    // A file that failed to load has no tests but is a failure.
    for (const f of r.testResults ?? []) if (f.status === 'failed' && f.assertionResults.length === 0) failed++;
  } catch {
    failed = Math.max(failed, 1);
  }
  return { passed, failed, skipped, line: `${passed} passed, ${failed} failed, ${skipped} skipped` };
}
