// --cap-add/--cap-drop/--privileged and --security-opt, parsed as Docker and Podman do.
import { describe, expect, test } from 'vitest';
import { ALL_CAPABILITIES, normalizeCapability, parseSecurityOptions, resolveCapabilities, resolveSystemPaths } from '../../lib/oci/spec/security.js';
import { DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from '../../lib/oci/spec/defaults.js';
import { parseDevice, parseSysctls } from '../../lib/oci/spec/devices.js';
import { parseIpcMode, parsePidMode, parseUtsMode } from '../../lib/oci/spec/namespaces.js';

describe('capabilities', () => {
  test('names with or without CAP_, any case; ALL', () => {
    expect(normalizeCapability('net_admin', '--cap-add')).toBe('CAP_NET_ADMIN');
    expect(normalizeCapability('CAP_SYS_ADMIN', '--cap-add')).toBe('CAP_SYS_ADMIN');
    expect(normalizeCapability('all', '--cap-drop')).toBe('ALL');
    expect(() => normalizeCapability('SYS_ADMINN', '--cap-add')).toThrow('--cap-add: unknown capability "SYS_ADMINN"');
  });

  test("Docker's rules: default minus dropped plus added; drop ALL keeps only the added; add ALL all but the dropped; privileged all", () => {
    expect(resolveCapabilities([], [], false)).toEqual([...DEFAULT_CAPABILITIES].sort((a, b) => ALL_CAPABILITIES.indexOf(a) - ALL_CAPABILITIES.indexOf(b)));
    expect(resolveCapabilities([], ['ALL'], false)).toEqual([]);
    expect(resolveCapabilities(['NET_ADMIN'], ['ALL'], false)).toEqual(['CAP_NET_ADMIN']);
    expect(resolveCapabilities(['ALL'], ['MKNOD'], false)).toEqual(ALL_CAPABILITIES.filter((c) => c !== 'CAP_MKNOD'));
    expect(resolveCapabilities(['SYS_ADMIN'], ['NET_RAW'], false)).toContain('CAP_SYS_ADMIN');
    expect(resolveCapabilities(['SYS_ADMIN'], ['NET_RAW'], false)).not.toContain('CAP_NET_RAW');
    // An added one wins over the same dropped one.
    expect(resolveCapabilities(['CHOWN'], ['CHOWN'], false)).toContain('CAP_CHOWN');
    expect(resolveCapabilities([], ['ALL'], true)).toEqual(ALL_CAPABILITIES);
  });
});

describe('--security-opt', () => {
  test('seccomp, no-new-privileges, label=disable, apparmor=unconfined, in = and : spellings', () => {
    expect(parseSecurityOptions([]).seccomp).toEqual({ kind: 'default' });
    expect(parseSecurityOptions(['seccomp=unconfined']).seccomp).toEqual({ kind: 'unconfined' });
    expect(parseSecurityOptions(['seccomp:/etc/p.json']).seccomp).toEqual({ kind: 'file', path: '/etc/p.json' });
    expect(parseSecurityOptions(['no-new-privileges']).noNewPrivileges).toBe(true);
    expect(parseSecurityOptions(['no-new-privileges=false']).noNewPrivileges).toBe(false);
    expect(parseSecurityOptions(['no-new-privileges:true']).noNewPrivileges).toBe(true);
    expect(parseSecurityOptions(['label=disable', 'apparmor=unconfined'])).toEqual({ seccomp: { kind: 'default' }, mask: [], unmask: [] });
  });

  test.each([
    ['seccomp', 'invalid --security-opt "seccomp": use seccomp=unconfined or seccomp=FILE'],
    ['no-new-privileges=maybe', 'invalid --security-opt "no-new-privileges=maybe": expected true or false'],
    ['label=type:spc_t', 'only label=disable is accepted'],
    ['apparmor=docker-default', 'only apparmor=unconfined is accepted'],
    ['mask=proc/kcore', '"proc/kcore" is not an absolute path'],
    ['selinux=off', 'invalid --security-opt "selinux=off": expected seccomp='],
  ])('%s is one clear line', (opt, message) => {
    expect(() => parseSecurityOptions([opt])).toThrow(message);
  });

  test('mask= adds paths, unmask= removes defaults (globs, ALL), systempaths=unconfined is unmask=ALL', () => {
    const paths = (opts: string[], privileged = false) => resolveSystemPaths(parseSecurityOptions(opts), privileged);
    expect(paths([])).toEqual({ masked: MASKED_PATHS, readonly: READONLY_PATHS });
    expect(paths(['mask=/etc/secret:/opt']).masked).toEqual([...MASKED_PATHS, '/etc/secret', '/opt']);
    expect(paths(['unmask=/proc/kcore']).masked).not.toContain('/proc/kcore');
    expect(paths(['unmask=/proc/*']).masked.filter((p) => p.startsWith('/proc/'))).toEqual([]);
    expect(paths(['unmask=/proc/*']).readonly).toEqual([]);
    expect(paths(['unmask=ALL'])).toEqual({ masked: [], readonly: [] });
    expect(paths(['systempaths=unconfined'])).toEqual({ masked: [], readonly: [] });
    expect(paths(['mask=/etc/secret'], true)).toEqual({ masked: ['/etc/secret'], readonly: [] });
  });
});

describe('--device and --sysctl', () => {
  test("--device HOST[:CONTAINER][:PERMISSIONS], as Docker splits it", () => {
    expect(parseDevice('/dev/fuse')).toEqual({ hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'rwm' });
    expect(parseDevice('/dev/sda:/dev/xvda')).toEqual({ hostPath: '/dev/sda', containerPath: '/dev/xvda', permissions: 'rwm' });
    expect(parseDevice('/dev/sda:r')).toEqual({ hostPath: '/dev/sda', containerPath: '/dev/sda', permissions: 'r' });
    expect(parseDevice('/dev/sda:/dev/xvda:rw')).toEqual({ hostPath: '/dev/sda', containerPath: '/dev/xvda', permissions: 'rw' });
    expect(() => parseDevice('/dev/sda:/dev/xvda:rx')).toThrow('permissions are some of r, w and m');
    expect(() => parseDevice('/dev/sda:/dev/xvda:rr')).toThrow('permissions are some of r, w and m');
    expect(() => parseDevice('sda')).toThrow('the host path must be absolute');
  });

  const ctx = { hostNetwork: false, hostIpc: false, hostUts: false };
  test('namespaced keys only, as Docker allows them; / and . are one separator', () => {
    expect(parseSysctls(['net.ipv4.ip_forward=1', 'kernel.shmmax=1', 'fs.mqueue.msg_max=20', 'kernel.sem=250 32000 100 128', 'net/core/somaxconn=1024'], ctx)).toEqual([
      ['net.ipv4.ip_forward', '1'],
      ['kernel.shmmax', '1'],
      ['fs.mqueue.msg_max', '20'],
      ['kernel.sem', '250 32000 100 128'],
      ['net.core.somaxconn', '1024'],
    ]);
    expect(() => parseSysctls(['kernel.pid_max=10'], ctx)).toThrow('--sysctl kernel.pid_max: not namespaced');
    expect(() => parseSysctls(['net.ipv4.ip_forward'], ctx)).toThrow('invalid --sysctl "net.ipv4.ip_forward": use KEY=VALUE');
    expect(() => parseSysctls(['net.ipv4.ip_forward=1'], { ...ctx, hostNetwork: true })).toThrow('shares its network namespace (--network host)');
    expect(() => parseSysctls(['kernel.msgmax=1'], { ...ctx, hostIpc: true })).toThrow('shares its IPC namespace');
    expect(() => parseSysctls(['kernel.domainname=x'], { ...ctx, hostUts: true })).toThrow('shares its UTS namespace');
  });
});

describe('--ipc, --pid, --uts', () => {
  test('modes as Docker and Podman spell them', () => {
    expect(parseIpcMode('')).toEqual({ kind: 'private' });
    expect(parseIpcMode('shareable')).toEqual({ kind: 'private' });
    expect(parseIpcMode('none')).toEqual({ kind: 'none' });
    expect(parseIpcMode('container:web')).toEqual({ kind: 'container', ref: 'web' });
    expect(parsePidMode('host')).toEqual({ kind: 'host' });
    expect(() => parsePidMode('none')).toThrow('invalid --pid "none": use private, host, container:NAME');
    expect(() => parseUtsMode('container:web')).toThrow('invalid --uts "container:web": use private, host');
    expect(() => parseIpcMode('container:')).toThrow('name the container after "container:"');
  });
});
