// Issue 12's benchmark: `FROM busybox`, two RUNs and a COPY of 10 MiB,
//  cold   the build cache empty (a fresh store each run), the base image present;
//  cached every step in the cache;
// against `node -e 0` and, when installed, rootless (and root) `podman build`
// with its own store, in the same run. The busybox image comes from the test
// registry (Debian's docker-registry on 127.0.0.1). As root it runs as root and
// rootless (SKIFF_BENCH_USER, default skifftest). Each row has the wall time
// and the CPU time (user + system of the command and its children, through
// GNU time): on a loaded machine the wall time says little, the CPU time
// still compares the work. With SKIFF_BENCH_BEFORE set to a built checkout of
// an earlier skiff, its rows come too, measured in the same runs. Timings are
// printed, never asserted. Run by bench/build.mjs (this file is bundled first).
//
//   BENCH_RUNS=10 (default) node bench/build.mjs
//   SKIFF_BENCH_BEFORE=/path/to/old/checkout BENCH_RUNS=15 npm run bench build
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from '../test/integration/registry-harness.js';
import { CLEAN_PATH, asUser, hasCommand, installCopy, lookupUser, type User } from './lib.mjs';

const projectRoot = process.env['SKIFF_BENCH_ROOT'] ?? process.cwd();
const runs = Number(process.env['BENCH_RUNS'] ?? 10);
const isRoot = process.getuid?.() === 0;
const before = process.env['SKIFF_BENCH_BEFORE'];
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Podman on the reference machine (issue 12): NOT measured here. */
const PODMAN_REFERENCE = { coldMs: 1340, cachedMs: 330 } as const;

interface Mode {
  name: 'root' | 'rootless';
  user: User | null;
  dir: string;
  env: Record<string, string>;
}

interface Sample {
  ms: number;
  /** CPU ms (user + system, the command and its children); NaN without GNU time. */
  cpu: number;
}

