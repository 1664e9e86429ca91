// Issue 9's table, measured in one run with every baseline beside it:
//  (1) run --rm --network none IMAGE true, against node -e 0 and Podman;
//  (2) pull of an image already in the store ("warm"), against Podman's;
//  (3) 50 × run -d --network none IMAGE sleep 600, one after the other,
//      against the same 50 with Podman;
//  (4) ps with those 50 running, against node -e 0 and podman ps.
// The image is a busybox pushed to the test registry (Debian's
// docker-registry on 127.0.0.1). As root it measures root and rootless (as
// SKIFF_BENCH_USER, default skifftest); otherwise rootless as the caller.
// Podman runs rootless with runc (its default crun is not installed here),
// with a store of its own. Commands run in clean environments (env -i: PATH,
// HOME, the store). Medians of BENCH_RUNS runs after 3 warm-up runs; timings
// are printed, never asserted. Run by bench/hotpaths.mjs (bundled first).
// With SKIFF_BENCH_BEFORE=DIR (a built checkout of an earlier skiff) that
// build runs beside this one, with a store of its own, as "before". Rows (1)
// and (2) are timed in turns (one run of each engine per round), so that a
// drifting load meets all engines alike; (3) runs each engine's loop in turn,
// three rounds, and keeps the fastest.
//
//   BENCH_RUNS=20 (default) BENCH_MODES=rootless node bench/hotpaths.mjs
//   SKIFF_BENCH_BEFORE=/tmp/skiff-main BENCH_MODES=rootless node bench/hotpaths.mjs
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from '../test/integration/registry-harness.js';
import { CLEAN_PATH, asUser, hasCommand, installCopy, lookupUser, printTable, timeCommand, timeInterleaved, type Timing, type User } from './lib.mjs';

const projectRoot = process.env['SKIFF_BENCH_ROOT'] ?? process.cwd();
const runs = Number(process.env['BENCH_RUNS'] ?? 20);
const N = Number(process.env['BENCH_CONTAINERS'] ?? 50);
const isRoot = process.getuid?.() === 0;
const wantedModes = (process.env['BENCH_MODES'] ?? 'root,rootless').split(',');
const beforeRoot = process.env['SKIFF_BENCH_BEFORE'];
/** BENCH_ROWS=run,pull: only (1) and (2), without the run -d loops and ps (default: all). */
const wantedRows = (process.env['BENCH_ROWS'] ?? 'run,pull,starts,ps').split(',');

/** Issue 9's goals. */
const GOALS = { runOverNodeMs: 25, pullOverNodeMs: 40, startsFasterThanPodman: 3, psOverNodeMs: 30 } as const;

