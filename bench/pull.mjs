// Issue 3's benchmark (`npm run bench pull`). The registry harness the tests
// use is TypeScript, so this launcher bundles bench/pull.ts (which imports it)
// with esbuild into a temporary .mjs and runs that in a child process. The
// bundle holds no secrets and is removed afterwards.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync('/tmp/skiff-bench-pull-bundle-');
let status = 1;
try {
  const outfile = path.join(tmp, 'pull.mjs');
  await build({
    entryPoints: [path.join(here, 'pull.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, SKIFF_BENCH_ROOT: path.resolve(here, '..') },
  });
  status = r.status ?? 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);
