// Issue 14's benchmark: what the default seccomp filter costs.
// (1) `skiff run --rm --network none --rootfs busybox true` with the default
//     filter (precompiled by the build), without it (seccomp=unconfined), and
//     with --cap-add SYS_ADMIN (a filter the build did not precompile: the
//     compiler loads and runs), against `node -e 0`, and Podman's default and
//     unconfined; timed in turns (A B C A B C…) with no network program (pasta's
//     0.2-0.4 s start-up would drown a difference of a few ms);
// (2) 10^6 getppid() in a container (test/integration/probe.c), with and
//     without the filter, skiff and Podman;
// (3) the compiler alone in a fresh Node: load + resolve + compile.
// Root and rootless (SKIFF_BENCH_USER, default skifftest, when run as root).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_PATH, asUser, hasCommand, installCopy, lookupUser, printTable, timeInterleaved } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 30);
const loops = Number(process.env.BENCH_LOOPS ?? 1_000_000);
const work = mkdtempSync('/tmp/skiff-bench-');
chmodSync(work, 0o755);
const skiff = installCopy(root, path.join(work, 'skiff'));
const probe = path.join(work, 'probe');
execFileSync('cc', ['-O2', '-static', '-o', probe, path.join(root, 'test/integration/probe.c')]);

const isRoot = process.getuid() === 0;
const user = isRoot ? lookupUser(process.env.SKIFF_BENCH_USER ?? 'skifftest') : null;
const podman = hasCommand('podman');
const modes = [];
function makeRootfs(dir, owner) {
  const script = path.join(work, 'mk.sh');
  cpSync(path.join(root, 'scripts/make-busybox-rootfs.sh'), script);
  chmodSync(script, 0o755);
  const rootfs = path.join(dir, 'rootfs');
  const argv = asUser(owner, ['sh', script, rootfs]);
  execFileSync(argv[0], argv.slice(1));
  copyFileSync(probe, path.join(rootfs, 'probe'));
  chmodSync(path.join(rootfs, 'probe'), 0o755);
  if (owner) chownSync(path.join(rootfs, 'probe'), owner.uid, owner.gid);
  return rootfs;
}
if (isRoot) {
  const dir = path.join(work, 'root');
  mkdirSync(dir);
  modes.push({ name: 'root', user: null, rootfs: makeRootfs(dir, null) });
}
if (!isRoot || user) {
  const dir = path.join(work, 'user');
  mkdirSync(dir);
  if (user) chownSync(dir, user.uid, user.gid);
  modes.push({ name: 'rootless', user, rootfs: makeRootfs(dir, user) });
}

/** The probe's "getppid: N ns" over `loops` calls, median of five containers. */
function getppidCost(argv, env) {
  const ns = [];
  for (let i = 0; i < 5; i++) {
    const full = asUser(env.user, argv);
    const r = spawnSync(full[0], full.slice(1), { env: { PATH: CLEAN_PATH, ...env.vars }, encoding: 'utf8' });
    const m = /getppid: ([\d.]+) ns/.exec(r.stdout ?? '');
    if (!m) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    ns.push(Number(m[1]));
  }
  ns.sort((a, b) => a - b);
  return ns[2];
}

try {
  for (const mode of modes) {
    const store = path.join(path.dirname(mode.rootfs), 'store');
    mkdirSync(store, { recursive: true });
    if (mode.user) chownSync(store, mode.user.uid, mode.user.gid);
    const home = mode.user ? mode.user.home : '/root';
    const env = { SKIFF_ROOT: store, HOME: home };
    const run = (flags, cmd) => [skiff, 'run', '--rm', '--network', 'none', ...flags, '--rootfs', mode.rootfs, ...cmd];
    // Rootless Podman on this kind of host needs runc (design.md's machine notes).
    const pod = (flags, cmd) => ['podman', 'run', '--rm', '--network', 'none', ...(mode.user ? ['--runtime', 'runc'] : []), ...flags, '--rootfs', mode.rootfs, ...cmd];
    const commands = [
      ['node -e 0', ['node', '-e', '0']],
      ['skiff run --rm true (default filter)', run([], ['true'])],
      ['skiff run --rm true (seccomp=unconfined)', run(['--security-opt', 'seccomp=unconfined'], ['true'])],
      ['skiff run --rm true (--cap-add SYS_ADMIN: compiled)', run(['--cap-add', 'SYS_ADMIN'], ['true'])],
    ];
    // Root's Podman cannot start a container on this kind of host (runc may not raise its rlimits here): it is measured rootless, with runc.
    if (podman && mode.user) {
      commands.push(['podman run --rm true (default filter)', pod([], ['true'])]);
      commands.push(['podman run --rm true (seccomp=unconfined)', pod(['--security-opt', 'seccomp=unconfined'], ['true'])]);
    }
    const timings = timeInterleaved(commands.map(([, argv]) => ({ argv: asUser(mode.user, argv), env })), { runs });
    const rows = commands.map(([name], i) => ({ name, ...timings[i] }));
    printTable(`run, ${mode.name} (${runs} runs each)`, rows, 'node -e 0');

    const loop = ['/probe', 'getppid-loop', String(loops)];
    const costs = [
      ['skiff, default filter', getppidCost(run([], loop), { user: mode.user, vars: env })],
      ['skiff, seccomp=unconfined', getppidCost(run(['--security-opt', 'seccomp=unconfined'], loop), { user: mode.user, vars: env })],
    ];
    if (podman && mode.user) {
      costs.push(['podman, default filter', getppidCost(pod([], loop), { user: mode.user, vars: { HOME: home } })]);
      costs.push(['podman, seccomp=unconfined', getppidCost(pod(['--security-opt', 'seccomp=unconfined'], loop), { user: mode.user, vars: { HOME: home } })]);
    }
    console.log(`\n${loops} getppid() in a container, ${mode.name} (median of 5; ns per call)`);
    const base = costs[1][1];
    for (const [name, ns] of costs) console.log(`${name.padEnd(48)} ${ns.toFixed(1).padStart(8)}  (${ns - base >= 0 ? '+' : ''}${(ns - base).toFixed(1)} ns vs skiff unconfined)`);
  }

  // The compiler alone, in a fresh Node each time: what a run pays when the build did not precompile its filter.
  const lazy = path.join(path.dirname(skiff), '..', 'dist/lazy/seccomp.cjs');
  const script = `const t0=process.hrtime.bigint();const m=require(${JSON.stringify(lazy)});const t1=process.hrtime.bigint();const s=m.resolveDefaultSeccomp(['CAP_CHOWN','CAP_SYS_ADMIN'],'6.1');const b=m.compileSeccomp(s);const t2=process.hrtime.bigint();console.log(Number(t1-t0)/1e6, Number(t2-t1)/1e6, b.length/8)`;
  const samples = [];
  for (let i = 0; i < 15; i++) samples.push(execFileSync('node', ['-e', script], { env: { PATH: CLEAN_PATH }, encoding: 'utf8' }).trim().split(' ').map(Number));
  const med = (k) => samples.map((s) => s[k]).sort((a, b) => a - b)[7];
  console.log(`\ncompiler in a fresh node (median of 15): load ${med(0).toFixed(2)} ms, resolve + compile ${med(1).toFixed(2)} ms, ${samples[0][2]} instructions`);
} finally {
  if (isRoot) rmSync(work, { recursive: true, force: true });
  else execFileSync('unshare', ['-r', 'rm', '-rf', work]);
}
