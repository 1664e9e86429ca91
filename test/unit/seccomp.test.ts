// The seccomp compiler: Docker's profile format -> classic BPF, checked by
// running the program in an interpreter against a plain reading of the
// profile's semantics, and skiff's default profile against Docker's list of
// what it blocks. (The integration tests load the same programs for real.)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { describe, expect, test } from 'vitest';
import { skipTitle } from '../skip.js';
import { compileSeccomp, resolveSeccompProfile, type OciSeccomp } from '../../lib/oci/seccomp/compile.js';
import { parseSeccompProfile, validateSeccompProfile, type SeccompArg } from '../../lib/oci/seccomp/profile.js';
import { DEFAULT_SECCOMP_PROFILE } from '../../lib/oci/seccomp/default-profile.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, syscallTable, type Abi } from '../../lib/oci/seccomp/syscalls.js';
import { DEFAULT_CAPABILITIES } from '../../lib/oci/spec/defaults.js';
import { runFilter } from './helpers/bpf-interpreter.js';
import { precompileDefaultSeccomp } from '../../lib/oci/seccomp/precompile.js';

const ALLOW = 0x7fff0000;
const KILL_PROCESS = 0x80000000;
const errno = (e: number) => (0x00050000 | e) >>> 0;
const EPERM = errno(1);
const ENOSYS = errno(38);
const AUDIT_ARCH_AARCH64 = 0xc00000b7;

const KERNEL = '6.18.0';
const defaultCaps = [...DEFAULT_CAPABILITIES];

function resolveDefault(capabilities: readonly string[] = defaultCaps): OciSeccomp {
  return resolveSeccompProfile(validateSeccompProfile(DEFAULT_SECCOMP_PROFILE, 'default'), { capabilities, kernelRelease: KERNEL });
}

const ARCH_OF: Record<Abi, number> = { x86_64: AUDIT_ARCH_X86_64, x32: AUDIT_ARCH_X86_64, i386: AUDIT_ARCH_I386 };

function nr(abi: Abi, name: string): number {
  const n = syscallTable(abi).get(name);
  if (n === undefined) throw new Error(`${abi} has no ${name}`);
  return n;
}

/** Runs the compiled filter for one call by name. */
function call(program: Buffer, abi: Abi, name: string, args: bigint[] = []): number {
  return runFilter(program, { nr: nr(abi, name), arch: ARCH_OF[abi], args }).ret;
}

// ---- The semantics, read plainly (what the BPF must agree with) ----

function retOf(action: string, errnoRet: number | undefined): number {
  const table: Record<string, number> = {
    SCMP_ACT_KILL: 0,
    SCMP_ACT_KILL_THREAD: 0,
    SCMP_ACT_KILL_PROCESS: KILL_PROCESS,
    SCMP_ACT_TRAP: 0x00030000,
    SCMP_ACT_ERRNO: errno(errnoRet ?? 1),
    SCMP_ACT_TRACE: (0x7ff00000 | (errnoRet ?? 1)) >>> 0,
    SCMP_ACT_LOG: 0x7ffc0000,
    SCMP_ACT_ALLOW: ALLOW,
  };
  return table[action]!;
}

function argHolds(a: SeccompArg, args: bigint[]): boolean {
  const x = BigInt.asUintN(64, args[a.index] ?? 0n);
  const v = BigInt(a.value);
  const v2 = BigInt(a.valueTwo);
  switch (a.op) {
    case 'SCMP_CMP_EQ':
      return x === v;
    case 'SCMP_CMP_NE':
      return x !== v;
    case 'SCMP_CMP_LT':
      return x < v;
    case 'SCMP_CMP_LE':
      return x <= v;
    case 'SCMP_CMP_GE':
      return x >= v;
    case 'SCMP_CMP_GT':
      return x > v;
    case 'SCMP_CMP_MASKED_EQ':
      return (x & v) === v2;
  }
}

