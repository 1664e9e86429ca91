// Golden tests of the pure builder: RunOptions -> config.json -> helper spec.
// Regenerate a golden file deliberately with UPDATE_GOLDEN=1.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { helperSpecEntries, encodeSpec, parseReports } from '../../lib/namespaces/helper.js';
import type { RunOptions } from '../../lib/oci/spec/options.js';
import { buildRuntimeConfig, containerEnvironment } from '../../lib/oci/spec/runtime.js';
import { canMakeDeviceAt, devicesMadeByMknod, type HostDevice } from '../../lib/oci/spec/devices.js';

const goldenDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');

function golden(name: string, value: unknown): void {
  const file = path.join(goldenDir, name);
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env['UPDATE_GOLDEN']) writeFileSync(file, text);
  if (!existsSync(file)) throw new Error(`golden file ${name} is missing: run with UPDATE_GOLDEN=1 once and review it`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const base: RunOptions = {
  id: 'a'.repeat(64),
  rootfs: '/srv/rootfs',
  args: ['sh', '-c', 'echo hi'],
  env: ['A=1'],
  workdir: '/',
  user: '',
  hostname: 'aaaaaaaaaaaa',
  network: 'none',
  init: false,
  tty: false,
  interactive: false,
  idMappings: null,
};

const rootless: RunOptions = {
  ...base,
  user: 'app:staff',
  network: 'host',
  init: true,
  tty: true,
  interactive: true,
  workdir: '/work',
  idMappings: {
    single: false,
    uidMappings: [
      { containerID: 0, hostID: 1000, size: 1 },
      { containerID: 1, hostID: 100000, size: 65536 },
    ],
    gidMappings: [
      { containerID: 0, hostID: 1000, size: 1 },
      { containerID: 1, hostID: 100000, size: 65536 },
    ],
  },
};

describe('config.json builder', () => {
  test('root, network none', () => golden('config-root.json', buildRuntimeConfig(base)));
  test('rootless, host network, tty, init, named user', () => golden('config-rootless.json', buildRuntimeConfig(rootless)));

  test('environment: defaults first, later entries win, TERM for a tty', () => {
    expect(containerEnvironment({ env: ['PATH=/x', 'A=1', 'A=2'], hostname: 'h', tty: true })).toEqual(['PATH=/x', 'HOSTNAME=h', 'TERM=xterm', 'A=2']);
  });

  test('a numeric user goes into process.user', () => {
    expect(buildRuntimeConfig({ ...base, user: '1000:50' }).process.user).toEqual({ uid: 1000, gid: 50, username: '1000:50' });
  });
});

describe('helper spec', () => {
  test('entries for the rootless case', () => {
    const entries = helperSpecEntries(buildRuntimeConfig(rootless)).filter((e) => !e.startsWith('newuidmap=') && !e.startsWith('newgidmap='));
    golden('helper-spec-rootless.json', entries);
  });

  test('the capability mask is Docker’s default', () => {
    expect(helperSpecEntries(buildRuntimeConfig(base))).toContain('caps=a80425fb');
  });

  test('devices: made by mknod in /dev where they may be (root with a device cgroup), bound elsewhere', () => {
    const dev = (containerPath: string): HostDevice => ({ hostPath: '/dev/fuse', containerPath, type: 'c', major: 10, minor: 229, permissions: 'r', fileMode: 0o600, uid: 0, gid: 6 });
    for (const p of ['/dev/f', '/dev/snd/controlC0']) expect(canMakeDeviceAt(p)).toBe(true);
    for (const p of ['/opt/f', '/dev/', '/dev/null', '/dev/fd/3', '/dev/shm/x', '/dev/pts/9', '/dev/a/../b', '/dev//b', '/dev/a\tb']) expect(canMakeDeviceAt(p)).toBe(false);
    const devices = devicesMadeByMknod([dev('/dev/f'), dev('/opt/f'), dev('/dev/f')]);
    expect(devices.map((d) => d.create === true)).toEqual([true, false, false]);
    const config = buildRuntimeConfig({ ...base, devices });
    expect(config.mounts.filter((m) => m.source === '/dev/fuse').map((m) => m.destination)).toEqual(['/opt/f', '/dev/f']);
    // The second node at /dev/f is bound over the made one: the helper makes none there.
    expect(helperSpecEntries(config).filter((e) => e.startsWith('device='))).toEqual([]);
    const made = buildRuntimeConfig({ ...base, devices: devices.slice(0, 2) });
    expect(made.linux.devices).toEqual([
      { path: '/dev/f', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 6 },
      { path: '/opt/f', type: 'c', major: 10, minor: 229 },
    ]);
    expect(helperSpecEntries(made).filter((e) => e.startsWith('device='))).toEqual(['device=/dev/f\tc\t10\t229\t600\t0\t6']);
  });

  test('a NUL byte in a value is refused', () => {
    expect(() => encodeSpec(['env=A=\0'])).toThrow('a value contains a NUL byte: env');
  });

  test('reports from the helper', () => {
    expect(parseReports('pid\t42\nwarning\tcareful\ndebug\tmount overlay on /\nerror\t127\texec: "x": not found\n')).toEqual({
      pid: 42,
      warnings: ['careful'],
      debug: ['mount overlay on /'],
      errors: [{ exitCode: 127, message: 'exec: "x": not found' }],
    });
    // run --rm: the helper removed the container's trees itself (autoremove.h).
    expect(parseReports('oom\t0\nremoved\t2\n')).toEqual({ warnings: [], debug: [], errors: [], oomKilled: false, removed: true });
  });
});
