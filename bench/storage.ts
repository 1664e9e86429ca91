// Issue 16's storage benchmark (`npm run bench storage`): the vfs driver
// (a plain copy of the image per container) against overlay, on a
// Debian-sized image (bench/images.ts: ~6,900 files of this host's /usr, on a
// busybox layer): a cold `pull` into a fresh store, `run --rm IMAGE true`, and
// the disk a created container takes, root and rootless.
//
// Baselines measured in the same run: `node -e 0`, and when it is installed
// rootless Podman (`--runtime runc`, its own stores) with `--storage-driver
// overlay` and `vfs`. Timings are printed, never asserted. Run by
// bench/storage.mjs (bundled first).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from '../test/integration/registry-harness.js';
import { debianLikeLayer } from './images.js';
import { CLEAN_PATH, asUser, hasCommand, installCopy, lookupUser, printTable, timeCommand, type Timing, type User } from './lib.mjs';

const projectRoot = process.env['SKIFF_BENCH_ROOT'] ?? process.cwd();
const runs = Number(process.env['BENCH_RUNS'] ?? 10);
const pulls = Number(process.env['BENCH_PULLS'] ?? 3);
const isRoot = process.getuid?.() === 0;
const DRIVERS = ['overlay', 'vfs'] as const;

interface Mode {
  name: 'root' | 'rootless';
  user: User | null;
  dir: string;
  env: Record<string, string>;
}