function reference(oci: OciSeccomp, abi: Abi, number: number, args: bigint[]): number {
  const archName = { x86_64: 'SCMP_ARCH_X86_64', i386: 'SCMP_ARCH_X86', x32: 'SCMP_ARCH_X32' }[abi];
  if (!oci.architectures.includes(archName)) return KILL_PROCESS;
  const name = [...syscallTable(abi)].find(([, n]) => n === number)?.[0];
  const def = retOf(oci.defaultAction, oci.defaultErrnoRet);
  if (name === undefined) return oci.defaultAction === 'SCMP_ACT_ALLOW' || oci.defaultAction === 'SCMP_ACT_LOG' ? def : ENOSYS;
  const rules = oci.syscalls.filter((r) => r.names.includes(name));
  for (const r of rules) if (r.args?.length && r.args.every((a) => argHolds(a, args))) return retOf(r.action, r.errnoRet);
  const plain = rules.find((r) => !r.args?.length);
  return plain ? retOf(plain.action, plain.errnoRet) : def;
}

/** A small deterministic generator (xorshift), so a failure replays. */
function random(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return { int: (n: number) => next() % n, pick: <T>(xs: readonly T[]) => xs[next() % xs.length]!, u64: () => (BigInt(next()) << 32n) | BigInt(next()) };
}

// ---- Docker's list of what its default profile blocks, and why (docs.docker.com/engine/security/seccomp) ----

