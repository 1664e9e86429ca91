// Issue 17's benchmark: `diff` and `ps -a --size` on a container that wrote
// 10,000 files (100 directories of 100), now that the helper walks its upper
// dir by fd (helpers-c/src/walk.c) instead of Node walking it by path (and,
// rootless, re-executing itself into a user namespace to do so).
//
// Baselines measured in the same run: `node -e 0`, and `du -sb` of the same
// upper dir (a native walk by path, as its owner). With SKIFF_BENCH_BEFORE set
// to a built checkout of an earlier skiff (bin/, dist/, helpers-c/skiff-helper),
// that build's `diff` and `ps -a --size` are timed too, on the same store and
// container: the before and after of the issue.
//
//   git worktree add /tmp/skiff-before 4d1d69c && (cd /tmp/skiff-before && npm ci && npm run build)
//   SKIFF_BENCH_BEFORE=/tmp/skiff-before BENCH_RUNS=15 npm run bench walks
//
// As root it runs as root and rootless (SKIFF_BENCH_USER, default skifftest).
// Timings are printed, never asserted. Run by bench/walks.mjs (bundled first).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from '../test/integration/registry-harness.js';
import { CLEAN_PATH, asUser, installCopy, lookupUser, printTable, timeCommand, type Timing, type User } from './lib.mjs';

const projectRoot = process.env['SKIFF_BENCH_ROOT'] ?? process.cwd();
const before = process.env['SKIFF_BENCH_BEFORE'];
const runs = Number(process.env['BENCH_RUNS'] ?? 10);
const isRoot = process.getuid?.() === 0;
const DIRS = 100;
const FILES_PER_DIR = 100;

interface Mode {
  name: 'root' | 'rootless';
  user: User | null;
  dir: string;
  store: string;
  env: Record<string, string>;
}