interface Mode {
  name: 'root' | 'rootless';
  user: User | null;
  dir: string;
  env: Record<string, string>;
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function exec(mode: Mode, argv: string[], env: Record<string, string> = {}, timeoutMs = 600_000): Result {
  const full = asUser(mode.user, argv);
  const start = process.hrtime.bigint();
  const r = spawnSync(full[0]!, full.slice(1), {
    env: { PATH: CLEAN_PATH, ...mode.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

function must(mode: Mode, argv: string[], env: Record<string, string> = {}, timeoutMs?: number): Result {
  const r = exec(mode, argv, env, timeoutMs);
  if (r.status !== 0) throw new Error(`${mode.name}: ${argv.join(' ')} failed (${r.status}): ${(r.stderr.trim() || r.stdout.trim()).slice(-800)}`);
  return r;
}

function makeDirFor(dir: string, user: User | null, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
  chmodSync(dir, mode);
  if (user) chownSync(dir, user.uid, user.gid);
}

/** One engine's command line and environment, in the mode's directory. */
interface Engine {
  name: 'skiff' | 'before' | 'podman';
  argv: string[];
  env: Record<string, string>;
}

function engines(mode: Mode, skiff: string, before?: string): Engine[] {
  const out: Engine[] = [{ name: 'skiff', argv: [skiff], env: { SKIFF_ROOT: path.join(mode.dir, 'skiff-store') } }];
  makeDirFor(path.join(mode.dir, 'skiff-store'), mode.user, 0o700);
  if (before) {
    out.push({ name: 'before', argv: [before], env: { SKIFF_ROOT: path.join(mode.dir, 'before-store') } });
    makeDirFor(path.join(mode.dir, 'before-store'), mode.user, 0o700);
  }
  if (hasCommand('podman')) {
    const dir = path.join(mode.dir, 'podman');
    makeDirFor(dir, mode.user, 0o700);
    makeDirFor(path.join(dir, 'xdg'), mode.user, 0o700);
    out.push({
      name: 'podman',
      argv: ['podman', '--root', path.join(dir, 'storage'), '--runroot', path.join(dir, 'run'), '--runtime', 'runc', '--events-backend', 'file'],
      env: { XDG_RUNTIME_DIR: path.join(dir, 'xdg') },
    });
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${ms.toFixed(1)} ms`;

interface ModeFigures {
  mode: Mode;
  node: Timing;
  run: Partial<Record<Engine['name'], Timing>>;
  pull: Partial<Record<Engine['name'], Timing>>;
  starts: Partial<Record<Engine['name'], number>>;
  ps: Partial<Record<Engine['name'], Timing>>;
}

function benchMode(mode: Mode, skiff: string, ref: string, before?: string): ModeFigures {
  const who = mode.user ? `${mode.name} (${mode.user.name})` : mode.name;
  console.log(`\n===== ${who} =====`);
  const list = engines(mode, skiff, before);
  const time = (e: Engine, args: string[]) => timeCommand(asUser(mode.user, [...e.argv, ...args]), { runs, env: { ...mode.env, ...e.env } });
  const tls = (e: Engine) => (e.name === 'podman' ? ['--tls-verify=false'] : []);
  for (const e of [...list]) {
    try {
      const p = must(mode, [...e.argv, 'pull', '-q', ...tls(e), ref], e.env);
      console.log(`${e.name} pull into its empty store: ${fmt(p.ms)} (makes the store warm; not a figure)`);
    } catch (err) {
      console.log(`${e.name}: left out (${err instanceof Error ? err.message : String(err)})`);
      list.splice(list.indexOf(e), 1);
    }
  }
  const figures: ModeFigures = { mode, node: timeCommand(asUser(mode.user, ['node', '-e', '0']), { runs, env: mode.env }), run: {}, pull: {}, starts: {}, ps: {} };

  // (1) and (2), each engine in turn
  const rows: Array<{ name: string } & Timing> = [{ name: 'node -e 0', ...figures.node }];
  const interleave = (args: (e: Engine) => string[]) =>
    timeInterleaved(list.map((e) => ({ argv: asUser(mode.user, [...e.argv, ...args(e)]), env: { ...mode.env, ...e.env } })), { runs });
  if (wantedRows.includes('run')) interleave(() => ['run', '--rm', '--network', 'none', ref, 'true']).forEach((t, i) => {
    figures.run[list[i]!.name] = t;
    rows.push({ name: `${list[i]!.name} run --rm --network none IMAGE true`, ...t });
  });
  if (wantedRows.includes('pull')) interleave((e) => ['pull', '-q', ...tls(e), ref]).forEach((t, i) => {
    figures.pull[list[i]!.name] = t;
    rows.push({ name: `${list[i]!.name} pull IMAGE (present)`, ...t });
  });
  printTable(`(1) run --rm and (2) warm pull, ${who} (${runs} runs each, in turns)`, rows, 'node -e 0');

  // (3) and (4), one engine at a time, so that each ps sees its own 50 only.
  if (!wantedRows.includes('starts') && !wantedRows.includes('ps')) return figures;
  const psRows: Array<{ name: string } & Timing> = [{ name: 'node -e 0', ...figures.node }];
  for (let round = 1; round <= 3; round++) {
    for (const e of list) {
      const loop = `for i in $(seq ${N}); do ${e.argv.join(' ')} run -d --network none ${ref} sleep 600 >/dev/null || exit 1; done`;
      const started = must(mode, ['sh', '-c', loop], e.env, 900_000);
      figures.starts[e.name] = Math.min(figures.starts[e.name] ?? Infinity, started.ms);
      console.log(`(3) round ${round}: ${N} × ${e.name} run -d --network none IMAGE sleep 600: ${fmt(started.ms)} (${(started.ms / N).toFixed(1)} ms each)`);
      if (round === 3) {
        figures.ps[e.name] = time(e, ['ps']);
        psRows.push({ name: `${e.name} ps (${N} running)`, ...figures.ps[e.name]! });
      }
      const removed = must(mode, [...e.argv, 'rm', '-f', ...(e.name === 'podman' ? ['-t', '0'] : []), '--all'], e.env, 900_000);
      console.log(`    ${e.name} rm -f --all of the ${N}: ${fmt(removed.ms)}`);
    }
  }
  printTable(`(4) ps with ${N} containers, ${who} (${runs} runs each)`, psRows, 'node -e 0');
  return figures;
}

function printSummary(all: ModeFigures[]): void {
  console.log(`\n===== issue 9's table (medians; load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')}) =====`);
  const head = `${'measure'.padEnd(40)} ${'mode'.padEnd(9)} ${'skiff'.padStart(22)} ${'before'.padStart(12)} ${'podman'.padStart(12)} ${'node -e 0'.padStart(10)}  goal`;
  console.log(head);
  const cell = (ms: number | undefined) => (ms === undefined ? '-' : fmt(ms)).padStart(12);
  for (const f of all) {
    const m = f.mode.name;
    const node = f.node.median;
    const line = (what: string, skiff: number | undefined, before: number | undefined, podman: number | undefined, goal: string, met: boolean | undefined) =>
      console.log(
        `${what.padEnd(40)} ${m.padEnd(9)} ${(skiff === undefined ? '-' : `${fmt(skiff)} (${signed(skiff - node)})`).padStart(22)} ${cell(before)} ${cell(podman)} ${fmt(node).padStart(10)}  ${goal}${met === undefined ? '' : met ? ' (met)' : ' (not met)'}`,
      );
    const run = f.run.skiff?.median;
    line('run --rm --network none IMAGE true', run, f.run.before?.median, f.run.podman?.median, `node + ${GOALS.runOverNodeMs} ms`, run === undefined ? undefined : run - node <= GOALS.runOverNodeMs);
    const pull = f.pull.skiff?.median;
    const podmanPull = f.pull.podman?.median;
    line('pull of a present image', pull, f.pull.before?.median, podmanPull, `≤ Podman, ideally node + ${GOALS.pullOverNodeMs} ms`, pull === undefined || podmanPull === undefined ? undefined : pull <= podmanPull);
    const starts = f.starts.skiff;
    const podmanStarts = f.starts.podman;
    const ratio = starts !== undefined && podmanStarts !== undefined ? ` (${(podmanStarts / starts).toFixed(1)}× faster)` : '';
    line(`${N} × run -d sleep${ratio}`, starts, f.starts.before, podmanStarts, `${GOALS.startsFasterThanPodman}× faster than Podman`, starts === undefined || podmanStarts === undefined ? undefined : podmanStarts / starts >= GOALS.startsFasterThanPodman);
    const ps = f.ps.skiff?.median;
    line(`ps with ${N} containers`, ps, f.ps.before?.median, f.ps.podman?.median, `node + ${GOALS.psOverNodeMs} ms`, ps === undefined ? undefined : ps - node <= GOALS.psOverNodeMs);
  }
  console.log(`(the ${N} × run -d rows are the fastest of three sequences each, not medians; "met" compares this run only, on a possibly busy machine)`);
}

async function main(): Promise<void> {
  const work = mkdtempSync('/tmp/skiff-bench-hot-');
  chmodSync(work, 0o755);
  let reg: TestRegistry | undefined;
  const modes: Mode[] = [];
  const cleanup = async () => {
    for (const mode of modes) {
      for (const e of engines(mode, path.join(work, 'skiff/bin/skiff'), beforeRoot ? path.join(work, 'skiff-before/bin/skiff') : undefined)) exec(mode, [...e.argv, 'rm', '-f', ...(e.name === 'podman' ? ['-t', '0'] : []), '--all'], e.env);
      if (mode.user && existsSync(path.join(mode.dir, 'podman'))) exec(mode, ['podman', 'unshare', 'rm', '-rf', path.join(mode.dir, 'podman')], { XDG_RUNTIME_DIR: path.join(mode.dir, 'podman', 'xdg') });
    }
    await reg?.stop();
    if (isRoot) rmSync(work, { recursive: true, force: true });
    else spawnSync('unshare', ['-r', 'rm', '-rf', work], { stdio: 'inherit' });
  };
  process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const skiff = installCopy(projectRoot, path.join(work, 'skiff'));
    if (beforeRoot && !existsSync(path.join(beforeRoot, 'dist'))) throw new Error(`SKIFF_BENCH_BEFORE=${beforeRoot} holds no built skiff (npm run build there)`);
    const before = beforeRoot ? installCopy(beforeRoot, path.join(work, 'skiff-before')) : undefined;
    const script = path.join(work, 'make-busybox-rootfs.sh');
    cpSync(path.join(projectRoot, 'scripts/make-busybox-rootfs.sh'), script);
    chmodSync(script, 0o755);
    const add = (name: Mode['name'], user: User | null, home: string) => {
      if (!wantedModes.includes(name)) return;
      const dir = path.join(work, name);
      makeDirFor(dir, user);
      modes.push({ name, user, dir, env: { HOME: home } });
    };
    if (isRoot) {
      add('root', null, '/root');
      const user = lookupUser(process.env['SKIFF_BENCH_USER'] ?? 'skifftest');
      if (user) add('rootless', user, user.home);
      else console.log('(no test user: rootless figures left out; sudo scripts/create-test-user.sh makes one)');
    } else {
      add('rootless', null, process.env['HOME'] ?? '/');
    }
    console.log(`bench/hotpaths: ${runs} runs per timing, ${N} containers; node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; podman ${hasCommand('podman') ? 'installed' : 'not installed (its columns stay empty)'}`);
    const imageRootfs = path.join(work, 'image-rootfs');
    spawnSync('sh', [script, imageRootfs], { stdio: 'inherit' });
    reg = await startRegistry();
    await pushImage(reg, 'busybox', 'latest', { format: 'docker', layers: [{ entries: busyboxLayer(imageRootfs), compression: 'gzip' }], config: { Cmd: ['sh'] } });
    const ref = `${reg.host}/busybox:latest`;
    printSummary(modes.map((m) => benchMode(m, skiff, ref, before)));
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(`bench/hotpaths: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