const BLOCKED: Record<string, string> = {
  _sysctl: 'obsolete, replaced by /proc/sys',
  acct: 'CAP_SYS_PACCT: process accounting is not namespaced',
  add_key: 'the kernel keyring is not namespaced',
  afs_syscall: 'not implemented',
  bdflush: 'obsolete',
  bpf: 'CAP_SYS_ADMIN/CAP_BPF: loading BPF programs into the kernel',
  break: 'not implemented',
  chroot: 'CAP_SYS_CHROOT (allowed with it, as by default)',
  clock_settime: 'CAP_SYS_TIME: time is not namespaced',
  clock_settime64: 'CAP_SYS_TIME: time is not namespaced',
  create_module: 'CAP_SYS_MODULE: obsolete',
  delete_module: 'CAP_SYS_MODULE: kernel modules',
  fanotify_init: 'CAP_SYS_ADMIN',
  finit_module: 'CAP_SYS_MODULE: kernel modules',
  fsconfig: 'CAP_SYS_ADMIN: the mount API',
  fsmount: 'CAP_SYS_ADMIN: the mount API',
  fsopen: 'CAP_SYS_ADMIN: the mount API',
  fspick: 'CAP_SYS_ADMIN: the mount API',
  ftime: 'not implemented',
  get_kernel_syms: 'CAP_SYS_MODULE: obsolete',
  get_mempolicy: 'CAP_SYS_NICE: NUMA memory policy',
  getpmsg: 'not implemented',
  gtty: 'not implemented',
  idle: 'obsolete',
  init_module: 'CAP_SYS_MODULE: kernel modules',
  io_uring_enter: 'io_uring: a large attack surface with a history of escapes (blocked since Docker 25)',
  io_uring_register: 'io_uring (blocked since Docker 25)',
  io_uring_setup: 'io_uring (blocked since Docker 25)',
  ioperm: 'CAP_SYS_RAWIO: I/O ports',
  iopl: 'CAP_SYS_RAWIO: I/O privilege level',
  kcmp: 'CAP_SYS_PTRACE: compares kernel objects of other processes',
  kexec_file_load: 'CAP_SYS_BOOT: loads a new kernel',
  kexec_load: 'CAP_SYS_BOOT: loads a new kernel',
  keyctl: 'the kernel keyring is not namespaced',
  lock: 'not implemented',
  lookup_dcookie: 'CAP_SYS_ADMIN: tracing',
  mbind: 'CAP_SYS_NICE: NUMA memory policy',
  migrate_pages: 'CAP_SYS_NICE: NUMA',
  mount: 'CAP_SYS_ADMIN',
  mount_setattr: 'CAP_SYS_ADMIN: the mount API',
  move_mount: 'CAP_SYS_ADMIN: the mount API',
  move_pages: 'CAP_SYS_NICE: NUMA',
  mpx: 'not implemented',
  nfsservctl: 'not in the kernel since 3.1',
  nice: 'obsolete (setpriority is allowed)',
  oldfstat: 'obsolete',
  oldlstat: 'obsolete',
  oldolduname: 'obsolete',
  oldstat: 'obsolete',
  olduname: 'obsolete',
  open_by_handle_at: 'CAP_DAC_READ_SEARCH: opens host files by handle (CVE-2014 "shocker")',
  open_tree: 'CAP_SYS_ADMIN: the mount API',
  perf_event_open: 'CAP_PERFMON/CAP_SYS_ADMIN: tracing reveals host information',
  pidfd_getfd: 'CAP_SYS_PTRACE: takes another process\'s fds',
  pivot_root: 'CAP_SYS_ADMIN',
  process_madvise: 'CAP_SYS_PTRACE',
  prof: 'not implemented',
  profil: 'not implemented',
  putpmsg: 'not implemented',
  query_module: 'CAP_SYS_MODULE: obsolete',
  quotactl: 'CAP_SYS_ADMIN: quotas are not namespaced',
  quotactl_fd: 'CAP_SYS_ADMIN: quotas are not namespaced',
  readdir: 'obsolete (getdents)',
  reboot: 'CAP_SYS_BOOT',
  request_key: 'the kernel keyring is not namespaced',
  security: 'not implemented',
  set_mempolicy: 'CAP_SYS_NICE: NUMA memory policy',
  set_mempolicy_home_node: 'CAP_SYS_NICE: NUMA memory policy',
  setdomainname: 'CAP_SYS_ADMIN: the container\'s UTS name is set by skiff',
  sethostname: 'CAP_SYS_ADMIN: the container\'s UTS name is set by skiff',
  setns: 'CAP_SYS_ADMIN: joining namespaces',
  settimeofday: 'CAP_SYS_TIME: time is not namespaced',
  sgetmask: 'obsolete',
  sigaction: 'obsolete (rt_sigaction)',
  signal: 'obsolete (rt_sigaction)',
  sigpending: 'obsolete (rt_sigpending)',
  sigsuspend: 'obsolete (rt_sigsuspend)',
  ssetmask: 'obsolete',
  stime: 'CAP_SYS_TIME: time is not namespaced',
  stty: 'not implemented',
  swapoff: 'CAP_SYS_ADMIN: swap is not namespaced',
  swapon: 'CAP_SYS_ADMIN: swap is not namespaced',
  sysfs: 'obsolete',
  syslog: 'CAP_SYSLOG/CAP_SYS_ADMIN: the kernel log',
  tuxcall: 'not implemented',
  ulimit: 'not implemented',
  umount: 'CAP_SYS_ADMIN',
  umount2: 'CAP_SYS_ADMIN',
  unshare: 'CAP_SYS_ADMIN: new namespaces, in particular user namespaces, a common start of exploits',
  uselib: 'obsolete, with a history of bugs',
  userfaultfd: 'stalls kernel code at will, a common exploit primitive',
  ustat: 'obsolete',
  vhangup: 'CAP_SYS_TTY_CONFIG',
  vm86: 'CAP_SYS_ADMIN-free kernel code for 16-bit programs, a history of bugs',
  vm86old: 'as vm86',
  vserver: 'not implemented',
};

const HEADERS = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';

