// Issue 16's benchmark: what the event log costs and how fast `events` reads it.
// (1) `skiff run --rm --rootfs busybox true` with the event log on (the
//     default, six events: create, init, start, attach, died, remove) and
//     with --events-backend none, against `node -e 0`, root and rootless:
//     BENCH_ROUNDS rounds in turns, wall min and median and the CPU time
//     (user + system, the run's and its children's) of each run;
//     bench/eventcost.mjs measures the same six events inside one process;
// (2) `skiff events --stream=false` over a log of 10,000 container events,
//     printed in the default format and as json, and with a filter that
//     matches none, against `node -e 0` (rootless, in a runtime directory of
//     its own: root's /run/skiff is shared).
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asUser, CLEAN_PATH, installCopy, lookupUser, printTable, timeCommand } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 30);
const rounds = Number(process.env.BENCH_ROUNDS ?? 100);
const work = mkdtempSync('/tmp/skiff-bench-');
chmodSync(work, 0o755);
const skiff = installCopy(root, path.join(work, 'skiff'));
const isRoot = process.getuid() === 0;
const user = isRoot ? lookupUser(process.env.SKIFF_BENCH_USER ?? 'skifftest') : null;

/** bash's `times`: its own and its children's user and system time; the children's, in ms. */
function childrenCpuMs(text) {
  const lines = text.trim().split('\n');
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1].trim());
  if (!m) throw new Error(`no times output in ${JSON.stringify(text)}`);
  return (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}

