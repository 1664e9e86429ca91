// Shared timing code for the benchmarks: run a command N times in a clean
// environment (env -i: root's NODE_EXTRA_CA_CERTS alone adds ~70 ms to Node),
// report min and median wall time, and compare against baselines measured in
// the same run. Timings are printed, never asserted.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';

export const CLEAN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function timeCommand(argv, { runs = 30, warmup = 3, env = {} } = {}) {
  const fullEnv = { PATH: CLEAN_PATH, HOME: process.env.HOME ?? '/', ...env };
  const samples = [];
  for (let i = 0; i < warmup + runs; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { env: fullEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
    if (i >= warmup) samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  return { min: samples[0], median: samples[Math.floor(samples.length / 2)], runs };
}

/**
 * Like timeCommand for several commands at once, run in turns (one run of each
 * per round): on a shared machine whose load drifts, every command meets the
 * same drift, so differences between them stand where sequential series
 * (twenty of one, then twenty of the next) differ by the drift alone.
 * `commands`: [{ argv, env }]; returns one Timing per command, in order.
 */
export function timeInterleaved(commands, { runs = 30, warmup = 3 } = {}) {
  const samples = commands.map(() => []);
  for (let i = 0; i < warmup + runs; i++) {
    commands.forEach(({ argv, env = {} }, k) => {
      const start = process.hrtime.bigint();
      const r = spawnSync(argv[0], argv.slice(1), { env: { PATH: CLEAN_PATH, HOME: process.env.HOME ?? '/', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
      if (i >= warmup) samples[k].push(ms);
    });
  }
  return samples.map((s) => {
    s.sort((a, b) => a - b);
    return { min: s[0], median: s[Math.floor(s.length / 2)], runs };
  });
}

export function asUser(user, argv) {
  if (!user) return argv;
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv];
}

export function lookupUser(name) {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const f = r.stdout.trim().split(':');
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
}

export function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export function printTable(title, rows, baselineName) {
  const base = rows.find((r) => r.name === baselineName);
  console.log(`\n${title}`);
  console.log(`${'command'.padEnd(48)} ${'min ms'.padStart(8)} ${'median'.padStart(8)} ${'vs ' + baselineName}`);
  for (const r of rows) {
    const ratio = base ? (r.median / base.median).toFixed(2) + '×' : '';
    const delta = base ? `${r.median - base.median >= 0 ? '+' : ''}${(r.median - base.median).toFixed(1)} ms` : '';
    console.log(`${r.name.padEnd(48)} ${r.min.toFixed(1).padStart(8)} ${r.median.toFixed(1).padStart(8)}  ${ratio} (${delta})`);
  }
}

/** A copy of the built skiff in dir that every user can read (and that a rebuild cannot pull away mid-run). */
export function installCopy(root, dir) {
  mkdirSync(path.join(dir, 'helpers-c'), { recursive: true });
  for (const part of ['bin', 'package.json']) cpSync(path.join(root, part), path.join(dir, part), { recursive: true });
  // dist is a symlink to the current build (scripts/build.mjs): that build's files, as they are now.
  cpSync(realpathSync(path.join(root, 'dist')), path.join(dir, 'dist'), { recursive: true });
  cpSync(path.join(root, 'helpers-c/skiff-helper'), path.join(dir, 'helpers-c/skiff-helper'));
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  return path.join(dir, 'bin/skiff');
}