describe('the system call table', () => {
  // The table is generated from linux-libc-dev; without the headers there is nothing to compare with.
  test.skipIf(!existsSync(HEADERS))(skipTitle('matches this machine\'s kernel headers, scripts/gen-syscall-table.mjs --check', existsSync(HEADERS) ? undefined : `needs ${HEADERS}: apt-get install linux-libc-dev`), () => {
    expect(execFileSync(process.execPath, ['scripts/gen-syscall-table.mjs', '--check'], { encoding: 'utf8' })).toContain('matches');
  });

  test('comes from the kernel headers: x86_64, i386 and x32 numbers as unistd_*.h give them', () => {
    expect(nr('x86_64', 'read')).toBe(0);
    expect(nr('x86_64', 'keyctl')).toBe(250);
    expect(nr('i386', 'keyctl')).toBe(288);
    expect(nr('i386', 'getpid')).toBe(20);
    expect(nr('x32', 'keyctl')).toBe(X32_SYSCALL_BIT + 250);
    // x32 has its own numbers for calls whose structures differ.
    expect(nr('x32', 'rt_sigaction')).toBe(X32_SYSCALL_BIT + 512);
  });
});

describe('the default profile', () => {
  test('validates as a Docker profile', () => {
    expect(() => validateSeccompProfile(DEFAULT_SECCOMP_PROFILE, 'default')).not.toThrow();
  });

  test('has no minKernel rule, so what the build precompiles holds on every kernel', () => {
    expect(DEFAULT_SECCOMP_PROFILE.syscalls.filter((r) => JSON.stringify(r).includes('minKernel'))).toEqual([]);
  });

  test('the build precompiles it for the default capabilities and for none, as on this kernel', () => {
    const [withDefaults, withNone] = precompileDefaultSeccomp();
    expect(JSON.parse(withDefaults!.key)).toEqual(resolveSeccompProfile(validateSeccompProfile(DEFAULT_SECCOMP_PROFILE, 'd'), { capabilities: defaultCaps, kernelRelease: release() }));
    expect(withNone!.capabilities).toBe('');
    expect(withDefaults!.program).toBe(compileSeccomp(resolveDefault()).toString('hex'));
  });

  test('names every x86_64, i386 and x32 system call, or blocks it for a documented reason', () => {
    const named = new Set(DEFAULT_SECCOMP_PROFILE.syscalls.flatMap((r) => r.names));
    const missing: string[] = [];
    for (const abi of ['x86_64', 'i386', 'x32'] as const) {
      for (const name of syscallTable(abi).keys()) if (!named.has(name) && BLOCKED[name] === undefined) missing.push(`${abi}:${name}`);
    }
    expect(missing).toEqual([]);
    // And the blocked list only names real calls that get no unconditional allow under the default capabilities.
    const oci = resolveDefault();
    const allowed = new Set(oci.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
    for (const name of Object.keys(BLOCKED)) if (name !== 'chroot') expect(allowed.has(name), name).toBe(false);
  });

  const program = compileSeccomp(resolveDefault());

  test.each([
    'keyctl',
    'add_key',
    'request_key',
    'bpf',
    'userfaultfd',
    'unshare',
    'mount',
    'open_by_handle_at',
    'perf_event_open',
    'kexec_load',
    'init_module',
    'setns',
    'io_uring_setup',
    'swapon',
    'reboot',
    'syslog',
  ])('blocks %s with EPERM on x86_64, i386 and x32', (name) => {
    for (const abi of ['x86_64', 'i386', 'x32'] as const) {
      if (syscallTable(abi).has(name)) expect(call(program, abi, name), `${abi} ${name}`).toBe(EPERM);
    }
  });

  test.each(['read', 'write', 'openat', 'execve', 'exit_group', 'getppid', 'futex', 'mmap', 'rt_sigaction', 'wait4', 'ptrace', 'chroot'])('allows %s', (name) => {
    expect(call(program, 'x86_64', name)).toBe(ALLOW);
    if (syscallTable('i386').has(name)) expect(call(program, 'i386', name)).toBe(ALLOW);
  });

  test('a 32-bit `int 0x80` call is filtered by its i386 number, not let through by the x86_64 rules', () => {
    // i386's 250 is fadvise64 (allowed) and x86_64's keyctl: the filter must read the arch first.
    expect(call(program, 'i386', 'keyctl')).toBe(EPERM);
    expect(runFilter(program, { nr: 250, arch: AUDIT_ARCH_I386 }).ret).toBe(ALLOW);
    expect(runFilter(program, { nr: 288, arch: AUDIT_ARCH_X86_64 }).ret).toBe(ALLOW); // x86_64's 288 is accept4
    expect(call(program, 'i386', 'socketcall')).toBe(ALLOW);
  });

  test('x32 numbers (bit 30) are x32 calls: keyctl is blocked, an x86_64-only number is unknown', () => {
    expect(runFilter(program, { nr: X32_SYSCALL_BIT + 250, arch: AUDIT_ARCH_X86_64 }).ret).toBe(EPERM);
    expect(runFilter(program, { nr: X32_SYSCALL_BIT + 13, arch: AUDIT_ARCH_X86_64 }).ret).toBe(ENOSYS);
    expect(runFilter(program, { nr: X32_SYSCALL_BIT + 39, arch: AUDIT_ARCH_X86_64 }).ret).toBe(ALLOW); // getpid
  });

  test('numbers the table does not know get ENOSYS, so libc falls back; another architecture is killed', () => {
    for (const n of [451, 460, 1000, 0x3fffffff]) expect(runFilter(program, { nr: n, arch: AUDIT_ARCH_X86_64 }).ret, String(n)).toBe(ENOSYS);
    expect(runFilter(program, { nr: 451, arch: AUDIT_ARCH_I386 }).ret).toBe(ENOSYS);
    expect(runFilter(program, { nr: -1, arch: AUDIT_ARCH_X86_64 }).ret).toBe(ENOSYS);
    expect(runFilter(program, { nr: 0, arch: AUDIT_ARCH_AARCH64 }).ret).toBe(KILL_PROCESS);
  });

  test('clone makes threads and processes but no namespaces; clone3 says ENOSYS', () => {
    const CLONE_THREAD_FLAGS = 0x3d0f00n;
    expect(call(program, 'x86_64', 'clone', [CLONE_THREAD_FLAGS])).toBe(ALLOW);
    expect(call(program, 'x86_64', 'clone', [17n])).toBe(ALLOW); // fork: SIGCHLD
    for (const ns of [0x10000000n, 0x20000000n, 0x40000000n, 0x00020000n, 0x02000000n, 0x04000000n, 0x08000000n]) {
      expect(call(program, 'x86_64', 'clone', [17n | ns]), ns.toString(16)).toBe(EPERM);
      expect(call(program, 'i386', 'clone', [17n | ns])).toBe(EPERM);
    }
    expect(call(program, 'x86_64', 'clone3')).toBe(ENOSYS);
  });

  test('ioctl TIOCSTI and TIOCLINUX are refused whatever the upper 32 bits say; other requests pass', () => {
    expect(call(program, 'x86_64', 'ioctl', [0n, 0x5412n])).toBe(EPERM);
    expect(call(program, 'x86_64', 'ioctl', [0n, 0xdead_0000_5412n])).toBe(EPERM);
    expect(call(program, 'x86_64', 'ioctl', [0n, 0x541cn])).toBe(EPERM);
    expect(call(program, 'i386', 'ioctl', [0n, 0x5412n])).toBe(EPERM);
    expect(call(program, 'x86_64', 'ioctl', [0n, 0x5413n])).toBe(ALLOW); // TIOCGWINSZ
  });

  test('socket: every family but AF_VSOCK, also when the upper half is set (the kernel reads an int)', () => {
    expect(call(program, 'x86_64', 'socket', [2n])).toBe(ALLOW);
    expect(call(program, 'x86_64', 'socket', [40n])).toBe(EPERM);
    expect(call(program, 'x86_64', 'socket', [0x1_0000_0028n])).toBe(EPERM);
  });

  test('personality: only the values Docker allows', () => {
    for (const p of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) expect(call(program, 'x86_64', 'personality', [p])).toBe(ALLOW);
    expect(call(program, 'x86_64', 'personality', [0x0040000n])).toBe(EPERM); // READ_IMPLIES_EXEC
  });

  test('capabilities open what they gate: CAP_SYS_ADMIN brings mount, unshare, namespaced clone and clone3', () => {
    const admin = compileSeccomp(resolveDefault([...defaultCaps, 'CAP_SYS_ADMIN']));
    expect(call(admin, 'x86_64', 'mount')).toBe(ALLOW);
    expect(call(admin, 'x86_64', 'unshare')).toBe(ALLOW);
    expect(call(admin, 'x86_64', 'clone', [0x10000011n])).toBe(ALLOW);
    expect(call(admin, 'x86_64', 'clone3')).toBe(ALLOW);
    expect(call(admin, 'x86_64', 'keyctl')).toBe(EPERM);
    const none = compileSeccomp(resolveDefault([]));
    expect(call(none, 'x86_64', 'chroot')).toBe(EPERM);
    expect(call(program, 'x86_64', 'chroot')).toBe(ALLOW);
  });

  test('is small and quick: a few hundred instructions, and read is decided in a handful of steps', () => {
    expect(program.length / 8).toBeLessThan(1000);
    expect(runFilter(program, { nr: 110, arch: AUDIT_ARCH_X86_64 }).steps).toBeLessThan(14); // getppid
  });
});

describe('the compiler agrees with the profile semantics', () => {
  const NAMES = ['read', 'write', 'ioctl', 'socket', 'clone', 'personality', 'keyctl', 'getppid', 'mmap', 'futex', 'arch_prctl', 'rt_sigaction'];
  const OPS = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
  const ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG', 'SCMP_ACT_KILL'] as const;
  const VALUES = [0n, 1n, 40n, 0x5412n, 0xffffffffn, 0x1_0000_0000n, 0x1_0000_0028n, 0x7fff_ffff_ffffn];

  test.each([1, 2, 3, 4, 5, 6, 7, 8])('random profile %i, all ABIs, random arguments', (seed) => {
    const r = random(seed * 7919);
    const small = (v: bigint) => Number(v);
    const rules = Array.from({ length: 3 + r.int(12) }, () => {
      const action = r.pick(ACTIONS);
      const args = Array.from({ length: r.int(3) }, () => ({ index: r.int(6), value: small(r.pick(VALUES)), valueTwo: small(r.pick(VALUES)), op: r.pick(OPS) }));
      return { names: [r.pick(NAMES), r.pick(NAMES)], action, ...(action === 'SCMP_ACT_ERRNO' ? { errnoRet: 1 + r.int(100) } : {}), args };
    });
    // Rules without conditions for one name must agree (the resolver refuses conflicts): keep the first.
    const seen = new Set<string>();
    const json = {
      defaultAction: r.pick(['SCMP_ACT_ERRNO', 'SCMP_ACT_ALLOW', 'SCMP_ACT_KILL_PROCESS'] as const),
      architectures: ['SCMP_ARCH_X86_64', ...(r.int(2) ? ['SCMP_ARCH_X86'] : []), ...(r.int(2) ? ['SCMP_ARCH_X32'] : [])],
      syscalls: rules.filter((rule) => rule.args.length > 0 || rule.names.every((n) => !seen.has(n) && seen.add(n))),
    };
    const oci = resolveSeccompProfile(validateSeccompProfile(json, 'random'), { capabilities: [], kernelRelease: KERNEL });
    const prog = compileSeccomp(oci);
    for (let i = 0; i < 400; i++) {
      const abi = r.pick(['x86_64', 'i386', 'x32'] as const);
      const number = r.int(10) === 0 ? (abi === 'x32' ? X32_SYSCALL_BIT : 0) + 440 + r.int(20) : nr(abi, r.pick(NAMES.filter((n) => syscallTable(abi).has(n))));
      const args = Array.from({ length: 6 }, () => (r.int(2) ? r.pick(VALUES) : r.u64()));
      const got = runFilter(prog, { nr: number, arch: ARCH_OF[abi], args }).ret;
      expect(got, `${abi} nr ${number} args ${args.map((a) => a.toString(16))}`).toBe(reference(oci, abi, number, args));
    }
  });

  test('a program longer than a conditional jump reaches (255) still routes every call right', () => {
    const json = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        ...Array.from({ length: 150 }, (_, i) => ({ names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 + (i % 200), args: [{ index: 1, value: 1000 + i, op: 'SCMP_CMP_EQ' }] })),
        { names: ['ioctl', 'read', 'write', 'getppid'], action: 'SCMP_ACT_ALLOW' },
      ],
    };
    const prog = compileSeccomp(resolveSeccompProfile(validateSeccompProfile(json, 'long'), { capabilities: [], kernelRelease: KERNEL }));
    expect(prog.length / 8).toBeGreaterThan(600);
    expect(call(prog, 'x86_64', 'read')).toBe(ALLOW);
    expect(call(prog, 'x86_64', 'getppid')).toBe(ALLOW);
    expect(call(prog, 'x86_64', 'ioctl', [0n, 1149n])).toBe(errno(150));
    expect(call(prog, 'x86_64', 'ioctl', [0n, 5n])).toBe(ALLOW);
    expect(call(prog, 'x86_64', 'keyctl')).toBe(EPERM);
  });
});

