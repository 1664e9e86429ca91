// Host escapes, each test named after its class (issue 17): a directory fd of
// the host as a container's working directory (runc's CVE-2024-21626); a
// container swapping a directory for a symlink to the host while the host
// walks its files (diff, ps --size, cp, export, rm); FIFOs and links to
// devices where those commands look. As root and as the unprivileged test
// user, a store per test.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skipTitle } from '../skip.js';
import { collect, integrationEnv, spawnSkiff, type Mode, type Result, describeModes } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { newStore } from './store-harness.js';
import { buildProbe } from './probe-harness.js';

const FIRST_FD = 3;
const LAST_FD = 20;
const fdNumbers = Array.from({ length: LAST_FD - FIRST_FD + 1 }, (_, i) => FIRST_FD + i);

/** A directory the mode's user owns, under the run's work directory. */
function ownedDir(mode: Mode, prefix: string): string {
  const dir = mkdtempSync(path.join(integrationEnv().workDir, prefix));
  chmodSync(dir, 0o700);
  if (mode.user) chownSync(dir, mode.user.uid, mode.user.gid);
  return dir;
}

/**
 * What each test runs against: its own store, an XDG_RUNTIME_DIR long enough
 * that the attach socket's path needs more than sun_path's 108 bytes (the
 * monitor then binds through a directory fd), and a sentinel directory of the
 * host holding a secret.
 */
function setup(mode: Mode) {
  const store = ownedDir(mode, 'store-');
  const runtime = path.join(ownedDir(mode, 'rt-'), 'a-runtime-directory-name-long-enough-for-the-attach-socket-path-to-pass-108-bytes');
  mkdirSync(runtime, { mode: 0o700 });
  if (mode.user) chownSync(runtime, mode.user.uid, mode.user.gid);
  const sentinel = ownedDir(mode, 'sentinel-');
  chmodSync(sentinel, 0o755);
  const secret = `host-secret-${process.pid}-${Date.now()}`;
  writeFileSync(path.join(sentinel, 'secret.txt'), `${secret}\n`);
  return { env: { SKIFF_ROOT: store, XDG_RUNTIME_DIR: runtime }, sentinel, secret };
}

/**
 * skiff with every fd from 3 to 20 open on the sentinel directory: what a
 * careless caller (a shell with `exec 7</dir`, a parent that forgot
 * O_CLOEXEC) hands it. None of them may reach a container.
 */
