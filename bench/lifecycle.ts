// Issue 4's benchmarks, with a real image: the test registry (Debian's
// docker-registry on 127.0.0.1, started by the test harness) serves a busybox
// image that is pulled into a fresh store first, so that every run below
// starts from a warm store:
//  (1) run --rm IMAGE true against node -e 0, run --rm --rootfs, unshare -r
//      (a kernel baseline) and, when installed, podman run --rm IMAGE true;
//  (2) 50 detached `sleep 600` containers from the image, started one after
//      the other: the time to start them all, and the PSS of their monitors;
//  (4) ps and ps -a with the 50 running, against node -e 0;
//  (3) rm -f of the 50 in one call.
// As root it runs as root and rootless (as SKIFF_BENCH_USER, default
// skifftest, with a store that user owns); otherwise rootless as the caller.
// Commands run in clean environments (PATH, HOME, SKIFF_ROOT only: root's
// NODE_EXTRA_CA_CERTS alone adds ~70 ms to each Node start). Podman's figures
// from the issue are printed next to the results as constants: they are not
// measured here. Timings are printed, never asserted. Run by
// bench/lifecycle.mjs (this file is bundled first).
//
//   BENCH_RUNS=20 (default) node bench/lifecycle.mjs
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from '../test/integration/registry-harness.js';
import { CLEAN_PATH, asUser, hasCommand, installCopy, lookupUser, printTable, timeCommand, type Timing, type User } from './lib.mjs';

const projectRoot = process.env['SKIFF_BENCH_ROOT'] ?? process.cwd();
const runs = Number(process.env['BENCH_RUNS'] ?? 20);
const isRoot = process.getuid?.() === 0;
const N = 50;
const MiB = 1024;

/** Podman 4.3.1, rootless, measured elsewhere on this machine kind (issue 4): NOT measured here. */
const PODMAN_REFERENCE = {
  runRmMs: 205,
  nodeMs: 30,
  start50Ms: 8500,
  conmonPssMiB: 0.4,
  rm50Ms: 81_000,
  rm50T0Ms: 3100,
  ps50Ms: 112,
} as const;

/** Issue 4's targets for skiff. */
const TARGETS = {
  runFasterThanPodman: 3,
  runOverNodeMs: 25,
  startsFasterThanPodman: 3,
  monitorPssMiB: 0.3,
  rm50Ms: 2000,
  psOverNodeMs: 30,
} as const;

interface Mode {
  name: 'root' | 'rootless';
  user: User | null;
  /** A directory the mode's user owns: its store, rootfs and Podman's store. */
  dir: string;
  store: string;
  rootfs: string;
  env: Record<string, string>;
}

interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs argv as the mode's user in a clean environment; resolves to its output and wall time. */
function exec(mode: Mode, argv: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Result {
  const full = asUser(mode.user, argv);
  const start = process.hrtime.bigint();
  const r = spawnSync(full[0]!, full.slice(1), {
    env: { PATH: CLEAN_PATH, ...mode.env, ...(opts.env ?? {}) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? 120_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms };
}

function must(mode: Mode, argv: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Result {
  const r = exec(mode, argv, opts);
  if (r.status !== 0) {
    throw new Error(`${mode.name}: ${argv.join(' ')} failed (${r.status ?? r.signal}${r.signal === 'SIGKILL' ? ', timed out?' : ''}): ${(r.stderr.trim() || r.stdout.trim()).slice(-1000)}`);
  }
  return r;
}

function makeDirFor(dir: string, user: User | null, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
  chmodSync(dir, mode);
  if (user) chownSync(dir, user.uid, user.gid);
}

function pssKiB(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface PidFile {
  Pid: number;
  MonitorPid: number;
}

function readPidFile(store: string, id: string): PidFile | undefined {
  try {
    return JSON.parse(readFileSync(path.join(store, 'containers', id, 'pid.json'), 'utf8')) as PidFile;
  } catch {
    return undefined;
  }
}

/** The ids of every container of a store, from its directory (the bench can read it: it is root, or the owner). */
function containerIds(store: string): string[] {
  const dir = path.join(store, 'containers');
  try {
    return readdirSync(dir).filter((x) => /^[0-9a-f]{64}$/.test(x));
  } catch {
    return [];
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${ms.toFixed(1)} ms`;

// ---------------------------------------------------------------------------
// Podman (only when installed): a store of its own in the mode's directory.

interface Podman {
  prefix: string[];
  env: Record<string, string>;
  dir: string;
}

function podmanFor(mode: Mode): Podman {
  const dir = path.join(mode.dir, 'podman');
  makeDirFor(dir, mode.user, 0o700);
  makeDirFor(path.join(dir, 'xdg'), mode.user, 0o700);
  return {
    dir,
    // Rootless Podman here needs runc (its default crun is not installed).
    prefix: ['podman', '--root', path.join(dir, 'storage'), '--runroot', path.join(dir, 'run'), '--runtime', 'runc'],
    env: { XDG_RUNTIME_DIR: path.join(dir, 'xdg') },
  };
}

// ---------------------------------------------------------------------------

interface ModeResults {
  mode: Mode;
  pullMs: number;
  node1: Timing;
  runImage: Timing;
  start50Ms: number;
  pssKiB: number[];
  node4: Timing;
  ps: Timing;
  rmMs: number;
}

function benchMode(mode: Mode, skiff: string, ref: string): ModeResults {
  const who = mode.user ? `${mode.name} (${mode.user.name})` : mode.name;
  console.log(`\n===== ${who}: store ${mode.store} =====`);
  const skiffEnv = { SKIFF_ROOT: mode.store };
  const time = (argv: string[], env: Record<string, string> = {}) => timeCommand(asUser(mode.user, argv), { runs, env: { ...mode.env, ...env } });

  // A warm store: the image pulled once (plain HTTP to the loopback registry, no TLS attempt).
  const pulled = must(mode, [skiff, 'pull', '-q', '--tls-verify=false', ref], { env: skiffEnv });
  console.log(`skiff pull ${ref} into the fresh store: ${fmtMs(pulled.ms)} (not a benchmark: makes the store warm)`);

  let podman: Podman | undefined;
  if (hasCommand('podman')) {
    try {
      podman = podmanFor(mode);
      const p = must(mode, [...podman.prefix, 'pull', '-q', '--tls-verify=false', ref], { env: podman.env });
      console.log(`podman pull into its own store: ${fmtMs(p.ms)}`);
    } catch (err) {
      console.log(`podman: skipped (${err instanceof Error ? err.message : String(err)})`);
      podman = undefined;
    }
  }

  // (1)
  const rows: Array<{ name: string } & Timing> = [];
  const row = (name: string, t: Timing) => {
    rows.push({ name, ...t });
    return t;
  };
  const node1 = row('node -e 0', time(['node', '-e', '0']));
  const runImage = row('skiff run --rm IMAGE true', time([skiff, 'run', '--rm', ref, 'true'], skiffEnv));
  row('skiff run --rm --rootfs ROOTFS true', time([skiff, 'run', '--rm', '--rootfs', mode.rootfs, 'true'], skiffEnv));
  row('unshare -r true (kernel baseline)', time(['unshare', '-r', 'true']));
  if (podman) {
    try {
      row('podman run --rm IMAGE true', time([...podman.prefix, 'run', '--rm', ref, 'true'], podman.env));
    } catch (err) {
      console.log(`podman run: skipped (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  printTable(`(1) run --rm true, ${who} (${runs} runs each, after 3 warm-up runs; IMAGE = ${ref})`, rows, 'node -e 0');
  console.log(`skiff run --rm IMAGE true: ${signed(runImage.median - node1.median)} over node -e 0 (median)`);

  // (2) Started one after the other, as a user would in a shell loop.
  const loop = `for i in $(seq ${N}); do ${skiff} run -d ${ref} sleep 600 || exit 1; done`;
  const started = must(mode, ['sh', '-c', loop], { env: skiffEnv, timeoutMs: 300_000 });
  const ids = started.stdout.split('\n').filter((x) => /^[0-9a-f]{64}$/.test(x));
  if (ids.length !== N) throw new Error(`${mode.name}: ${N} run -d printed ${ids.length} container ids: ${started.stdout.slice(0, 500)}`);
  const pss: number[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const pid = readPidFile(mode.store, id);
    const kib = pid ? pssKiB(pid.MonitorPid) : undefined;
    if (kib === undefined) missing.push(id.slice(0, 12));
    else pss.push(kib);
  }
  pss.sort((a, b) => a - b);
  console.log(`\n(2) ${N} detached \`run -d IMAGE sleep 600\`, one after the other, ${who}:`);
  console.log(`    ${fmtMs(started.ms)} to start all (${(started.ms / N).toFixed(1)} ms each)`);
  if (pss.length > 0) {
    console.log(
      `    monitor PSS (pid.json MonitorPid, smaps_rollup): median ${median(pss)} KiB = ${(median(pss) / MiB).toFixed(2)} MiB ` +
        `(min ${pss[0]} KiB, max ${pss[pss.length - 1]} KiB, ${pss.length} monitors)`,
    );
  }
  if (missing.length > 0) console.log(`    NOTE: no live monitor (pid.json MonitorPid) for ${missing.length} of the ${N}: ${missing.slice(0, 5).join(' ')}${missing.length > 5 ? ' …' : ''}`);

  // (4)
  const running = must(mode, [skiff, 'ps', '-q', '--no-trunc'], { env: skiffEnv }).stdout.split('\n').filter(Boolean).length;
  if (running !== N) console.log(`    NOTE: skiff ps lists ${running} running containers, expected ${N}`);
  const psRows: Array<{ name: string } & Timing> = [];
  const node4 = timeCommand(asUser(mode.user, ['node', '-e', '0']), { runs, env: mode.env });
  psRows.push({ name: 'node -e 0', ...node4 });
  const ps = time([skiff, 'ps'], skiffEnv);
  psRows.push({ name: `skiff ps (${running} running)`, ...ps });
  psRows.push({ name: `skiff ps -a (${running} running)`, ...time([skiff, 'ps', '-a'], skiffEnv) });
  printTable(`(4) ps with ${N} containers, ${who} (${runs} runs each)`, psRows, 'node -e 0');

  // (3)
  const removed = must(mode, [skiff, 'rm', '-f', ...ids], { env: skiffEnv, timeoutMs: 300_000 });
  const left = must(mode, [skiff, 'ps', '-a', '-q'], { env: skiffEnv }).stdout.trim();
  console.log(`\n(3) rm -f of ${N} running containers in one call, ${who}: ${fmtMs(removed.ms)}`);
  if (left) console.log(`    NOTE: containers left after rm -f: ${left.split('\n').length}`);

  return { mode, pullMs: pulled.ms, node1, runImage, start50Ms: started.ms, pssKiB: pss, node4, ps, rmMs: removed.ms };
}

function printSummary(results: ModeResults[]): void {
  const P = PODMAN_REFERENCE;
  const T = TARGETS;
  const runTarget = P.runRmMs / T.runFasterThanPodman;
  console.log('\n===== summary against issue 4 =====');
  console.log(
    `Podman 4.3.1 rootless reference figures from the issue (NOT measured here; same machine kind): run --rm ~${P.runRmMs} ms median ` +
      `(node -e 0 ~${P.nodeMs} ms there); ${N} detached starts ${fmtMs(P.start50Ms)}; conmon ~${P.conmonPssMiB} MiB PSS; ` +
      `rm -f of ${N}: ${fmtMs(P.rm50Ms)} (-t 0: ${fmtMs(P.rm50T0Ms)}); ps with ${N}: ${P.ps50Ms} ms.`,
  );
  const nodeHere = results.map((r) => `${r.node1.median.toFixed(0)} ms (${r.mode.name})`).join(', ');
  console.log(
    `node -e 0 takes ${nodeHere} here against ~${P.nodeMs} ms where the reference was measured: compare the "+ms over node -e 0" ` +
      'columns first; absolute times move with the machine and its load.',
  );
  const head = `${'what'.padEnd(26)} ${'mode'.padEnd(9)} ${'skiff (here)'.padStart(22)} ${'Podman ref (NOT measured)'.padStart(26)}  ${'target'.padEnd(40)} met?`;
  console.log(head);
  const line = (what: string, mode: string, value: string, ref: string, target: string, met: boolean) =>
    console.log(`${what.padEnd(26)} ${mode.padEnd(9)} ${value.padStart(22)} ${ref.padStart(26)}  ${target.padEnd(40)} ${met ? 'yes' : 'no'}`);
  for (const r of results) {
    const m = r.mode.name;
    const overNode = r.runImage.median - r.node1.median;
    line(
      'run --rm IMAGE true',
      m,
      `${r.runImage.median.toFixed(1)} ms (${signed(overNode)})`,
      `~${P.runRmMs} ms (+${P.runRmMs - P.nodeMs} ms)`,
      `≤ ${runTarget.toFixed(0)} ms (3× Podman), ≤ node +${T.runOverNodeMs} ms`,
      r.runImage.median <= runTarget && overNode <= T.runOverNodeMs,
    );
    const startTarget = P.start50Ms / T.startsFasterThanPodman;
    line(`${N} detached starts`, m, `${fmtMs(r.start50Ms)} (${(P.start50Ms / r.start50Ms).toFixed(1)}× faster)`, fmtMs(P.start50Ms), `≤ ${fmtMs(startTarget)} (3× faster)`, r.start50Ms <= startTarget);
    if (r.pssKiB.length > 0) {
      const pss = median(r.pssKiB) / MiB;
      line('monitor PSS (median)', m, `${pss.toFixed(2)} MiB`, `conmon ~${P.conmonPssMiB} MiB`, `≤ ${T.monitorPssMiB} MiB`, pss <= T.monitorPssMiB);
    }
    line(`rm -f of ${N}`, m, fmtMs(r.rmMs), `${fmtMs(P.rm50Ms)} (-t 0: ${fmtMs(P.rm50T0Ms)})`, `< ${fmtMs(T.rm50Ms)}`, r.rmMs < T.rm50Ms);
    const psOver = r.ps.median - r.node4.median;
    line(`ps with ${N}`, m, `${r.ps.median.toFixed(1)} ms (${signed(psOver)})`, `${P.ps50Ms} ms`, `≤ node -e 0 +${T.psOverNodeMs} ms`, psOver <= T.psOverNodeMs);
  }
  console.log('("met?" compares medians of this run, on a possibly busy machine: informative only, nothing is asserted.)');
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const t0 = Date.now();
  const work = mkdtempSync('/tmp/skiff-bench-life-');
  chmodSync(work, 0o755);
  let reg: TestRegistry | undefined;
  let skiff: string | undefined;
  const modes: Mode[] = [];
  // One cleanup, however many times it is asked for (a signal during the finally's, say).
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= cleanupOnce());

  const cleanupOnce = async () => {
    for (const mode of modes) {
      // Every container of the store, running or not, then any process pid.json still names.
      if (skiff && existsSync(mode.store)) {
        const ids = containerIds(mode.store);
        if (ids.length > 0) {
          const r = exec(mode, [skiff, 'rm', '-f', ...ids], { env: { SKIFF_ROOT: mode.store }, timeoutMs: 300_000 });
          if (r.status !== 0) console.error(`cleanup: ${mode.name}: skiff rm -f failed (${r.status ?? r.signal}): ${r.stderr.trim()}`);
        }
        for (const id of ids) {
          const pid = readPidFile(mode.store, id);
          for (const p of [pid?.Pid, pid?.MonitorPid]) {
            if (!p) continue;
            try {
              process.kill(p, 'SIGKILL');
              console.error(`cleanup: ${mode.name}: killed leftover process ${p} of container ${id.slice(0, 12)}`);
            } catch {
              // Gone, as it should be.
            }
          }
        }
      }
    }
    await reg?.stop();
    reg = undefined;
    // Rootless stores may hold sub-ID-owned files: root removes them directly, a user from a user namespace
    // (enough here: every file of the image and the containers belongs to the user's mapped root).
    if (isRoot) rmSync(work, { recursive: true, force: true });
    else spawnSync('unshare', ['-r', 'rm', '-rf', work], { stdio: 'inherit' });
    if (existsSync(work)) {
      const podmanDirs = modes.map((m) => path.join(m.dir, 'podman')).filter(existsSync);
      for (const d of podmanDirs) spawnSync('podman', ['unshare', 'rm', '-rf', d], { stdio: 'ignore' });
      rmSync(work, { recursive: true, force: true });
    }
  };
  const onSignal = (s: NodeJS.Signals) => {
    void cleanup().finally(() => process.exit(s === 'SIGINT' ? 130 : 143));
  };
  // `on`, not `once`: a second Ctrl-C must not kill the process during its cleanup.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    skiff = installCopy(projectRoot, path.join(work, 'skiff'));
    const script = path.join(work, 'make-busybox-rootfs.sh');
    cpSync(path.join(projectRoot, 'scripts/make-busybox-rootfs.sh'), script);
    chmodSync(script, 0o755);

    const user = isRoot ? lookupUser(process.env['SKIFF_BENCH_USER'] ?? 'skifftest') : null;
    const addMode = (name: Mode['name'], u: User | null, home: string) => {
      const dir = path.join(work, name);
      makeDirFor(dir, u);
      const mode: Mode = { name, user: u, dir, store: path.join(dir, 'store'), rootfs: path.join(dir, 'rootfs'), env: { HOME: home } };
      makeDirFor(mode.store, u);
      modes.push(mode);
      // A --rootfs busybox per mode, made by its user (the --rootfs rows; containers may write into it).
      must(mode, ['sh', script, mode.rootfs]);
    };
    const home = process.env['HOME'] ?? '/';
    addMode(isRoot ? 'root' : 'rootless', null, home);
    if (user) addMode('rootless', user, user.home);
    else if (isRoot) console.log(`(no user ${process.env['SKIFF_BENCH_USER'] ?? 'skifftest'}: rootless runs skipped; scripts/create-test-user.sh makes one)`);

    console.log(
      `bench/lifecycle: ${runs} runs per timing, ${N} containers; node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ` +
        `podman ${hasCommand('podman') ? 'installed' : 'not installed (its rows are skipped)'}`,
    );

    // The image: a pristine busybox rootfs (the --rootfs ones may be written to), pushed as one gzip layer.
    const imageRootfs = path.join(work, 'image-rootfs');
    must(modes[0]!, ['sh', script, imageRootfs]);
    const t = Date.now();
    reg = await startRegistry();
    const pushed = await pushImage(reg, 'busybox', 'latest', {
      format: 'docker',
      layers: [{ entries: busyboxLayer(imageRootfs), compression: 'gzip' }],
      config: { Cmd: ['sh'] },
    });
    const ref = `${reg.host}/busybox:latest`;
    const size = pushed.layers.reduce((n, l) => n + l.size, 0);
    console.log(`registry ${reg.url} (docker-registry); IMAGE = ${ref}: 1 layer, ${(size / 1e6).toFixed(2)} MB gzip, pushed in ${Date.now() - t} ms`);

    const results = modes.map((mode) => benchMode(mode, skiff!, ref));
    printSummary(results);
    console.log(`\ntotal ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(`bench/lifecycle: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
