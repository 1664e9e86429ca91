// The test command (README: `npm test`): builds skiff, runs every vitest suite
// (unit, and integration as root and as the unprivileged test user), and ends
// with the whole suite's count: "N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { countReport } from './vitest-count.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const build = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) {
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

const out = mkdtempSync(path.join(tmpdir(), 'skiff-vitest-'));
const report = path.join(out, 'report.json');
const vitest = path.join(root, 'node_modules/vitest/vitest.mjs');
const run = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: root },
);

const count = countReport(report);
rmSync(out, { recursive: true, force: true });
// What did not run, and the command that would run it, once each.
if (count.skips.length > 0) console.log(`\n${count.skips.join('\n')}`);
console.log(count.line);
process.exit(run.status === 0 && count.failed === 0 ? 0 : 1);