async function withLeakedFds(mode: Mode, env: Record<string, string>, sentinel: string, args: string[], input?: string): Promise<Result> {
  const fds = fdNumbers.map(() => openSync(sentinel, 'r'));
  try {
    const child = spawnSkiff(mode, args, { env, stdio: ['pipe', 'pipe', 'pipe', ...fds] });
    return await collect(child, input);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/**
 * One of the lines a working directory that does not lead into the container
 * gives, with Docker's codes for them (`start` fails with 125 whatever the
 * reason, as Podman's does).
 */
function expectRefusedWorkdir(r: Result, n: number, secret: string, start = false): void {
  expect(r.stdout).not.toContain(secret);
  expect(r.stdout).not.toContain('secret.txt');
  const dir = `/proc/self/fd/${n}`;
  const refusals = [
    [125, `Error: create the working directory ${dir}: No such file or directory\n`],
    [126, `Error: chdir to the working directory ${dir}: No such file or directory\n`],
    [126, `Error: chdir to the working directory ${dir}: Not a directory\n`],
  ];
  expect(refusals.map(([code, line]) => [start ? 125 : code, line])).toContainEqual([r.code, r.stderr]);
}

/** The sentinel as the host sees it: nothing added, removed or changed. */
function expectUntouched(sentinel: string, secret: string): void {
  expect(readdirSync(sentinel)).toEqual(['secret.txt']);
  expect(readFileSync(path.join(sentinel, 'secret.txt'), 'utf8')).toBe(`${secret}\n`);
}

/** Runs `one(n)` for every fd number, a few at a time (the machine is shared). */
async function eachFd(one: (n: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < fdNumbers.length; i += 6) await Promise.all(fdNumbers.slice(i, i + 6).map(one));
}

const PROBE = 'pwd; ls; cat secret.txt';

describeModes('cve-2024-21626: a leaked directory fd as the working directory ($name)', (mode) => {
  test('run: -w /proc/self/fd/N never reaches the host, for every N from 3 to 20', async () => {
    const { env, sentinel, secret } = setup(mode);
    await eachFd(async (n) => {
      const r = await withLeakedFds(mode, env, sentinel, ['run', '--rm', '-w', `/proc/self/fd/${n}`, '--rootfs', mode.rootfs, 'sh', '-c', PROBE]);
      expectRefusedWorkdir(r, n, secret);
    });
    expectUntouched(sentinel, secret);
  });

  test('run -d: -w /proc/self/fd/N never reaches the host, for every N from 3 to 20', async () => {
    const { env, sentinel, secret } = setup(mode);
    await eachFd(async (n) => {
      const r = await withLeakedFds(mode, env, sentinel, ['run', '-d', '-w', `/proc/self/fd/${n}`, '--rootfs', mode.rootfs, 'sh', '-c', PROBE]);
      expectRefusedWorkdir(r, n, secret);
    });
    expectUntouched(sentinel, secret);
  });

  test('start and restart: a created container with -w /proc/self/fd/N never reaches the host, for every N from 3 to 20', async () => {
    const { env, sentinel, secret } = setup(mode);
    await eachFd(async (n) => {
      const created = await withLeakedFds(mode, env, sentinel, ['create', '--name', `fd${n}`, '-w', `/proc/self/fd/${n}`, '--rootfs', mode.rootfs, 'sh', '-c', PROBE]);
      expect(created.code).toBe(0);
      expectRefusedWorkdir(await withLeakedFds(mode, env, sentinel, ['start', `fd${n}`]), n, secret, true);
      expectRefusedWorkdir(await withLeakedFds(mode, env, sentinel, ['restart', `fd${n}`]), n, secret);
    });
    expectUntouched(sentinel, secret);
  });

  test('exec: -w /proc/self/fd/N never reaches the host, for every N from 3 to 20', async () => {
    const { env, sentinel, secret } = setup(mode);
    const started = await withLeakedFds(mode, env, sentinel, ['run', '-d', '--name', 'box', '--rootfs', mode.rootfs, 'sleep', '1000']);
    expect(started.code).toBe(0);
    await eachFd(async (n) => {
      const r = await withLeakedFds(mode, env, sentinel, ['exec', '-w', `/proc/self/fd/${n}`, 'box', 'sh', '-c', PROBE]);
      expectRefusedWorkdir(r, n, secret);
    });
    await withLeakedFds(mode, env, sentinel, ['rm', '-f', 'box']);
    expectUntouched(sentinel, secret);
  });

  test("the monitor of a detached container holds no directory fd (the attach socket's long path)", async () => {
    const { env, sentinel, secret } = setup(mode);
    const started = await withLeakedFds(mode, env, sentinel, ['run', '-d', '--rootfs', mode.rootfs, 'sleep', '1000']);
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    const { MonitorPid } = JSON.parse(readFileSync(path.join(env.SKIFF_ROOT, 'containers', id, 'pid.json'), 'utf8')) as { MonitorPid: number };
    const dirs = readdirSync(`/proc/${MonitorPid}/fd`).filter((fd) => statSync(`/proc/${MonitorPid}/fd/${fd}`).isDirectory());
    expect(dirs).toEqual([]);
    await withLeakedFds(mode, env, sentinel, ['rm', '-f', id]);
  });

  test('after chdir the working directory is checked to be inside the root: a host directory as stdin', async () => {
    // The caller's own stdin is the container's: -w through it leads outside, which the check after chdir refuses.
    const { env, sentinel, secret } = setup(mode);
    const outside = "Error: the working directory /proc/self/fd/0 is outside the container's root filesystem\n";
    const runStdin = openSync(sentinel, 'r');
    const run = await collect(spawnSkiff(mode, ['run', '--rm', '-i', '-w', '/proc/self/fd/0', '--rootfs', mode.rootfs, 'sh', '-c', PROBE], { env, stdio: [runStdin, 'pipe', 'pipe'] }));
    closeSync(runStdin);
    expect([run.code, run.stderr, run.stdout]).toEqual([125, outside, '']);

    expect((await withLeakedFds(mode, env, sentinel, ['run', '-d', '--name', 'box', '--rootfs', mode.rootfs, 'sleep', '1000'])).code).toBe(0);
    const execStdin = openSync(sentinel, 'r');
    const exec = await collect(spawnSkiff(mode, ['exec', '-i', '-w', '/proc/self/fd/0', 'box', 'sh', '-c', PROBE], { env, stdio: [execStdin, 'pipe', 'pipe'] }));
    closeSync(execStdin);
    expect([exec.code, exec.stderr, exec.stdout]).toEqual([125, outside, '']);
    await withLeakedFds(mode, env, sentinel, ['rm', '-f', 'box']);
    expectUntouched(sentinel, secret);
  });
});

// --- a container that swaps a directory and a symlink to the host ----------

let reg: TestRegistry;
let image = '';
/** The tests' probe (probe.c): `probe swap` runs in the image, `probe watch` on the host. */
const built = buildProbe();
const probe = 'reason' in built ? '' : built.path;

beforeAll(async () => {
  const env = integrationEnv();
  reg = await startRegistry();
  const probeLayer = () => ({ compression: 'gzip' as const, entries: [{ name: 'usr/local/bin/probe', data: readFileSync(probe), mode: 0o755, mtime: 981173106 }] });
  await pushImage(reg, 'escapes', '1', {
    format: 'oci',
    layers: [{ entries: busyboxLayer(env.imageRootfs), compression: 'gzip' }, ...(probe ? [probeLayer()] : [])],
    config: { Cmd: ['sh'] },
  });
  image = `${reg.host}/escapes:1`;
}, 180_000);

afterAll(async () => {
  await reg?.stop();
});

const LONG_AGO = new Date('2001-02-03T04:05:06Z');
const SPARSE_BYTES = 1 << 30;

/**
 * A directory of the user's on the host that no command may touch: a secret,
 * a 1 GiB sparse file (what a size that follows links would sum), a
 * subdirectory; every access time set long ago, so that any read shows
 * (relatime updates an access time older than a day).
 */
function makeSentinel(mode: Mode) {
  const dir = ownedDir(mode, 'sentinel-');
  chmodSync(dir, 0o755);
  const files = ['secret.txt', 'big.sparse', 'sub/inner.txt'];
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'secret.txt'), 'host-secret\n');
  writeFileSync(path.join(dir, 'big.sparse'), '');
  truncateSync(path.join(dir, 'big.sparse'), SPARSE_BYTES);
  writeFileSync(path.join(dir, 'sub/inner.txt'), 'inner\n');
  const all = [...files.map((f) => path.join(dir, f)), path.join(dir, 'sub'), dir];
  for (const p of all) {
    if (mode.user) chownSync(p, mode.user.uid, mode.user.gid);
    utimesSync(p, LONG_AGO, LONG_AGO);
  }
  const snapshot = () => all.map((p) => ({ p, atime: lstatSync(p).atimeMs, size: lstatSync(p).size }));
  return { dir, all, before: snapshot(), snapshot, listing: () => [readdirSync(dir).sort(), readdirSync(path.join(dir, 'sub'))] };
}

