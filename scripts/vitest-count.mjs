// The suite's count from vitest's JSON report: "N passed, N failed, N skipped".
// Shared by `npm test` (scripts/test.mjs) and `npm run test:vm` (test/vm/run.mjs).
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Counts a JSON report; a missing or unreadable report counts as one failure.
 * `skips` names why tests were skipped: each reason a title states as
 * "(skipped: WHY: FIX)" (test/skip.ts) once, with how many tests it skipped;
 * a skip without a stated reason is listed by its file.
 */
export function countReport(file) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const reasons = new Map();
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed = r.numPassedTests;
    failed = r.numFailedTests;
    skipped = r.numPendingTests + r.numTodoTests;
    // A file that failed to load has no tests but is a failure.
    for (const f of r.testResults ?? []) {
      if (f.status === 'failed' && f.assertionResults.length === 0) failed++;
      for (const t of f.assertionResults ?? []) {
        if (t.status !== 'skipped' && t.status !== 'pending' && t.status !== 'todo') continue;
        const stated = [...(t.ancestorTitles ?? []), t.title].map((s) => /\(skipped: (.*)\)$/.exec(s)?.[1]).find((s) => s !== undefined);
        const why = stated ?? `no reason stated (${path.relative(process.cwd(), f.name)})`;
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      }
    }
  } catch {
    failed = Math.max(failed, 1);
  }
  const skips = [...reasons].sort((a, b) => b[1] - a[1]).map(([why, n]) => `skipped ${n} test${n === 1 ? '' : 's'}: ${why}`);
  return { passed, failed, skipped, skips, line: `${passed} passed, ${failed} failed, ${skipped} skipped` };
}
