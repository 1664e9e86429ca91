// Host escapes, each test named after its class (issue 17): a directory fd of
// the host as a container's working directory (runc's CVE-2024-21626). As root
// and as the unprivileged test user, with --rootfs containers and a store per
// test.
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { collect, integrationEnv, modes, spawnSkiff, type Mode, type Result } from './harness.js';

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
    [125, `skiff: create the working directory ${dir}: No such file or directory\n`],
    [126, `skiff: chdir to the working directory ${dir}: No such file or directory\n`],
    [126, `skiff: chdir to the working directory ${dir}: Not a directory\n`],
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

describe.each(modes())('cve-2024-21626: a leaked directory fd as the working directory ($name)', (mode) => {
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

  test('start: a created container with -w /proc/self/fd/N never reaches the host, for every N from 3 to 20', async () => {
    const { env, sentinel, secret } = setup(mode);
    await eachFd(async (n) => {
      const created = await withLeakedFds(mode, env, sentinel, ['create', '--name', `fd${n}`, '-w', `/proc/self/fd/${n}`, '--rootfs', mode.rootfs, 'sh', '-c', PROBE]);
      expect(created.code).toBe(0);
      expectRefusedWorkdir(await withLeakedFds(mode, env, sentinel, ['start', `fd${n}`]), n, secret, true);
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
    const outside = "skiff: the working directory /proc/self/fd/0 is outside the container's root filesystem\n";
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
