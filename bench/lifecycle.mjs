// Issue 4's benchmarks, with --rootfs containers (no image store yet), in a
// throwaway store (SKIFF_ROOT), as the user running the bench:
//  (1) run --rm true against node -e 0 (and podman run --rm when installed);
//  (2) 50 detached `sleep` containers: time to start them all, and the PSS of one monitor;
//  (3) rm -f of the 50 running containers in one call;
//  (4) ps with 50 containers against node -e 0.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_PATH, hasCommand, installCopy, printTable, timeCommand } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync('/tmp/skiff-bench-life-');
const skiff = installCopy(root, path.join(work, 'skiff'));
const store = path.join(work, 'store');
const rootfs = path.join(work, 'rootfs');
execFileSync('sh', [path.join(root, 'scripts/make-busybox-rootfs.sh'), rootfs]);
const env = { SKIFF_ROOT: store };
const runs = Number(process.env.BENCH_RUNS ?? 20);

function wall(argv) {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env: { PATH: CLEAN_PATH, HOME: process.env.HOME ?? '/', ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, stdout: r.stdout };
}

function pssKiB(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)[1]);
}

try {
  const rows = [
    { name: 'node -e 0', ...timeCommand(['node', '-e', '0'], { runs }) },
    { name: 'skiff run --rm --rootfs busybox true', ...timeCommand([skiff, 'run', '--rm', '--rootfs', rootfs, 'true'], { runs, env }) },
  ];
  if (hasCommand('podman')) {
    rows.push({ name: 'podman run --rm --rootfs busybox true', ...timeCommand(['podman', 'run', '--rm', '--rootfs', rootfs, 'true'], { runs }) });
  }
  printTable('(1) run --rm true', rows, 'node -e 0');

  const n = 50;
  const started = wall(['sh', '-c', `for i in $(seq ${n}); do ${skiff} run -d --rootfs ${rootfs} sleep 600 >/dev/null || exit 1; done`]);
  const ids = readdirSync(path.join(store, 'containers')).filter((x) => /^[0-9a-f]{64}$/.test(x));
  const monitors = ids.map((id) => JSON.parse(readFileSync(path.join(store, 'containers', id, 'pid.json'), 'utf8')).MonitorPid);
  const pss = monitors.map(pssKiB).sort((a, b) => a - b);
  console.log(`\n(2) ${n} detached sleep containers: ${started.ms.toFixed(0)} ms to start all (${(started.ms / n).toFixed(1)} ms each); monitor PSS median ${pss[Math.floor(pss.length / 2)]} KiB (min ${pss[0]}, max ${pss[pss.length - 1]})`);

  const ps = [
    { name: 'node -e 0', ...timeCommand(['node', '-e', '0'], { runs }) },
    { name: `skiff ps (${n} running)`, ...timeCommand([skiff, 'ps'], { runs, env }) },
    { name: `skiff ps -a (${n})`, ...timeCommand([skiff, 'ps', '-a'], { runs, env }) },
  ];
  printTable(`(4) ps with ${n} containers`, ps, 'node -e 0');

  const removed = wall([skiff, 'rm', '-f', ...ids]);
  console.log(`\n(3) rm -f of ${n} running containers in one call: ${removed.ms.toFixed(0)} ms`);
} finally {
  spawnSync(skiff, ['rm', '-f', '--all'], { env: { PATH: CLEAN_PATH, ...env }, stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
