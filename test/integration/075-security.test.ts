// Hardening (issue 14), as root and rootless: each test tries the attack for
// real with a small static probe (probe.c, built here) and checks it fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { skipTitle } from '../skip.js';
import { integrationEnv, runSkiff, until, type Mode, describeModes } from './harness.js';
import { buildProbe } from './probe-harness.js';

const probe = buildProbe();
const probeWhy = 'reason' in probe ? probe.reason : undefined;

/** A copy of the mode's busybox rootfs with /probe in it, owned like the original. */
function rootfsWithProbe(mode: Mode): string {
  const dir = mkdtempSync(path.join(path.dirname(mode.rootfs), 'security-'));
  if (mode.user) chownSync(dir, mode.user.uid, mode.user.gid);
  const rootfs = path.join(dir, 'rootfs');
  execFileSync('cp', ['-a', mode.rootfs, rootfs]);
  if ('path' in probe) {
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

/**
 * Whether this kernel makes 32-bit calls at all: where IA-32 emulation is off
 * (CONFIG_IA32_EMULATION, ia32_emulation=0, some hypervisors' guests) a
 * 64-bit process's `int 0x80` is a general protection fault (SIGSEGV), so no
 * such call can reach the filter, and there is nothing to try.
 */
const ia32 = 'path' in probe && spawnSync(probe.path, ['int80-getpid']).signal === null;
const noIa32 = 'path' in probe && !ia32
  ? "this kernel has no IA-32 emulation (a 64-bit process's int 0x80 faults), so no 32-bit call can reach the filter: run on a kernel with CONFIG_IA32_EMULATION and ia32_emulation=1"
  : undefined;
const INT80_PROBES = ia32 ? ['int80-getpid', 'int80-keyctl', 'int80-unshare-user'] : [];

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
  ...INT80_PROBES,
  'x32-keyctl',
];

describeModes('seccomp: the default filter ($name)', (mode) => {
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

  test.skipIf(!ia32)(skipTitle('32-bit `int 0x80` calls cannot bypass it: keyctl and unshare(CLONE_NEWUSER) by their i386 numbers are blocked, getpid works', noIa32), () => {
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
}, { skip: probeWhy });

const noLegacyTiocsti = existsSync('/proc/sys/dev/tty/legacy_tiocsti') ? undefined : 'the kernel has no dev.tty.legacy_tiocsti: it needs Linux 6.2 or later';
test.skipIf(noLegacyTiocsti !== undefined)(skipTitle('the kernel fact: legacy_tiocsti says whether TIOCSTI works without the filter', noLegacyTiocsti), () => {
  // Linux >= 6.2 lets the host refuse TIOCSTI itself (dev.tty.legacy_tiocsti = 0); the filter refuses it either way.
  expect(['0', '1']).toContain(readFileSync('/proc/sys/dev/tty/legacy_tiocsti', 'utf8').trim());
});

/** This process's bounding set: what a root container can have at most. */
function hostBoundingSet(): bigint {
  return BigInt(`0x${/^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
}

function lastCapMask(): bigint {
  return (1n << BigInt(Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8')) + 1)) - 1n;
}

function status(stdout: string, field: string): string | undefined {
  return new RegExp(`^${field}:\\s+(\\S+)$`, 'm').exec(stdout)?.[1];
}

describeModes('privileges and --security-opt ($name)', (mode) => {
  let rootfs = '';
  let dir = '';
  const inRootfs = (flags: string[], cmd: string[]) => runSkiff(mode, ['run', '--rm', ...flags, '--rootfs', rootfs, ...cmd]);

  beforeAll(() => {
    rootfs = rootfsWithProbe(mode);
    dir = path.dirname(rootfs);
  });

  /** A profile file the mode's user can read. */
  function profile(name: string, json: unknown): string {
    const file = path.join(dir, name);
    writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
    if (mode.user) chownSync(file, mode.user.uid, mode.user.gid);
    return file;
  }

  test('seccomp=unconfined: no filter, and what the filter blocked works where the kernel allows it', async () => {
    const r = await inRootfs(['--security-opt', 'seccomp=unconfined'], ['sh', '-c', `grep ^Seccomp: /proc/self/status; /probe keyctl; /probe unshare-user; ${ia32 ? '/probe int80-unshare-user; ' : ''}/probe userfaultfd`]);
    expect(status(r.stdout, 'Seccomp')).toBe('0');
    // The same calls the filter refuses succeed without it: the probes are real.
    expect(results(r.stdout)).toMatchObject({ keyctl: 'ok', 'unshare-user': 'ok', ...(ia32 ? { 'int80-unshare-user': 'ok' } : {}), userfaultfd: 'ok' });
  });

  test('seccomp=unconfined: a keyctl injected into init by ptrace succeeds (the filter test above is not vacuous)', async () => {
    const r = await inRootfs(['--init', '--security-opt', 'seccomp=unconfined'], ['/probe', 'ptrace-keyctl', '1']);
    expect(r.stdout).toBe('ptrace-keyctl: ok\n');
  });

  test('TIOCSTI without the filter: the kernel decides (dev.tty.legacy_tiocsti)', async () => {
    const legacy = existsSync('/proc/sys/dev/tty/legacy_tiocsti') ? readFileSync('/proc/sys/dev/tty/legacy_tiocsti', 'utf8').trim() : '1';
    const r = await inRootfs(['-t', '--security-opt', 'seccomp=unconfined'], ['/probe', 'tiocsti']);
    // Linux >= 6.2 with legacy_tiocsti=0 refuses it to all but CAP_SYS_ADMIN (EIO); older kernels allow it.
    expect(r.stdout.trim()).toBe(legacy === '0' ? 'tiocsti: EIO' : 'tiocsti: ok');
  });

  test('seccomp=FILE: a profile in Docker\'s format, its own errno; inspect names it', async () => {
    const file = profile('deny-mkdir.json', {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    });
    const r = await inRootfs(['--security-opt', `seccomp=${file}`], ['sh', '-c', 'mkdir /tmp/d; grep ^Seccomp: /proc/self/status; /probe keyctl']);
    expect(r.stderr).toMatch(/mkdir: can't create directory '\/tmp\/d': Permission denied/);
    expect(status(r.stdout, 'Seccomp')).toBe('2');
    expect(r.stdout).toMatch(/^keyctl: ok$/m);
    const name = `seccomp-file-${mode.name}`;
    expect((await runSkiff(mode, ['create', '--name', name, '--security-opt', `seccomp=${file}`, '--rootfs', rootfs, 'true'])).code).toBe(0);
    const inspect = await runSkiff(mode, ['inspect', '-f', '{{.SeccompProfile}} {{json .HostConfig.SecurityOpt}}', name]);
    expect(inspect.stdout).toBe(`${file} ["seccomp=${file}"]\n`);
    await runSkiff(mode, ['rm', name]);
  });

  test.each([
    ['an unknown system call', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'mkdirr'], action: 'SCMP_ACT_ALLOW' }] }, 'syscalls[0].names[1]: unknown system call "mkdirr"'],
    ['an unknown action', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_PERMIT' }] }, 'syscalls[0].action: unknown action "SCMP_ACT_PERMIT"'],
    ['not JSON', '{"defaultAction": ', 'not valid JSON'],
  ])('seccomp=FILE with %s: one line, exit 125, nothing created', async (_what, json, message) => {
    const file = profile(`bad-${_what.replace(/\W/g, '')}.json`, json);
    const r = await runSkiff(mode, ['run', '--name', 'never', '--security-opt', `seccomp=${file}`, '--rootfs', rootfs, 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr.startsWith(`Error: seccomp profile ${file}: ${message}`), r.stderr).toBe(true);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect((await runSkiff(mode, ['ps', '-a', '--filter', 'name=never', '-q'])).stdout).toBe('');
  });

  test('a missing profile file and a bad --security-opt are one line each', async () => {
    const missing = await inRootfs(['--security-opt', 'seccomp=/nonexistent.json'], ['true']);
    expect(missing.stderr).toBe('Error: cannot read seccomp profile /nonexistent.json: no such file\n');
    expect(missing.code).toBe(125);
    const bad = await inRootfs(['--security-opt', 'label=type:spc_t'], ['true']);
    expect(bad.stderr).toBe('Error: invalid --security-opt "label=type:spc_t": skiff applies no SELinux labels, so only label=disable is accepted\n');
    const cap = await inRootfs(['--cap-add', 'SYS_ADMINN'], ['true']);
    expect(cap.stderr).toBe('Error: --cap-add: unknown capability "SYS_ADMINN" (see capabilities(7); ALL means every one)\n');
    expect(cap.code).toBe(125);
    expect((await inRootfs(['--security-opt', 'label=disable', '--security-opt', 'apparmor=unconfined'], ['true'])).code).toBe(0);
  });

  test('--cap-drop ALL leaves CapEff (and every set) empty; the filter then also refuses chroot', async () => {
    const r = await inRootfs(['--cap-drop', 'ALL'], ['sh', '-c', 'grep ^Cap /proc/self/status; chroot / true; echo chroot=$?']);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(status(r.stdout, set), set).toBe('0000000000000000');
    expect(r.stdout).toMatch(/chroot=1/);
  });

  test('--cap-add SYS_ADMIN opens what it gates in the filter too: mount works', async () => {
    const r = await inRootfs(['--cap-add', 'sys_admin', '--cap-drop', 'CAP_NET_RAW'], ['sh', '-c', 'grep ^CapEff /proc/self/status; mount -t tmpfs t /tmp && echo mounted']);
    const eff = BigInt(`0x${status(r.stdout, 'CapEff')}`);
    expect(eff & (1n << 21n)).toBe(1n << 21n); // CAP_SYS_ADMIN
    expect(eff & (1n << 13n)).toBe(0n); // CAP_NET_RAW
    expect(r.stdout).toMatch(/^mounted$/m);
  });

  test('no-new-privileges=false: the filter still loads (before the change of user), also for a non-root user', async () => {
    const r = await inRootfs(['--security-opt', 'no-new-privileges=false', '-u', '1000'], ['sh', '-c', 'id -u; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; /probe keyctl']);
    expect(r.stdout).toBe('1000\nNoNewPrivs:\t0\nSeccomp:\t2\nkeyctl: EPERM\n');
  });

  test('--privileged: every capability of the namespace, no filter, no masked or read-only paths, a writable /sys', async () => {
    const r = await inRootfs(['--privileged'], ['sh', '-c', 'grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status; mount | grep -cE " on /proc/(sys|acpi|scsi|timer_list) "; mount | grep " on /sys "']);
    const eff = BigInt(`0x${status(r.stdout, 'CapEff')}`);
    // Root gets what this process may hold; rootless, every capability of its user namespace.
    expect(eff).toBe(mode.user ? lastCapMask() : hostBoundingSet() & lastCapMask());
    expect(status(r.stdout, 'Seccomp')).toBe('0');
    expect(status(r.stdout, 'NoNewPrivs')).toBe('0');
    expect(r.stdout).toMatch(/^0$/m);
    expect(r.stdout).toMatch(/ on \/sys type sysfs \(rw,/);
  });

  test('exec --privileged: every capability for that process (Docker\'s and Podman\'s flag); the filter stays, the container\'s own processes keep the default set', async () => {
    const name = `exec-priv-${mode.name}`;
    expect((await runSkiff(mode, ['run', '-d', '--name', name, '--rootfs', rootfs, 'sleep', '30'])).code).toBe(0);
    try {
      const r = await runSkiff(mode, ['exec', '--privileged', name, 'sh', '-c', 'grep -E "^(CapEff|Seccomp):" /proc/self/status; grep ^CapEff: /proc/1/status']);
      expect(r.stderr).toBe('');
      expect(BigInt(`0x${status(r.stdout, 'CapEff')}`)).toBe(mode.user ? lastCapMask() : hostBoundingSet() & lastCapMask());
      expect(status(r.stdout, 'Seccomp')).toBe('2');
      expect(r.stdout.trim().split('\n')[2]).toBe('CapEff:\t00000000a80425fb');
      const plain = await runSkiff(mode, ['exec', name, 'grep', '^CapEff:', '/proc/self/status']);
      expect(plain.stdout).toBe('CapEff:\t00000000a80425fb\n');
    } finally {
      await runSkiff(mode, ['rm', '-f', name]);
    }
  });

  // Rootless only: as root, --privileged is the host's root by design.
  if (mode.user) test('--privileged rootless cannot read a file of the host its user cannot', async () => {
    // A root-owned 0600 file inside the user's own rootfs: root of the user
    // namespace holds CAP_DAC_OVERRIDE only over files of IDs it maps.
    const secret = path.join(rootfs, 'host-secret');
    writeFileSync(secret, 'host secret\n', { mode: 0o600 });
    chownSync(secret, 0, 0);
    const r = await inRootfs(['--privileged'], ['sh', '-c', 'cat /host-secret; echo status=$?']);
    expect(r.stdout).not.toContain('host secret');
    expect(r.stdout).toMatch(/status=1/);
    expect(r.stderr).toMatch(/Permission denied/);
  });

  test('mask= hides paths, unmask= shows default ones', async () => {
    writeFileSync(path.join(rootfs, 'secret.txt'), 'secret\n');
    const r = await inRootfs(['--security-opt', 'mask=/secret.txt:/usr', '--security-opt', 'unmask=/proc/sys:/proc/timer_list'], [
      'sh',
      '-c',
      'wc -c < /secret.txt; ls /usr | wc -l; mount | grep -cE " on /proc/(sys|timer_list) "; mount | grep -c " on /proc/sched_debug "',
    ]);
    expect(r.stdout.split('\n').map((l) => l.trim())).toEqual(['0', '0', '0', existsSync('/proc/sched_debug') ? '1' : '0', '']);
  });

  test('inspect: default and unconfined filters, the capabilities the process keeps, the flags as given', async () => {
    const name = `caps-${mode.name}`;
    expect((await runSkiff(mode, ['create', '--name', name, '--cap-drop', 'ALL', '--cap-add', 'NET_BIND_SERVICE', '--rootfs', rootfs, 'true'])).code).toBe(0);
    const r = await runSkiff(mode, ['inspect', '-f', '{{.SeccompProfile}} {{json .EffectiveCaps}} {{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}} {{.HostConfig.Privileged}}', name]);
    expect(r.stdout).toBe('default ["CAP_NET_BIND_SERVICE"] ["NET_BIND_SERVICE"] ["ALL"] false\n');
    await runSkiff(mode, ['rm', name]);
    expect((await runSkiff(mode, ['create', '--name', name, '--privileged', '--rootfs', rootfs, 'true'])).code).toBe(0);
    const p = await runSkiff(mode, ['inspect', '-f', '{{.SeccompProfile}} {{.HostConfig.Privileged}}', name]);
    expect(p.stdout).toBe('unconfined true\n');
    await runSkiff(mode, ['rm', name]);
  });
}, { skip: probeWhy });

/** The v1 devices hierarchy root may write (where the device cgroup is made), if any. */
function v1DevicesMount(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    const [fstype, , options] = (right ?? '').split(' ');
    if (fstype === 'cgroup' && options!.split(',').includes('devices') && options!.split(',').includes('rw')) return left!.split(' ')[4];
  }
  return undefined;
}
const v1Devices = v1DevicesMount();
const hasFuse = existsSync('/dev/fuse');

describeModes('devices, sysctls, groups ($name)', (mode) => {
  let rootfs = '';
  const inRootfs = (flags: string[], cmd: string[]) => runSkiff(mode, ['run', '--rm', ...flags, '--rootfs', rootfs, ...cmd]);

  beforeAll(() => {
    rootfs = rootfsWithProbe(mode);
  });

  test('security mknod-host-device: a node the container makes for a host device does not open (the root filesystem and /dev are nodev)', async () => {
    // The host's root disk, and /dev/null's numbers: as root the container holds CAP_MKNOD.
    const { dev } = statSync('/');
    const [maj, min] = [Math.floor(dev / 256) & 0xfff, (dev & 0xff) | ((dev >> 12) & ~0xff)];
    const r = await inRootfs([], ['sh', '-c', `mknod /tmp/disk b ${maj} ${min} && dd if=/tmp/disk of=/dev/null count=1; mknod /tmp/null c 1 3 && echo x > /tmp/null; mknod /dev/null2 c 1 3 && echo x > /dev/null2; echo done`]);
    expect(r.stdout).toBe('done\n');
    if (mode.user) expect(r.stderr).toMatch(/mknod: \/tmp\/disk: Operation not permitted/);
    else expect(r.stderr.match(/Permission denied/g)).toHaveLength(3);
    // The devices skiff binds in still work.
    expect((await inRootfs([], ['sh', '-c', 'echo x > /dev/null && head -c 4 /dev/zero | wc -c'])).stdout.trim()).toBe('4');
  });

  test('--device gives a host node (bound rootless, made by mknod as root with a device cgroup), where asked, nested paths made; inspect lists it', async () => {
    const r = await inRootfs(['--device', '/dev/null:/dev/sub/dir/mynull:rw', '--device', '/dev/zero'], ['sh', '-c', 'ls -l /dev/sub/dir/mynull; echo x > /dev/sub/dir/mynull && echo wrote; head -c 3 /dev/zero | wc -c']);
    expect(r.stdout).toMatch(/^c.* 1,\s+3 .*\/dev\/sub\/dir\/mynull\nwrote\n3\n$/);
    const name = `dev-${mode.name}`;
    expect((await runSkiff(mode, ['create', '--name', name, '--device', '/dev/null:/dev/x:r', '--rootfs', rootfs, 'true'])).code).toBe(0);
    expect((await runSkiff(mode, ['inspect', '-f', '{{json .HostConfig.Devices}}', name])).stdout).toBe('[{"PathOnHost":"/dev/null","PathInContainer":"/dev/x","CgroupPermissions":"r"}]\n');
    await runSkiff(mode, ['rm', name]);
  });

  test('--device: a device the user cannot open, a missing one and a file that is no device are one line each', async () => {
    const bad = await inRootfs(['--device', '/dev/nonexistent'], ['true']);
    expect(bad.stderr).toBe('Error: --device /dev/nonexistent: no such device\n');
    expect(bad.code).toBe(125);
    expect((await inRootfs(['--device', '/etc/hostname'], ['true'])).stderr).toBe('Error: --device /etc/hostname: not a device node\n');
    expect((await inRootfs(['--device', 'dev/null'], ['true'])).stderr).toBe('Error: invalid --device "dev/null": the host path must be absolute\n');
    if (mode.user && process.getuid?.() === 0) {
      // A node only root may open (a copy of /dev/null's numbers, mode 0600).
      const node = path.join(integrationEnv().workDir, `private-null-${process.pid}`);
      if (!existsSync(node)) execFileSync('mknod', ['-m', '600', node, 'c', '1', '3']);
      const r = await inRootfs(['--device', node], ['true']);
      expect(r.stderr).toBe(`Error: --device ${node}: permission denied: your user cannot open it (c 1:3), so neither can the container\n`);
      expect(r.code).toBe(125);
    }
  });

  test.skipIf(!mode.user && v1Devices !== undefined && !hasFuse)("--device permissions and --device-cgroup-rule: root's device cgroup (v1) opens a node only as they say; elsewhere one line", async () => {
    const rule = ['--device-cgroup-rule', 'c 10:229 w'];
    if (mode.user || !v1Devices) {
      const why = mode.user ? 'a rootless container has no device cgroup (run as root for one)' : 'the container has no cgroup v1 devices directory and no cgroup v2 one to attach a device filter to';
      expect(await inRootfs(rule, ['true'])).toMatchObject({ code: 125, stdout: '', stderr: `Error: --device-cgroup-rule cannot be applied: ${why}\n` });
      // A --device asking for less than the caller may do: said, not silently widened.
      const r = await inRootfs(['--device', '/dev/null:/dev/n:r'], ['sh', '-c', 'echo x > /dev/n && echo wrote']);
      expect([r.stdout, r.stderr]).toEqual(['wrote\n', `skiff: warning: --device /dev/null:r: the container may open it as far as your user can, since ${why}\n`]);
      return;
    }
    // /dev/fuse (10:229) is in no default rule: read-only as asked, writable with the rule; exec'd processes too.
    const open = 'exec 3</dev/f && echo read; exec 4>/dev/f && echo write';
    const readOnly = await inRootfs(['--device', '/dev/fuse:/dev/f:r'], ['sh', '-c', open]);
    expect([readOnly.stdout, readOnly.stderr]).toEqual(['read\n', 'sh: can\'t create /dev/f: Operation not permitted\n']);
    expect((await inRootfs(['--device', '/dev/fuse:/dev/f:r', ...rule], ['sh', '-c', open])).stdout).toBe('read\nwrite\n');
    expect((await inRootfs(['--device', '/dev/fuse:/dev/f'], ['sh', '-c', open])).stdout).toBe('read\nwrite\n');
    const name = `devcg-${mode.name}`;
    expect((await runSkiff(mode, ['run', '-d', '--name', name, '--device', '/dev/fuse:/dev/f:r', ...rule, '--rootfs', rootfs, 'sleep', '60'])).code).toBe(0);
    try {
      const id = (await runSkiff(mode, ['inspect', '-f', '{{.Id}}', name])).stdout.trim();
      const list = readFileSync(path.join(v1Devices, 'skiff', id, 'devices.list'), 'utf8');
      expect(list).toMatch(/^c 1:3 rwm\nc 1:5 rwm\n/m);
      expect(list).toMatch(/^c 10:229 rw$/m);
      expect(list).not.toMatch(/^a /m);
      expect((await runSkiff(mode, ['exec', name, 'sh', '-c', 'exec 4>/dev/null && echo null; exec 5<>/dev/f && echo fuse'])).stdout).toBe('null\nfuse\n');
      expect((await runSkiff(mode, ['inspect', '-f', '{{json .HostConfig.DeviceCgroupRules}}', name])).stdout).toBe('["c 10:229 w"]\n');
    } finally {
      await runSkiff(mode, ['rm', '-f', name]);
    }
    // --privileged: every device, as Docker's.
    expect((await inRootfs(['--privileged'], ['sh', '-c', 'exec 4>/dev/fuse && echo write'])).stdout).toBe('write\n');
    expect(await inRootfs(['--device-cgroup-rule', 'c 10:229'], ['true'])).toMatchObject({ code: 125, stderr: expect.stringMatching(/^Error: invalid --device-cgroup-rule "c 10:229": use TYPE MAJOR:MINOR ACCESS[^\n]*\n$/) });
  });

  // As root with a device cgroup, Docker's route: the node is made in the
  // container's /dev by mknod (with the host node's numbers, mode and owner)
  // and the cgroup's rules decide what opens, so /dev is not nodev there and
  // a node the container makes for an unlisted device must be refused by the
  // cgroup itself (EPERM), not by nodev (EACCES). Rootless it stays a bind of
  // the host's node, and mknod of a device is refused by the kernel.
  const mknodWhy = !mode.user && !v1Devices ? 'needs a cgroup v1 devices hierarchy root may write (the cgroup v2 filter is tested below)' : undefined;
  test.skipIf(mknodWhy !== undefined)(skipTitle('security device-mknod-route: --device as root is a node made by mknod that opens as listed; an unlisted device made inside is refused by the device cgroup', mknodWhy), async () => {
    const script = [
      'grep -c " /dev/sub/mynull " /proc/self/mountinfo',
      'stat -c "%F %t:%T %a %u:%g" /dev/sub/mynull',
      'head -c 3 /dev/sub/mynull | wc -c',
      'echo x > /dev/sub/mynull && echo wrote',
      'mknod /dev/mem2 c 1 1 && echo made',
      'head -c 1 /dev/mem2 > /dev/null || echo refused',
    ].join('; ');
    const r = await inRootfs(['--network', 'none', '--device', '/dev/null:/dev/sub/mynull'], ['sh', '-c', script]);
    const host = statSync('/dev/null');
    const nodeLine = `character special file 1:3 ${(host.mode & 0o7777).toString(8)} ${host.uid}:${host.gid}`;
    if (mode.user) {
      expect(r.stdout).toBe(`1\n${nodeLine.replace(/ \d+:\d+$/, ' 65534:65534')}\n0\nwrote\nrefused\n`);
      expect(r.stderr).toMatch(/mknod: \/dev\/mem2: Operation not permitted/);
    } else {
      expect(r.stdout).toBe(`0\n${nodeLine}\n0\nwrote\nmade\nrefused\n`);
      expect(r.stderr).toBe('head: /dev/mem2: Operation not permitted\n');
    }
  });

  // cgroup v2 has no devices controller: the same rules are an eBPF program on
  // the container's v2 directory. Tested here as root in a private mount
  // namespace without the v1 devices hierarchy (this hybrid host's unified
  // hierarchy takes BPF_CGROUP_DEVICE programs like a pure v2 one).
  const v2Why = mode.user
    ? 'rootless: loading a cgroup device program needs CAP_SYS_ADMIN on the host (a rootless container has no device cgroup, tested above)'
    : !v1Devices || !hasFuse || !existsSync('/sys/fs/cgroup/unified/cgroup.procs')
      ? 'needs root, a v1 devices hierarchy to hide, /dev/fuse and a cgroup2 mount at /sys/fs/cgroup/unified'
      : undefined;
  test.skipIf(v2Why !== undefined)(skipTitle("--device permissions and --device-cgroup-rule through cgroup v2's eBPF device filter, with the v1 devices controller hidden", v2Why), async () => {
    const { spawn } = await import('node:child_process');
    const { cleanEnv, collect } = await import('./harness.js');
    const hidden = (args: string[]) =>
      collect(
        spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `umount ${v1Devices} && exec "$@"`, 'sh', path.join(integrationEnv().installDir, 'bin/skiff'), ...args], {
          env: cleanEnv(mode),
          stdio: ['ignore', 'pipe', 'pipe'],
          cwd: '/',
        }),
      );
    const open = 'exec 3</dev/f && echo read; exec 4>/dev/f && echo write';
    const run = (flags: string[], cmd: string) => hidden(['run', '--rm', '--network', 'none', ...flags, '--rootfs', rootfs, 'sh', '-c', cmd]);
    const readOnly = await run(['--device', '/dev/fuse:/dev/f:r'], open);
    expect([readOnly.code === 0, readOnly.stdout, readOnly.stderr]).toEqual([false, 'read\n', "sh: can't create /dev/f: Operation not permitted\n"]);
    expect((await run(['--device', '/dev/fuse:/dev/f:r', '--device-cgroup-rule', 'c 10:229 w'], open)).stdout).toBe('read\nwrite\n');
    expect((await run(['--device', '/dev/fuse:/dev/f'], open)).stdout).toBe('read\nwrite\n');
    // The standard nodes open; a node of the host's memory made inside does not (the filter, and nodev).
    const std = await run([], 'exec 3<>/dev/null && echo null; exec 4</dev/urandom && echo urandom; mknod /dev/mem2 c 1 1 && echo made; head -c 1 /dev/mem2 >/dev/null 2>&1 || echo refused');
    expect(std.stdout).toBe('null\nurandom\nmade\nrefused\n');
    // A --device is made by mknod (no mount at its path), and /dev is not nodev then: the filter alone refuses an unlisted node made inside.
    const made = await run(['--device', '/dev/null:/dev/n'], 'grep -c " /dev/n " /proc/self/mountinfo; echo x > /dev/n && echo wrote; mknod /dev/mem2 c 1 1 && echo made; head -c 1 /dev/mem2 >/dev/null || echo refused');
    expect([made.stdout, made.stderr]).toEqual(['0\nwrote\nmade\nrefused\n', 'head: /dev/mem2: Operation not permitted\n']);
    // --privileged: every device.
    expect((await run(['--privileged'], 'exec 4>/dev/fuse && echo write')).stdout).toBe('write\n');
    // A detached container: the filter holds for exec'd processes too (they join its cgroup).
    const name = 'devcg-ebpf';
    const started = await hidden(['run', '-d', '--name', name, '--network', 'none', '--device', '/dev/fuse:/dev/f:r', '--rootfs', rootfs, 'sleep', '60']);
    expect(started, started.stderr).toMatchObject({ code: 0 });
    try {
      const ex = await hidden(['exec', name, 'sh', '-c', open]);
      expect([ex.stdout, ex.stderr]).toEqual(['read\n', "sh: can't create /dev/f: Operation not permitted\n"]);
    } finally {
      await hidden(['rm', '-f', name]);
    }
  });

  test('--privileged brings the host devices the caller can open; as root nodes made in /dev open too', async () => {
    const r = await inRootfs(['--privileged'], ['sh', '-c', 'ls /dev/net/tun 2>/dev/null; mknod /dev/n c 1 3 && echo x > /dev/n && echo made-open']);
    if (existsSync('/dev/net/tun') && (statSync('/dev/net/tun').mode & 0o006) === 0o006) expect(r.stdout).toMatch(/^\/dev\/net\/tun$/m);
    if (mode.user) expect(r.stdout).not.toMatch(/made-open/);
    else expect(r.stdout).toMatch(/made-open/);
  });

  test('--sysctl sets namespaced settings inside only; others and net.* with the host network are refused by name', async () => {
    const hostShmmax = readFileSync('/proc/sys/kernel/shmmax', 'utf8');
    const r = await inRootfs(['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=123456789', '--sysctl', 'fs.mqueue.msg_max=20'], [
      'sh',
      '-c',
      'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max',
    ]);
    expect(r.stdout).toBe('1\n123456789\n20\n');
    expect(readFileSync('/proc/sys/kernel/shmmax', 'utf8')).toBe(hostShmmax);
    const swappiness = await inRootfs(['--sysctl', 'vm.swappiness=10'], ['true']);
    expect(swappiness.stderr).toBe(
      'Error: --sysctl vm.swappiness: not namespaced, so setting it would change the host; only net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm* and kernel.domainname can be set per container\n',
    );
    expect(swappiness.code).toBe(125);
    const hostNet = await inRootfs(['--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1'], ['true']);
    expect(hostNet.stderr).toBe('Error: --sysctl net.ipv4.ip_forward: the container shares its network namespace (--network host), so this would change the host or another container\n');
    expect((await inRootfs(['--sysctl', 'net.ipv4.no_such_thing=1'], ['true'])).stderr).toBe('Error: --sysctl net.ipv4.no_such_thing: this kernel has no such setting\n');
  });

  test('--group-add by name and number; an unknown group is one line', async () => {
    const r = await inRootfs(['--group-add', 'audio', '--group-add', '1234', '-u', 'app'], ['id']);
    expect(r.stdout).toBe('uid=1000(app) gid=1000(app) groups=29(audio),50(staff),1000(app),1234\n');
    const bad = await inRootfs(['--group-add', 'nosuch'], ['true']);
    expect(bad.stderr).toBe("Error: --group-add nosuch: no such group in the container's /etc/group\n");
    expect(bad.code).toBe(125);
    expect((await inRootfs(['--group-add', 'keep-groups', '--group-add', 'audio'], ['true'])).stderr).toBe('Error: --group-add keep-groups cannot be combined with other groups\n');
  });
}, { skip: probeWhy });

describeModes('--ipc, --pid, --uts ($name)', (mode) => {
  const inRootfs = (flags: string[], cmd: string[]) => runSkiff(mode, ['run', '--rm', ...flags, '--rootfs', mode.rootfs, ...cmd]);

  test("--uts host: the host's name; with --hostname it is a conflict", async () => {
    expect((await inRootfs(['--uts', 'host'], ['hostname'])).stdout).toBe(`${hostname()}\n`);
    const both = await inRootfs(['--uts', 'host', '--hostname', 'x'], ['true']);
    expect(both.stderr).toBe('Error: conflicting options: --hostname and --uts host\n');
    expect(both.code).toBe(125);
  });

  test("--pid host: the host's processes, this test's among them", async () => {
    const r = await inRootfs(['--pid', 'host'], ['sh', '-c', `test -d /proc/${process.pid} && echo seen; echo $$`]);
    expect(r.stdout).toMatch(/^seen\n/);
    expect(Number(r.stdout.split('\n')[1])).toBeGreaterThan(1);
  });

  test("--ipc host sees the host's System V objects (and refuses IPC sysctls); --ipc none has no /dev/shm", async () => {
    const id = execFileSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' }).match(/(\d+)/)?.[1];
    try {
      const r = await inRootfs(['--ipc', 'host'], ['cat', '/proc/sysvipc/shm']);
      expect(r.stdout.trim().split('\n').length).toBeGreaterThan(1);
    } finally {
      execFileSync('ipcrm', ['-m', id!]);
    }
    const sysctl = await inRootfs(['--ipc', 'host', '--sysctl', 'kernel.shmmax=1'], ['true']);
    expect(sysctl.stderr).toBe('Error: --sysctl kernel.shmmax: the container shares its IPC namespace (--ipc), so this would change the host or another container\n');
    expect((await inRootfs(['--ipc', 'none'], ['sh', '-c', 'test -e /dev/shm || echo no-shm'])).stdout).toBe('no-shm\n');
  });

  test("--ipc and --pid container:NAME join a running container's namespaces and its /dev/shm; inspect says so", async () => {
    const name = `ns-${mode.name}`;
    expect((await runSkiff(mode, ['run', '-d', '--name', name, '--rootfs', mode.rootfs, 'sh', '-c', 'echo shared > /dev/shm/marker; exec sleep 60'])).code).toBe(0);
    try {
      await until('the marker in /dev/shm', async () => ((await runSkiff(mode, ['exec', name, 'sh', '-c', 'test -e /dev/shm/marker && pidof sleep'])).code === 0 ? true : undefined));
      // A joined PID namespace with a private network of its own: its pasta runs outside that namespace (not in its ps).
      const own = await inRootfs(['--network', 'pasta', '--pid', `container:${name}`], ['sh', '-c', 'ps -o comm | grep -c -e pasta -e passt -e slirp; ip -o -4 addr show eth0 | grep -o "inet [0-9./]*"']);
      expect(own.stderr).toBe('');
      expect(own.stdout).toBe('0\ninet 10.0.2.100/24\n');
      const r = await inRootfs(['--name', `${name}-2`, '--ipc', `container:${name}`, '--pid', `container:${name}`, '--network', `container:${name}`], ['sh', '-c', 'ps -o pid,comm | grep -c sleep; cat /dev/shm/marker']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('1\nshared\n');
      const id = (await runSkiff(mode, ['inspect', '-f', '{{.Id}}', name])).stdout.trim();
      expect((await runSkiff(mode, ['create', '--name', `${name}-3`, '--ipc', `container:${name}`, '--pid', 'host', '--uts', 'host', '--rootfs', mode.rootfs, 'true'])).code).toBe(0);
      expect((await runSkiff(mode, ['inspect', '-f', '{{.HostConfig.IpcMode}}|{{.HostConfig.PidMode}}|{{.HostConfig.UTSMode}}', `${name}-3`])).stdout).toBe(`container:${id}|host|host\n`);
      await runSkiff(mode, ['rm', `${name}-3`]);
    } finally {
      await runSkiff(mode, ['rm', '-f', name]);
    }
  });

  test('bad modes and a stopped container to join are one line each', async () => {
    expect((await inRootfs(['--ipc', 'bogus'], ['true'])).stderr).toBe('Error: invalid --ipc "bogus": use private, shareable, host, none, container:NAME\n');
    expect((await inRootfs(['--uts', 'container:x'], ['true'])).stderr).toBe('Error: invalid --uts "container:x": use private, host\n');
    const name = `ns-stopped-${mode.name}`;
    expect((await runSkiff(mode, ['create', '--name', name, '--rootfs', mode.rootfs, 'true'])).code).toBe(0);
    const r = await inRootfs(['--pid', `container:${name}`], ['true']);
    expect(r.stderr).toBe(`Error: --pid container:${name}: the container is not running\n`);
    expect(r.code).toBe(125);
    await runSkiff(mode, ['rm', name]);
  });
});