/** Commands in turns, 3 warm-up rounds; each row's wall min/median and CPU median/mean. */
function timeWithCpu(commands, n) {
  const wall = commands.map(() => []);
  const cpu = commands.map(() => []);
  for (let i = 0; i < n + 3; i++) {
    commands.forEach(({ argv, env }, k) => {
      const start = process.hrtime.bigint();
      const r = spawnSync(argv[0], argv.slice(1), { env: { PATH: CLEAN_PATH, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
      if (i < 3) return;
      wall[k].push(ms);
      cpu[k].push(childrenCpuMs(r.stdout));
    });
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return commands.map((_, k) => ({
    min: Math.min(...wall[k]),
    median: med(wall[k]),
    cpuMedian: med(cpu[k]),
    cpuMean: cpu[k].reduce((a, b) => a + b, 0) / cpu[k].length,
  }));
}

function printCpuTable(title, rows) {
  const off = rows[rows.length - 1];
  console.log(`\n${title}`);
  console.log(`${'command'.padEnd(44)} ${'wall min'.padStart(9)} ${'median'.padStart(8)} ${'CPU median'.padStart(11)} ${'CPU mean'.padStart(9)}  (ms; last column: against the last row)`);
  for (const r of rows) {
    const d = (a, b) => `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(2)}`;
    console.log(
      `${r.name.padEnd(44)} ${r.min.toFixed(1).padStart(9)} ${r.median.toFixed(1).padStart(8)} ${r.cpuMedian.toFixed(0).padStart(11)} ${r.cpuMean.toFixed(2).padStart(9)}  min ${d(r.min, off.min)}, median ${d(r.median, off.median)}, CPU mean ${d(r.cpuMean, off.cpuMean)}`,
    );
  }
}

function makeRootfs(dir, owner) {
  const script = path.join(work, 'mk.sh');
  cpSync(path.join(root, 'scripts/make-busybox-rootfs.sh'), script);
  chmodSync(script, 0o755);
  const rootfs = path.join(dir, 'rootfs');
  const argv = asUser(owner, ['sh', script, rootfs]);
  execFileSync(argv[0], argv.slice(1));
  return rootfs;
}

const modes = [];
if (isRoot) {
  const dir = path.join(work, 'root');
  mkdirSync(dir);
  modes.push({ name: 'root', user: null, dir, rootfs: makeRootfs(dir, null) });
}
if (!isRoot || user) {
  const dir = path.join(work, 'user');
  mkdirSync(dir);
  if (user) chownSync(dir, user.uid, user.gid);
  modes.push({ name: 'rootless', user, dir, rootfs: makeRootfs(dir, user) });
}

try {
  for (const mode of modes) {
    const store = path.join(mode.dir, 'store');
    const runtime = path.join(mode.dir, 'runtime');
    mkdirSync(store);
    mkdirSync(runtime, { mode: 0o700 });
    if (mode.user) {
      chownSync(store, mode.user.uid, mode.user.gid);
      chownSync(runtime, mode.user.uid, mode.user.gid);
    }
    const env = { SKIFF_ROOT: store, HOME: mode.user ? mode.user.home : '/root', ...(mode.user ? { XDG_RUNTIME_DIR: runtime } : {}) };
    const t = (argv, extra = {}) => timeCommand(asUser(mode.user, argv), { runs, env: { ...env, ...extra } });
    // The run with the log on and with it off, and node -e 0, in turns for
    // BENCH_ROUNDS rounds, each timed from outside (wall) and by its CPU:
    // user + system of the run and every process it waited for, by bash's
    // `times` (milliseconds), so a difference the wall time's noise hides
    // shows in the CPU it took.
    const run = [skiff, 'run', '--rm', '--rootfs', mode.rootfs, 'true'];
    const [nodeRow, onRow, offRow] = timeWithCpu(
      [
        { argv: ['node', '-e', '0'] },
        { argv: run },
        { argv: [skiff, '--events-backend', 'none', ...run.slice(1)] },
      ].map((c) => ({ argv: asUser(mode.user, ['bash', '-c', 'exec 3>&1; "$@" >/dev/null 2>&3; rc=$?; times; exit $rc', 'bash', ...c.argv]), env })),
      rounds,
    );
    printCpuTable(`run --rm with the event log on and off (${mode.name}), ${rounds} rounds in turns`, [
      { name: 'node -e 0', ...nodeRow },
      { name: 'skiff run --rm true (event log on)', ...onRow },
      { name: 'skiff --events-backend none run --rm true', ...offRow },
    ]);
    const rows = [{ name: 'node -e 0', ...t(['node', '-e', '0']) }];
    if (mode.user) {
      // 10,000 events of 2,000 containers, as skiff writes them.
      const log = path.join(runtime, 'skiff', 'events', 'events.log');
      mkdirSync(path.dirname(log), { recursive: true });
      const lines = [];
      const t0 = BigInt(Date.now() - 3_600_000) * 1_000_000n;
      for (let i = 0; i < 10_000; i++) {
        const id = (i % 2000).toString(16).padStart(64, 'c');
        const status = ['create', 'init', 'start', 'died', 'remove'][i % 5];
        const ns = t0 + BigInt(i) * 1_000_000n;
        lines.push(`{${status === 'died' ? '"ContainerExitCode":0,' : ''}"ID":"${id}","Image":"registry.example/library/busybox:latest","Name":"c${i % 2000}","Status":"${status}","time":${ns / 1_000_000_000n},"timeNano":${ns},"Type":"container","Attributes":{"team":"bench"}}\n`);
      }
      writeFileSync(log, lines.join(''));
      execFileSync('chown', ['-R', `${mode.user.uid}:${mode.user.gid}`, path.join(runtime, 'skiff')]);
      const big = { SKIFF_EVENTS_LOGFILE_MAX_SIZE: '64m' };
      rows.push(
        { name: 'skiff events --stream=false (10,000 events)', ...t([skiff, 'events', '--stream=false'], big) },
        { name: 'skiff events --stream=false --format json', ...t([skiff, 'events', '--stream=false', '--format', 'json'], big) },
        { name: "… --format '{{.Status}} {{.Name}}'", ...t([skiff, 'events', '--stream=false', '--format', '{{.Status}} {{.Name}}'], big) },
        { name: '… --filter container=none (no match)', ...t([skiff, 'events', '--stream=false', '--filter', 'container=none'], big) },
      );
    }
    if (rows.length > 1) printTable(`events (${mode.name}), ${runs} runs`, rows, 'node -e 0');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
