// --cap-add/--cap-drop/--privileged and --security-opt, parsed as Docker and Podman do.
import { describe, expect, test } from 'vitest';
import { ALL_CAPABILITIES, normalizeCapability, parseSecurityOptions, resolveCapabilities, resolveSystemPaths } from '../../lib/oci/spec/security.js';
import { DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from '../../lib/oci/spec/defaults.js';
import { DEFAULT_DEVICE_RULES, deviceCgroupLine, deviceCgroupRules, parseDevice, parseDeviceCgroupRule, parseSysctls } from '../../lib/oci/spec/devices.js';
import { deviceCgroupFor } from '../../lib/containers/resources.js';
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

  test("--device-cgroup-rule 'TYPE MAJOR:MINOR ACCESS', as Docker checks it", () => {
    expect(parseDeviceCgroupRule('c 42:* rwm')).toEqual({ allow: true, type: 'c', major: 42, access: 'rwm' });
    expect(parseDeviceCgroupRule('b 8:0 r')).toEqual({ allow: true, type: 'b', major: 8, minor: 0, access: 'r' });
    expect(parseDeviceCgroupRule('a *:* m')).toEqual({ allow: true, type: 'a', access: 'm' });
    for (const bad of ['x 1:3 r', 'c 1:3', 'c 1 r', 'c 1:3 rx', 'c 1:3 rr', 'c a:3 r', '']) {
      expect(() => parseDeviceCgroupRule(bad), bad).toThrow(`invalid --device-cgroup-rule "${bad}": use TYPE MAJOR:MINOR ACCESS`);
    }
  });

  test("the device cgroup: all refused, runc's defaults, each --device as its permissions say, the rules; --privileged all", () => {
    const fuse = { type: 'c' as const, major: 10, minor: 229, permissions: 'r' };
    const rules = deviceCgroupRules([fuse], [parseDeviceCgroupRule('c 10:229 w')], false);
    expect(rules.map(deviceCgroupLine)).toEqual([
      'a *:* rwm',
      'c *:* m',
      'b *:* m',
      'c 1:3 rwm',
      'c 1:5 rwm',
      'c 1:7 rwm',
      'c 1:8 rwm',
      'c 1:9 rwm',
      'c 5:0 rwm',
      'c 5:1 rwm',
      'c 5:2 rwm',
      'c 10:200 rwm',
      'c 136:* rwm',
      'c 10:229 r',
      'c 10:229 w',
    ]);
    expect(rules[0]!.allow).toBe(false);
    expect(rules.slice(1).every((r) => r.allow)).toBe(true);
    expect(DEFAULT_DEVICE_RULES.some((r) => r.major === 10 && r.minor === 229)).toBe(false);
    expect(deviceCgroupRules([fuse], [], true)).toEqual([{ allow: true, access: 'rwm' }]);
  });

  test('the device cgroup is made as root, in the v1 devices controller or as a cgroup v2 eBPF filter; elsewhere --device-cgroup-rule is one line', () => {
    const devNull = { hostPath: '/dev/null', containerPath: '/dev/null', type: 'c' as const, major: 1, minor: 3, permissions: 'r' };
    const v1 = { cgroup: { kind: 'v2' as const, dir: '/sys/fs/cgroup/unified/skiff/x', v1: { devices: '/sys/fs/cgroup/devices/skiff/x' } } };
    const v2 = { cgroup: { kind: 'v2' as const, dir: '/sys/fs/cgroup/skiff/x' } };
    const req = { privileged: false, devices: [devNull], rules: ['c 1:3 w'], rootless: false };
    expect(deviceCgroupFor(req, v1).rules!.map(deviceCgroupLine).slice(-2)).toEqual(['c 1:3 r', 'c 1:3 w']);
    expect(() => deviceCgroupFor({ ...req, rootless: true }, v1)).toThrow('--device-cgroup-rule cannot be applied: a rootless container has no device cgroup (run as root for one)');
    // cgroup v2 (or hybrid without the v1 devices controller): the same rules, which the helper attaches as an eBPF program.
    expect(deviceCgroupFor(req, v2).rules!.map(deviceCgroupLine)).toEqual(deviceCgroupFor(req, v1).rules!.map(deviceCgroupLine));
    const freezerOnly = { cgroup: { kind: 'v1-freezer' as const, dir: '/sys/fs/cgroup/freezer/skiff/x', v1: { memory: '/sys/fs/cgroup/memory/skiff/x' } } };
    expect(() => deviceCgroupFor(req, freezerOnly)).toThrow('--device-cgroup-rule cannot be applied: the container has no cgroup v1 devices directory and no cgroup v2 one to attach a device filter to');
    expect(() => deviceCgroupFor(req, { reason: 'it runs with --cgroups=disabled' })).toThrow('--device-cgroup-rule cannot be applied: the container has no cgroup, because it runs with --cgroups=disabled');
    expect(() => deviceCgroupFor({ ...req, rules: ['c 1:3'] }, v1)).toThrow('invalid --device-cgroup-rule "c 1:3"');
    // Without one, a --device that asks for less than the caller may do gets a warning (/dev/null: anyone may write it).
    expect(deviceCgroupFor({ ...req, rules: [], rootless: true }, v1)).toEqual({
      warnings: ['--device /dev/null:r: the container may open it as far as your user can, since a rootless container has no device cgroup (run as root for one)'],
    });
    expect(deviceCgroupFor({ ...req, rules: [], rootless: true, devices: [{ ...devNull, permissions: 'rw' }] }, v1)).toEqual({ warnings: [] });
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