/** probe watch on the sentinel: every inotify event on it, once it is ready. */
async function watchSentinel(paths: string[]): Promise<{ child: ChildProcess; events: () => string[] }> {
  const child = spawn(probe, ['watch', ...paths], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.startsWith('ready\n')) resolve();
    });
  });
  return { child, events: () => out.split('\n').filter((l) => l.startsWith('event')) };
}

/** `n` runs of one command, one after the other. */
async function times(n: number, one: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < n; i++) await one(i);
}

/** Success, or one line saying why and exit 125 (a node that changed under a copy), never an internal error. */
function expectDoneOrOneLine(r: Result): void {
  expect(r.stderr).not.toMatch(/internal error/);
  if (r.code === 0) return;
  expect(r.code).toBe(125);
  expect(r.stderr).toMatch(/^Error: [^\n]*\n$/);
}

const ROUNDS = 30;

describeModes('symlink-swap-race: the host walks a container\'s files by fd ($name)', (mode) => {
  test.skipIf(!probe)(skipTitle(`diff, ps --size, cp out and in, export and rm, ${ROUNDS} times each, while the container swaps a directory and a symlink to a host directory`, 'reason' in built ? built.reason : undefined), async () => {
    const store = newStore(mode);
    const sentinel = makeSentinel(mode);
    const watcher = await watchSentinel(sentinel.all);
    const out = ownedDir(mode, 'swap-out-');
    const incoming = path.join(out, 'incoming.txt');
    writeFileSync(incoming, 'in\n');
    if (mode.user) chownSync(incoming, mode.user.uid, mode.user.gid);
    try {
      const swapper = `mkdir -p /w/d/sub && echo x > /w/d/sub/f && ln -s ${sentinel.dir} /w/l && exec probe swap /w/d /w/l`;
      const started = await store.skiff(['run', '-d', '--name', 'swapper', image, 'sh', '-c', swapper]);
      expect(started.code).toBe(0);
      for (let i = 0; i < 100 && !(await store.skiff(['diff', 'swapper'])).stdout.includes('/w/l'); i++) await new Promise((r) => setTimeout(r, 50));

      const leaked = /secret\.txt|big\.sparse|inner\.txt/;
      await Promise.all([
        times(ROUNDS, async () => {
          const r = await store.skiff(['diff', 'swapper']);
          expect([r.code, r.stderr]).toEqual([0, '']);
          expect(r.stdout).toContain('A /w/d');
          expect(r.stdout).not.toMatch(leaked);
        }),
        times(ROUNDS, async () => {
          const r = await store.skiff(['ps', '-a', '--size', '--format', '{{.Names}} {{.Size}}']);
          expect([r.code, r.stderr]).toEqual([0, '']);
          // What it wrote is a few bytes; following the link would sum the sparse GiB.
          expect(r.stdout).toMatch(/^swapper \d+B \(virtual /);
        }),
        times(ROUNDS, async (i) => {
          const r = await store.skiff(['cp', 'swapper:/w', path.join(out, `w-${i}`)]);
          expectDoneOrOneLine(r);
        }),
        times(ROUNDS, async () => {
          expectDoneOrOneLine(await store.skiff(['cp', incoming, 'swapper:/w/d/']));
        }),
        times(ROUNDS, async (i) => {
          const file = path.join(out, `export-${i}.tar`);
          const r = await store.skiff(['export', '-o', file, 'swapper']);
          expectDoneOrOneLine(r);
          if (r.code === 0) expect(execFileSync('tar', ['-tf', file], { encoding: 'utf8' })).not.toMatch(leaked);
        }),
      ]);
      // The swap ran all along.
      expect((await store.skiff(['inspect', '-f', '{{.State.Status}}', 'swapper'])).stdout).toBe('running\n');
      expect((await store.skiff(['rm', '-f', 'swapper'])).code).toBe(0);
    } finally {
      watcher.child.kill('SIGKILL');
    }
    expect(watcher.events()).toEqual([]);
    expect(sentinel.snapshot()).toEqual(sentinel.before);
    expect(sentinel.listing()).toEqual([['big.sparse', 'secret.txt', 'sub'], ['inner.txt']]);
  }, 240_000);
});

// --- FIFOs and links to devices where the host-side commands look ---------

/** skiff that must be done within `ms`: a hang is killed and fails the test. */
async function within(store: ReturnType<typeof newStore>, args: string[], ms = 20_000): Promise<Result> {
  const child = store.spawn(args);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const r = await collect(child);
  clearTimeout(timer);
  expect(r.signal, `skiff ${args.join(' ')} hung`).toBeNull();
  return r;
}

describeModes('fifo-and-device-links: diff, ps --size, cp and export never open them ($name)', (mode) => {
  test('a FIFO and links to /dev/zero, /dev/tty, /dev/console and /proc/self/fd/0, running and stopped', async () => {
    const store = newStore(mode);
    const out = ownedDir(mode, 'fifo-out-');
    const incoming = path.join(out, 'incoming.txt');
    writeFileSync(incoming, 'in\n');
    if (mode.user) chownSync(incoming, mode.user.uid, mode.user.gid);
    const make = 'mkdir /w && mkfifo /w/fifo /w/fifo2 && ln -s /dev/zero /w/zero && ln -s /dev/tty /w/tty && ln -s /dev/console /w/console && ln -s /proc/self/fd/0 /w/stdin && echo ready && exec sleep 1000';
    expect((await store.skiff(['run', '-d', '--name', 'f', image, 'sh', '-c', make])).code).toBe(0);
    for (let i = 0; i < 100 && (await store.skiff(['logs', 'f'])).stdout !== 'ready\n'; i++) await new Promise((r) => setTimeout(r, 50));

    for (const state of ['running', 'stopped']) {
      const diff = await within(store, ['diff', 'f']);
      expect([diff.code, diff.stderr]).toEqual([0, '']);
      expect(diff.stdout).toContain('A /w/fifo\nA /w/fifo2\nA /w/stdin\nA /w/tty\nA /w/zero\n');
      const size = await within(store, ['ps', '-a', '--size', '--format', '{{.Names}} {{.Size}}']);
      expect(size.stdout).toMatch(/^f \d+B \(virtual /);
      const tar = path.join(out, `${state}.tar`);
      expect((await within(store, ['export', '-o', tar, 'f'])).code).toBe(0);
      const listing = execFileSync('tar', ['-tvf', tar], { encoding: 'utf8' });
      expect(listing).toMatch(/^p.* w\/fifo$/m);
      expect(listing).toMatch(/^l.* w\/zero -> \/dev\/zero$/m);
      // Copied as what they are: a FIFO, links.
      const copy = path.join(out, `w-${state}`);
      expect((await within(store, ['cp', 'f:/w', copy])).code).toBe(0);
      expect(lstatSync(path.join(copy, 'fifo')).isFIFO()).toBe(true);
      expect(lstatSync(path.join(copy, 'zero')).isSymbolicLink()).toBe(true);
      // -L to the container's /proc/self/fd/0 finds nothing (the copy is no process of the
      // container, and magic links are never followed); a FIFO followed to is made, never opened.
      const magic = await within(store, ['cp', '-L', 'f:/w/stdin', path.join(out, `stdin-${state}`)]);
      expect([magic.code, magic.stderr]).toEqual([125, 'Error: could not find the file /w/stdin in container f\n']);
      expect((await within(store, ['cp', '-L', 'f:/w/fifo', path.join(out, `fifo-${state}`)])).code).toBe(0);
      expect(lstatSync(path.join(out, `fifo-${state}`)).isFIFO()).toBe(true);
      // Copied in onto a FIFO: refused in one line, never opened (nor removed).
      const ontoFifo = await within(store, ['cp', incoming, 'f:/w/fifo2']);
      expect([ontoFifo.code, ontoFifo.stderr]).toEqual([125, 'Error: cannot copy to /w/fifo2: it is a FIFO, not a file or a directory (to write a tar stream to stdout, use -)\n']);
      if (state === 'running') expect((await within(store, ['stop', '-t', '1', 'f'])).code).toBe(0);
    }
    expect((await within(store, ['rm', '-f', 'f'])).code).toBe(0);
  }, 120_000);
});