function exec(mode: Mode, argv: string[], env: Record<string, string> = {}): { status: number | null; stderr: string } & Sample {
  const full = asUser(mode.user, gnuTime ? [gnuTime, '-f', 'cpu %U %S', ...argv] : argv);
  const start = process.hrtime.bigint();
  const r = spawnSync(full[0]!, full.slice(1), { env: { PATH: CLEAN_PATH, ...mode.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  let stderr = r.stderr ?? '';
  const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  if (m) stderr = stderr.slice(0, m.index);
  return { status: r.status, stderr, ms, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

function must(mode: Mode, argv: string[], env: Record<string, string> = {}): Sample {
  const r = exec(mode, argv, env);
  if (r.status !== 0) throw new Error(`${mode.name}: ${argv.join(' ')} failed (${r.status}): ${r.stderr.trim().slice(-800)}`);
  return { ms: r.ms, cpu: r.cpu };
}

function makeDirFor(dir: string, user: User | null, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
  chmodSync(dir, mode);
  if (user) chownSync(dir, user.uid, user.gid);
}

/** Podman's short-named directories, removed at the end. */
const podmanDirs: string[] = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row {
  name: string;
  samples: Sample[];
}

const wall = (r: Row) => median(r.samples.map((s) => s.ms));
const cpu = (r: Row) => median(r.samples.map((s) => s.cpu));

function printRows(title: string, rows: Row[], node: Row): void {
  console.log(`\n${title}`);
  console.log(`${'what'.padEnd(44)} ${'min'.padStart(8)} ${'median'.padStart(8)}   vs node -e 0 ${'cpu med'.padStart(10)}   vs node -e 0`);
  for (const r of rows) {
    const m = wall(r);
    const c = cpu(r);
    const cpuText = Number.isNaN(c) ? '' : `${c.toFixed(0).padStart(7)} ms   +${(c - cpu(node)).toFixed(0)} ms`;
    console.log(`${r.name.padEnd(44)} ${Math.min(...r.samples.map((s) => s.ms)).toFixed(0).padStart(6)} ms ${m.toFixed(0).padStart(6)} ms   ${`+${(m - wall(node)).toFixed(0)} ms`.padEnd(12)} ${cpuText}`);
  }
}

function benchMode(mode: Mode, skiff: string, old: string | undefined, ref: string): void {
  console.log(`\n===== ${mode.user ? `rootless (${mode.user.name})` : mode.name} =====`);
  const ctx = path.join(mode.dir, 'ctx');
  makeDirFor(ctx, mode.user);
  writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${ref}\nRUN echo one > /one\nRUN echo two > /two\nCOPY data.bin /data.bin\n`);
  const data = Buffer.alloc(10 << 20);
  randomFillSync(data);
  writeFileSync(path.join(ctx, 'data.bin'), data);
  if (mode.user) for (const f of ['Dockerfile', 'data.bin']) chownSync(path.join(ctx, f), mode.user.uid, mode.user.gid);

  const node: Row = { name: 'node -e 0', samples: [] };
  for (let i = 0; i < runs + 3; i++) {
    const sample = must(mode, ['node', '-e', '0']);
    if (i >= 3) node.samples.push(sample);
  }

  // skiff: cold = a store with only the base image (copied from a pulled one each run), then cached in the same store.
  const base = path.join(mode.dir, 'base-store');
  makeDirFor(base, mode.user);
  must(mode, [skiff, 'pull', '-q', '--tls-verify=false', ref], { SKIFF_ROOT: base });
  const variants = [{ skiff, label: 'skiff' }, ...(old ? [{ skiff: old, label: 'skiff (before)' }] : [])].map((v) => ({
    ...v,
    cold: { name: `${v.label} build, cold (base present)`, samples: [] } as Row,
    cached: { name: `${v.label} build, fully cached`, samples: [] } as Row,
  }));
  for (let i = 0; i < runs; i++) {
    for (const [n, v] of variants.entries()) {
      const store = path.join(mode.dir, `store-${n}-${i}`);
      // cp -a as the mode's user keeps the rootless layers' sub-ID owners readable as they are.
      must(mode, ['cp', '-a', base, store]);
      v.cold.samples.push(must(mode, [v.skiff, 'build', '-q', '-t', 'bench', ctx], { SKIFF_ROOT: store }));
      v.cached.samples.push(must(mode, [v.skiff, 'build', '-q', '-t', 'bench', ctx], { SKIFF_ROOT: store }));
    }
  }
  const rows: Row[] = [node, ...variants.flatMap((v) => [v.cold, v.cached])];
  const cold = variants[0]!.cold;
  const cached = variants[0]!.cached;

  if (hasCommand('podman')) {
    // Podman refuses a runroot longer than 50 characters: a short directory of its own.
    const pdir = mkdtempSync('/tmp/pb-');
    makeDirFor(pdir, mode.user, 0o700);
    podmanDirs.push(pdir);
    makeDirFor(path.join(pdir, 'xdg'), mode.user, 0o700);
    const penv = { XDG_RUNTIME_DIR: path.join(pdir, 'xdg') };
    const podman = (root: string) => ['podman', '--root', path.join(pdir, root), '--runroot', path.join(pdir, `${root}-run`), '--runtime', 'runc'];
    try {
      must(mode, [...podman('base'), 'pull', '-q', '--tls-verify=false', ref], penv);
      const pcold: Sample[] = [];
      const pcached: Sample[] = [];
      for (let i = 0; i < runs; i++) {
        // Cold: the base image pulled into a fresh store first (not timed), then the build.
        const root = `s${i}`;
        must(mode, [...podman(root), 'pull', '-q', '--tls-verify=false', ref], penv);
        pcold.push(must(mode, [...podman(root), 'build', '-q', '--tls-verify=false', '-t', 'bench', ctx], penv));
        pcached.push(must(mode, [...podman(root), 'build', '-q', '--tls-verify=false', '-t', 'bench', ctx], penv));
      }
      rows.push({ name: 'podman build, cold (base present)', samples: pcold }, { name: 'podman build, fully cached', samples: pcached });
    } catch (err) {
      console.log(`podman: skipped (${err instanceof Error ? err.message.slice(0, 300) : String(err)})`);
    }
  }
  printRows(`build: FROM busybox, 2 RUN, COPY 10 MiB; ${runs} runs`, rows, node);
  const pc = rows.find((r) => r.name.startsWith('podman build, cold'));
  const pk = rows.find((r) => r.name.startsWith('podman build, fully'));
  if (pc && pk) {
    console.log(
      `cold: skiff/podman = ${(wall(cold) / wall(pc)).toFixed(2)} wall, ${(cpu(cold) / cpu(pc)).toFixed(2)} CPU (target at most 0.5); ` +
        `cached: skiff/podman = ${(wall(cached) / wall(pk)).toFixed(2)} wall, ${(cpu(cached) / cpu(pk)).toFixed(2)} CPU`,
    );
  }
  console.log(`cached over node -e 0: +${(wall(cached) - wall(node)).toFixed(0)} ms wall, +${(cpu(cached) - cpu(node)).toFixed(0)} ms CPU (target at most +60 ms); reference machine podman: ${PODMAN_REFERENCE.coldMs} ms cold, ${PODMAN_REFERENCE.cachedMs} ms cached (not measured here)`);
}

async function main(): Promise<void> {
  const work = mkdtempSync('/tmp/skiff-bench-build-');
  chmodSync(work, 0o755);
  let reg: TestRegistry | undefined;
  try {
    const skiff = installCopy(projectRoot, path.join(work, 'skiff'));
    if (before && !existsSync(path.join(before, 'dist'))) throw new Error(`SKIFF_BENCH_BEFORE=${before} holds no built skiff (npm run build there)`);
    const old = before ? installCopy(before, path.join(work, 'skiff-before')) : undefined;
    const script = path.join(work, 'make-busybox-rootfs.sh');
    cpSync(path.join(projectRoot, 'scripts/make-busybox-rootfs.sh'), script);
    const rootfs = path.join(work, 'image-rootfs');
    spawnSync('sh', [script, rootfs], { stdio: 'inherit' });
    reg = await startRegistry();
    await pushImage(reg, 'busybox', 'latest', { format: 'oci', layers: [{ entries: busyboxLayer(rootfs), compression: 'gzip' }], config: { Cmd: ['sh'] } });
    const ref = `${reg.host}/busybox:latest`;
    console.log(
      `bench/build: node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; podman ${hasCommand('podman') ? 'installed' : 'not installed'}; ` +
        `before: ${before ?? 'not given (set SKIFF_BENCH_BEFORE to a built checkout of an earlier skiff)'}`,
    );
    const modes: Mode[] = [];
    const addMode = (name: Mode['name'], user: User | null, home: string) => {
      const dir = path.join(work, name);
      makeDirFor(dir, user);
      modes.push({ name, user, dir, env: { HOME: home } });
    };
    addMode(isRoot ? 'root' : 'rootless', null, process.env['HOME'] ?? '/');
    const user = isRoot ? lookupUser(process.env['SKIFF_BENCH_USER'] ?? 'skifftest') : null;
    if (user) addMode('rootless', user, user.home);
    for (const m of modes) benchMode(m, skiff, old, ref);
    console.log(`\nload average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    await reg?.stop();
    if (isRoot) rmSync(work, { recursive: true, force: true });
    else spawnSync('unshare', ['-r', 'rm', '-rf', work], { stdio: 'inherit' });
    for (const d of podmanDirs) {
      spawnSync('podman', ['unshare', 'rm', '-rf', d], { stdio: 'ignore' });
      rmSync(d, { recursive: true, force: true });
    }
  }
}

await main();