describe('profile validation names the field', () => {
  const check = (json: unknown) => () => parseSeccompProfile(JSON.stringify(json), 'p.json');
  test.each([
    [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'kexec'], action: 'SCMP_ACT_ALLOW' }] }, 'seccomp profile p.json: syscalls[0].names[1]: unknown system call "kexec"'],
    [{ defaultAction: 'SCMP_ACT_DENY' }, 'seccomp profile p.json: defaultAction: unknown action "SCMP_ACT_DENY"'],
    [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALOW' }] }, 'seccomp profile p.json: syscalls[0].action: unknown action "SCMP_ACT_ALOW"'],
    [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, 'syscalls[0].args[0].index: must be 0 to 5'],
    [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQUAL' }] }] }, 'syscalls[0].args[0].op: unknown operator "SCMP_CMP_EQUAL"'],
    [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] }, 'syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one'],
    [{ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_Z80'] }, 'architectures[0]: unknown architecture "SCMP_ARCH_Z80"'],
    [{ defaultAction: 'SCMP_ACT_ERRNO', sycalls: [] }, 'sycalls: unknown field'],
    [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }, 'syscalls[0].action: SCMP_ACT_NOTIFY needs a seccomp agent'],
    [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['SYS_ADMIN'] } }] }, 'syscalls[0].includes.caps[0]: "SYS_ADMIN" is not a capability name'],
  ])('%j', (json, message) => {
    expect(check(json)).toThrow(message);
  });

  test('not JSON', () => {
    expect(() => parseSeccompProfile('{"defaultAction":', 'p.json')).toThrow(/^seccomp profile p.json: not valid JSON: /);
  });

  test('names of other architectures are accepted in rules that only apply there', () => {
    const json = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['arm_fadvise64_64', 's390_pci_mmio_read'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 's390x'] } }] };
    expect(() => validateSeccompProfile(json, 'p')).not.toThrow();
  });

  test('two unconditional rules that disagree on one call are refused by name', () => {
    const json = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'mount'], action: 'SCMP_ACT_ALLOW' }, { names: ['mount'], action: 'SCMP_ACT_ERRNO' }] };
    expect(() => resolveSeccompProfile(validateSeccompProfile(json, 'p.json'), { capabilities: [], kernelRelease: KERNEL })).toThrow(
      'seccomp profile: syscalls[0] and syscalls[1] give "mount" different actions (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO)',
    );
  });

  test('includes and excludes by capability, architecture and kernel', () => {
    const json = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['read'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['write'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
        { names: ['getpid'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '99.1' } },
        { names: ['getppid'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '6.18' } },
      ],
    };
    const names = (caps: string[]) => resolveSeccompProfile(validateSeccompProfile(json, 'p'), { capabilities: caps, kernelRelease: '6.18.44-fc' }).syscalls.flatMap((s) => s.names);
    expect(names([])).toEqual(['read', 'getppid']);
    expect(names(['CAP_SYS_ADMIN'])).toEqual(['mount', 'getppid']);
  });
});
