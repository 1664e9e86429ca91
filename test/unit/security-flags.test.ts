// --cap-add/--cap-drop/--privileged and --security-opt, parsed as Docker and Podman do.
import { describe, expect, test } from 'vitest';
import { ALL_CAPABILITIES, normalizeCapability, parseSecurityOptions, resolveCapabilities, resolveSystemPaths } from '../../lib/oci/spec/security.js';
import { DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from '../../lib/oci/spec/defaults.js';

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
