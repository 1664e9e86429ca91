// Hardening (issue 14), as root and rootless: each test tries the attack for
// real with a small static probe (probe.c, built here) and checks it fails.
import { execFileSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { integrationEnv, modes, runSkiff, type Mode } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The probe, compiled once per test file: a static binary, so any rootfs can run it. */
function buildProbe(): { path: string } | { reason: string } {
  const out = path.join(mkdtempSync(path.join(integrationEnv().workDir, 'probe-')), 'probe');
  try {
    execFileSync('cc', ['-O2', '-static', '-o', out, path.join(here, 'probe.c')], { stdio: 'pipe' });
    return { path: out };
  } catch (err) {
    const why = String((err as { stderr?: Buffer }).stderr ?? err).split('\n')[0];
    return { reason: `cannot build the static probe (${why}): install gcc and libc6-dev` };
  }
}

const probe = buildProbe();
if ('reason' in probe) console.warn(`skipping the security probes: ${probe.reason}`);
const noProbe = 'reason' in probe;

/** A copy of the mode's busybox rootfs with /probe in it, owned like the original. */
function rootfsWithProbe(mode: Mode): string {
  const dir = mkdtempSync(path.join(path.dirname(mode.rootfs), 'security-'));
  if (mode.user) chownSync(dir, mode.user.uid, mode.user.gid);
  const rootfs = path.join(dir, 'rootfs');
  execFileSync('cp', ['-a', mode.rootfs, rootfs]);
  if (!noProbe) {
    copyFileSync(probe.path, path.join(rootfs, 'probe'));
    execFileSync('chmod', ['755', path.join(rootfs, 'probe')]);
    if (mode.user) chownSync(path.join(rootfs, 'probe'), mode.user.uid, mode.user.gid);
  }
  return rootfs;
}

/** "name: RESULT" lines of the probe, as a map. */
function results(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trim().split('\n').filter((l) => l.includes(': ')).map((l) => l.split(': ') as [string, string]));
}

const PROBES = [
  'keyctl',
  'add_key',
  'bpf',
  'userfaultfd',
  'unshare-user',
  'clone-newuser',
  'mount-proc',
  'open_by_handle_at',
  'perf_event_open',
  'io_uring_setup',
  'socket-vsock',
  'int80-getpid',
  'int80-keyctl',
  'int80-unshare-user',
  'x32-keyctl',
];

describe.skipIf(noProbe).each(modes())('seccomp: the default filter ($name)', (mode) => {
  let rootfs = '';
  let probed: Record<string, string> = {};
  const run = (args: string[]) => runSkiff(mode, ['run', '--rm', '--rootfs', rootfs, ...args]);

  beforeAll(async () => {
    rootfs = rootfsWithProbe(mode);
    // One container runs every probe: each prints "name: ok" or "name: ERRNO".
    const r = await run(['sh', '-c', PROBES.map((p) => `/probe ${p}`).join('; ')]);
    expect(r.stderr).toBe('');
    probed = results(r.stdout);
  });

  test('/proc/self/status says Seccomp: 2 (filter), one filter', async () => {
    const r = await run(['grep', '^Seccomp', '/proc/self/status']);
    expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
    expect(r.stdout).toMatch(/^Seccomp_filters:\s+1$/m);
  });

  test.each([
    ['keyctl', 'the kernel keyring is not namespaced'],
    ['add_key', 'the kernel keyring is not namespaced'],
    ['bpf', 'BPF programs in the kernel'],
    ['userfaultfd', 'stalls kernel code at will, a common exploit primitive'],
    ['unshare-user', 'unshare(CLONE_NEWUSER) from inside: new user namespaces start most kernel exploits'],
    ['clone-newuser', 'clone(CLONE_NEWUSER), the same through clone'],
    ['mount-proc', 'mount of a new proc'],
    ['open_by_handle_at', 'CVE-2014 "shocker": opening host files by handle'],
    ['perf_event_open', 'perf events reveal the host'],
    ['io_uring_setup', 'io_uring, a history of escapes'],
    ['socket-vsock', 'AF_VSOCK reaches the hypervisor'],
  ])('blocks %s with EPERM (%s)', (name) => {
    expect(probed[name]).toBe('EPERM');
  });

  test('32-bit `int 0x80` calls cannot bypass it: keyctl and unshare(CLONE_NEWUSER) by their i386 numbers are blocked, getpid works', () => {
    expect(probed['int80-getpid']).toBe('ok');
    expect(probed['int80-keyctl']).toBe('EPERM');
    expect(probed['int80-unshare-user']).toBe('EPERM');
  });

  test('an x32 call (bit 30 of the number) is filtered as x32, whether or not the kernel has x32', () => {
    expect(probed['x32-keyctl']).toBe('EPERM');
  });

  test('a system call number the table does not know gets ENOSYS, so libc falls back', async () => {
    // 451 (cachestat) is newer than skiff's table; 1000 exists nowhere.
    const r = await run(['sh', '-c', '/probe nr 451; /probe nr 1000']);
    expect(r.stdout).toBe('nr: ENOSYS\nnr: ENOSYS\n');
  });

  test('ordinary programs run: a shell, files, pipes, processes, sockets', async () => {
    const r = await run(['sh', '-c', 'cd /tmp && echo hi > f && cat f | wc -c && ls / >/dev/null && (sleep 0 &) && wait && nc -l -p 1 -e true & sleep 0.1; kill %1 2>/dev/null; echo done']);
    expect(r.stdout).toBe('3\ndone\n');
    expect(r.code).toBe(0);
  });

  test('ptrace of the helper: init (PID 1 under --init) is filtered too, so a keyctl injected into it still fails', async () => {
    // Docker allows ptrace (Linux >= 4.8 re-checks the filter after a tracer
    // changes a call); the helper's init shares the container's uid and
    // capabilities, so the command can attach to it: it must gain nothing.
    const r = await run(['--init', 'sh', '-c', 'grep ^Seccomp: /proc/1/status; /probe ptrace-keyctl 1']);
    expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
    expect(r.stdout).toMatch(/^ptrace-keyctl: EPERM$/m);
  });

  test('an exec\'d process gets the filter too', async () => {
    const name = `seccomp-exec-${mode.name}`;
    const started = await runSkiff(mode, ['run', '-d', '--name', name, '--rootfs', rootfs, 'sleep', '30']);
    expect(started.code).toBe(0);
    try {
      const r = await runSkiff(mode, ['exec', name, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; /probe keyctl']);
      expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
      expect(r.stdout).toMatch(/^keyctl: EPERM$/m);
    } finally {
      await runSkiff(mode, ['rm', '-f', name]);
    }
  });

  test('ioctl(TIOCSTI) on the controlling terminal is refused (CVE-2017-5226 class)', async () => {
    const r = await run(['-t', '/probe', 'tiocsti']);
    expect(r.stdout.trim()).toBe('tiocsti: EPERM');
  });
});

test.skipIf(!existsSync('/proc/sys/dev/tty/legacy_tiocsti'))('the kernel fact: legacy_tiocsti says whether TIOCSTI works without the filter', () => {
  // Linux >= 6.2 lets the host refuse TIOCSTI itself (dev.tty.legacy_tiocsti = 0); the filter refuses it either way.
  expect(['0', '1']).toContain(readFileSync('/proc/sys/dev/tty/legacy_tiocsti', 'utf8').trim());
});