function must(mode: Mode, argv: string[], env: Record<string, string> = {}): string {
  const full = asUser(mode.user, argv);
  const r = spawnSync(full[0]!, full.slice(1), { env: { PATH: CLEAN_PATH, ...mode.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${mode.name}: ${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim().slice(-800)}`);
  return r.stdout;
}

function makeDirFor(dir: string, user: User | null, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
  chmodSync(dir, mode);
  if (user) chownSync(dir, user.uid, user.gid);
}

/** Bytes under dir as `du -sb` counts them (root reads any store). */
function du(dir: string): number {
  const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0]);
}

let stores = 0;
function freshStore(mode: Mode): string {
  const store = path.join(mode.dir, `store${stores++}`);
  makeDirFor(store, mode.user, 0o700);
  return store;
}

function benchMode(mode: Mode, skiff: string, ref: string): void {
  const who = mode.user ? `${mode.name} (${mode.user.name})` : mode.name;
  const time = (argv: string[], env: Record<string, string>, n = runs, warmup = 2): Timing => timeCommand(asUser(mode.user, argv), { runs: n, warmup, env: { ...mode.env, ...env } });
  const rows: Array<{ name: string } & Timing> = [];
  rows.push({ name: 'node -e 0', ...time(['node', '-e', '0'], {}, 20, 3) });
  const disk: string[] = [];
  for (const driver of DRIVERS) {
    // Cold pulls: a fresh store each (the first pull into a store also records its driver).
    const pullTimes: number[] = [];
    for (let i = 0; i < pulls; i++) {
      const store = freshStore(mode);
      pullTimes.push(time([skiff, '--storage-driver', driver, 'pull', '-q', '--tls-verify=false', ref], { SKIFF_ROOT: store }, 1, 0).median);
    }
    pullTimes.sort((a, b) => a - b);
    rows.push({ name: `skiff pull (cold), ${driver}`, min: pullTimes[0]!, median: pullTimes[Math.floor(pullTimes.length / 2)]!, runs: pulls });
    const store = freshStore(mode);
    const env = { SKIFF_ROOT: store };
    must(mode, [skiff, '--storage-driver', driver, 'pull', '-q', '--tls-verify=false', ref], env);
    rows.push({ name: `skiff run --rm IMAGE true, ${driver}`, ...time([skiff, 'run', '--rm', '--network', 'none', ref, 'true'], env) });
    const id = must(mode, [skiff, 'create', '--network', 'none', ref, 'true'], env).trim();
    disk.push(`${driver} ${(du(path.join(store, 'containers', id)) / 1e6).toFixed(1)} MB`);
    must(mode, [skiff, 'rm', id], env);
  }
  if (hasCommand('podman') && mode.user) {
    for (const driver of DRIVERS) {
      const pdir = mkdtempSync('/tmp/ps-');
      makeDirFor(pdir, mode.user, 0o700);
      makeDirFor(path.join(pdir, 'xdg'), mode.user, 0o700);
      const penv = { XDG_RUNTIME_DIR: path.join(pdir, 'xdg') };
      const p = (...args: string[]) => ['podman', '--root', path.join(pdir, 'r'), '--runroot', path.join(pdir, 'rr'), '--storage-driver', driver, '--runtime', 'runc', ...args];
      try {
        rows.push({ name: `podman pull (cold), ${driver}`, ...time(p('pull', '-q', '--tls-verify=false', ref), penv, 1, 0) });
        rows.push({ name: `podman run --rm IMAGE true, ${driver}`, ...time(p('run', '--rm', '--network', 'none', ref, 'true'), penv) });
      } catch (err) {
        console.log(`podman ${driver}: skipped (${err instanceof Error ? err.message.slice(0, 300) : String(err)})`);
      } finally {
        const u = asUser(mode.user, ['podman', 'unshare', 'rm', '-rf', pdir]);
        spawnSync(u[0]!, u.slice(1), { stdio: 'ignore', env: { PATH: CLEAN_PATH, ...mode.env, ...penv } });
        rmSync(pdir, { recursive: true, force: true });
      }
    }
  }
  printTable(`storage drivers on a Debian-sized image, ${who} (run: ${runs} runs after 2 warm-up; pull: ${pulls} cold pulls, fresh stores)`, rows, 'node -e 0');
  const med = (name: string) => rows.find((r) => r.name === name)?.median ?? NaN;
  console.log(
    `vfs against overlay (medians): pull ${(med('skiff pull (cold), vfs') / med('skiff pull (cold), overlay')).toFixed(2)}×, ` +
      `run --rm +${(med('skiff run --rm IMAGE true, vfs') - med('skiff run --rm IMAGE true, overlay')).toFixed(0)} ms; a created container's directory: ${disk.join(', ')}`,
  );
}

async function main(): Promise<void> {
  const work = mkdtempSync('/tmp/skiff-bench-storage-');
  chmodSync(work, 0o755);
  let reg: TestRegistry | undefined;
  try {
    const skiff = installCopy(projectRoot, path.join(work, 'skiff'));
    const modes: Mode[] = [];
    const addMode = (name: Mode['name'], user: User | null, home: string) => {
      const dir = path.join(work, name);
      makeDirFor(dir, user);
      modes.push({ name, user, dir, env: { HOME: home } });
    };
    const wanted = (process.env['BENCH_MODES'] ?? 'root,rootless').split(',');
    if (!isRoot || wanted.includes('root')) addMode(isRoot ? 'root' : 'rootless', null, process.env['HOME'] ?? '/');
    const user = isRoot ? lookupUser(process.env['SKIFF_BENCH_USER'] ?? 'skifftest') : null;
    if (user && wanted.includes('rootless')) addMode('rootless', user, user.home);
    else if (isRoot && !user) console.log('(no test user: rootless runs skipped; scripts/create-test-user.sh makes one)');
    const deb = debianLikeLayer();
    console.log(`bench/storage: ${runs} runs per timing; node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; image: busybox + ${deb.entries.length} entries of ${deb.dirs.join(' ')}; podman ${hasCommand('podman') ? 'installed' : 'not installed'}`);
    reg = await startRegistry();
    const rootfs = path.join(work, 'image-rootfs');
    const script = path.join(work, 'make-busybox-rootfs.sh');
    cpSync(path.join(projectRoot, 'scripts/make-busybox-rootfs.sh'), script);
    must(modes[0]!, ['sh', script, rootfs]);
    await pushImage(reg, 'bench/debian', 'latest', {
      format: 'docker',
      layers: [
        { entries: busyboxLayer(rootfs), compression: 'gzip' },
        { entries: deb.entries, compression: 'gzip' },
      ],
      config: { Cmd: ['sh'] },
    });
    const ref = `${reg.host}/bench/debian:latest`;
    for (const mode of modes) benchMode(mode, skiff, ref);
    console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    await reg?.stop();
    try {
      if (isRoot) rmSync(work, { recursive: true, force: true });
      else spawnSync('unshare', ['-r', 'rm', '-rf', work], { stdio: 'inherit' });
    } catch (err) {
      console.error(`bench/storage: could not remove ${work}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(`bench/storage: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