function must(mode: Mode, argv: string[], env: Record<string, string> = {}): string {
  const full = asUser(mode.user, argv);
  const r = spawnSync(full[0]!, full.slice(1), {
    env: { PATH: CLEAN_PATH, ...mode.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${mode.name}: ${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim().slice(-1000)}`);
  return r.stdout;
}

function makeDirFor(dir: string, user: User | null, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
  chmodSync(dir, mode);
  if (user) chownSync(dir, user.uid, user.gid);
}

function benchMode(mode: Mode, skiff: string, old: string | undefined, ref: string): void {
  const who = mode.user ? `${mode.name} (${mode.user.name})` : mode.name;
  const skiffEnv = { SKIFF_ROOT: mode.store };
  must(mode, [skiff, 'pull', '-q', '--tls-verify=false', ref], skiffEnv);
  // 10,000 files of a few bytes in 100 directories, and a changed file of the image.
  const fill = `for d in $(seq ${DIRS}); do mkdir -p /data/d$d; for f in $(seq ${FILES_PER_DIR}); do echo $d.$f > /data/d$d/f$f; done; done; echo changed >> /etc/motd; echo filled; exec sleep 600`;
  const id = must(mode, [skiff, 'run', '-d', ref, 'sh', '-c', fill], skiffEnv).trim();
  const deadline = Date.now() + 120_000;
  while (!must(mode, [skiff, 'logs', id], skiffEnv).includes('filled')) {
    if (Date.now() > deadline) throw new Error(`${mode.name}: the container did not write its files within 120 s`);
    spawnSync('sleep', ['0.2']);
  }
  const upper = path.join(mode.store, 'containers', id, 'upper');
  const changes = must(mode, [skiff, 'diff', id], skiffEnv).split('\n').filter(Boolean).length;
  const oldChanges = old ? must(mode, [old, 'diff', id], skiffEnv).split('\n').filter(Boolean).length : undefined;
  console.log(`\n===== ${who}: a container with ${DIRS * FILES_PER_DIR} files written; diff lists ${changes} changes${oldChanges !== undefined ? ` (before: ${oldChanges})` : ''} =====`);

  const time = (argv: string[], env: Record<string, string> = {}): Timing => timeCommand(asUser(mode.user, argv), { runs, env: { ...mode.env, ...env } });
  const rows: Array<{ name: string } & Timing> = [];
  const row = (name: string, t: Timing) => rows.push({ name, ...t });
  row('node -e 0', time(['node', '-e', '0']));
  row('du -sb UPPER (native walk by path)', time(['du', '-sb', upper]));
  if (old) row('skiff diff (before)', time([old, 'diff', id], skiffEnv));
  row('skiff diff (after: helper walk by fd)', time([skiff, 'diff', id], skiffEnv));
  if (old) row('skiff ps -a --size (before)', time([old, 'ps', '-a', '--size'], skiffEnv));
  row('skiff ps -a --size (after: helper walk by fd)', time([skiff, 'ps', '-a', '--size'], skiffEnv));
  printTable(`diff and ps -a --size, ${who} (${runs} runs each, after 3 warm-up runs)`, rows, 'node -e 0');
  const median = (name: string) => rows.find((r) => r.name.startsWith(name))?.median;
  for (const what of ['skiff diff', 'skiff ps -a --size']) {
    const b = median(`${what} (before)`);
    const a = median(`${what} (after`);
    if (b !== undefined && a !== undefined) console.log(`${what}: ${b.toFixed(1)} -> ${a.toFixed(1)} ms median (${(b / a).toFixed(2)}× faster)`);
  }
  must(mode, [skiff, 'rm', '-f', id], skiffEnv);
}

async function main(): Promise<void> {
  const work = mkdtempSync('/tmp/skiff-bench-walks-');
  chmodSync(work, 0o755);
  let reg: TestRegistry | undefined;
  try {
    const skiff = installCopy(projectRoot, path.join(work, 'skiff'));
    const old = before ? installCopy(before, path.join(work, 'skiff-before')) : undefined;
    if (before && !existsSync(path.join(before, 'dist'))) throw new Error(`SKIFF_BENCH_BEFORE=${before} holds no built skiff (npm run build there)`);
    const modes: Mode[] = [];
    const addMode = (name: Mode['name'], user: User | null, home: string) => {
      const dir = path.join(work, name);
      makeDirFor(dir, user);
      const mode: Mode = { name, user, dir, store: path.join(dir, 'store'), env: { HOME: home } };
      makeDirFor(mode.store, user, 0o700);
      modes.push(mode);
    };
    addMode(isRoot ? 'root' : 'rootless', null, process.env['HOME'] ?? '/');
    const user = isRoot ? lookupUser(process.env['SKIFF_BENCH_USER'] ?? 'skifftest') : null;
    if (user) addMode('rootless', user, user.home);
    else if (isRoot) console.log('(no test user: rootless runs skipped; scripts/create-test-user.sh makes one)');
    console.log(
      `bench/walks: ${runs} runs per timing; node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ` +
        `before: ${before ?? 'not given (set SKIFF_BENCH_BEFORE to a built checkout of an earlier skiff)'}`,
    );
    const script = path.join(work, 'make-busybox-rootfs.sh');
    cpSync(path.join(projectRoot, 'scripts/make-busybox-rootfs.sh'), script);
    const imageRootfs = path.join(work, 'image-rootfs');
    must(modes[0]!, ['sh', script, imageRootfs]);
    reg = await startRegistry();
    await pushImage(reg, 'busybox', 'latest', { format: 'docker', layers: [{ entries: busyboxLayer(imageRootfs), compression: 'gzip' }], config: { Cmd: ['sh'] } });
    const ref = `${reg.host}/busybox:latest`;
    for (const mode of modes) benchMode(mode, skiff, old, ref);
    console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    await reg?.stop();
    if (isRoot) rmSync(work, { recursive: true, force: true });
    else spawnSync('unshare', ['-r', 'rm', '-rf', work], { stdio: 'inherit' });
  }
}

main().catch((err: unknown) => {
  console.error(`bench/walks: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
