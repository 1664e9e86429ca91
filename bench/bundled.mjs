// Runs a TypeScript benchmark (bench/NAME.ts), which may import the test
// harnesses (TypeScript too): bundles it with esbuild into a temporary .mjs,
// runs that in a child process with this process's arguments, and exits with
// its status. The bundle holds no secrets and is removed afterwards. The child
// finds the project through SKIFF_BENCH_ROOT.
//
// Stopping: Ctrl-C reaches the child directly (the terminal signals the whole
// process group), so this process ignores SIGINT and waits for the child to
// clean up; SIGTERM sent to this process alone is passed on to the child.
//
//   // bench/pull.mjs
//   import { runBundled } from './bundled.mjs';
//   await runBundled('pull');
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Bundles bench/NAME.ts, runs it, and exits with its status (never returns). */
export async function runBundled(name) {
  const tmp = mkdtempSync(`/tmp/skiff-bench-${name}-bundle-`);
  let status = 1;
  const ignore = () => {};
  let forward = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', () => forward());
  try {
    const outfile = path.join(tmp, `${name}.mjs`);
    await build({
      entryPoints: [path.join(here, `${name}.ts`)],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'warning',
    });
    const child = spawn(process.execPath, [outfile, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, SKIFF_BENCH_ROOT: path.resolve(here, '..') },
    });
    forward = () => child.kill('SIGTERM');
    status = await new Promise((resolve) => {
      child.once('error', (err) => {
        console.error(`bench: cannot run ${name}: ${err.message}`);
        resolve(1);
      });
      child.once('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1)));
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  process.exit(status);
}
