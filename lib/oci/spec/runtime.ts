// The pure builder: RunOptions -> OCI runtime config.json. No I/O, so golden
// tests pin it down (test/unit/runtime-spec.test.ts).
import type { OciMount, OciRuntimeConfig } from '../runtime-spec.js';
import type { RunOptions } from './options.js';
import type { NamespaceChoice } from './namespaces.js';
import { DEFAULT_CAPABILITIES, DEFAULT_PATH, MASKED_PATHS, READONLY_PATHS } from './defaults.js';

/** The overlay root filesystem a config asks for (the annotation buildRuntimeConfig writes), if any. */
export function overlayOf(config: OciRuntimeConfig): NonNullable<RunOptions['overlay']> | undefined {
  const text = config.annotations['io.skiff.overlay'];
  return text ? (JSON.parse(text) as NonNullable<RunOptions['overlay']>) : undefined;
}

/** Environment as Docker builds it: PATH and HOSTNAME unless given, TERM for a tty, later entries win; --unsetenv drops those defaults. */
export function containerEnvironment(options: Pick<RunOptions, 'env' | 'hostname' | 'tty' | 'unsetDefaults'>): string[] {
  const byKey = new Map<string, string>();
  const set = (entry: string) => byKey.set(entry.slice(0, entry.indexOf('=')), entry);
  const unset = new Set(options.unsetDefaults ?? []);
  if (!unset.has('PATH')) set(`PATH=${DEFAULT_PATH}`);
  if (!unset.has('HOSTNAME')) set(`HOSTNAME=${options.hostname}`);
  if (options.tty && !unset.has('TERM')) set('TERM=xterm');
  for (const entry of options.env) set(entry);
  return [...byKey.values()];
}

function standardMounts(options: RunOptions): OciMount[] {
  // --privileged gets a writable /sys, as in Docker.
  const access = options.privileged ? 'rw' : 'ro';
  const sys: OciMount =
    (options.network === 'host' || options.network === 'join') && options.idMappings
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', access] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', access] };
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    sys,
  ];
}

/** Path components of a clean absolute path: Docker mounts parents before what lies below them. */
function depth(destination: string): number {
  return destination.split('/').length;
}

/**
 * The standard mounts, then the container's own: its /etc files and its
 * storage (a mount the user gives at the same destination wins), parents
 * before what lies below them, in the order given otherwise.
 */
function containerMounts(options: RunOptions): OciMount[] {
  const storage = options.storage?.mounts ?? [];
  const taken = new Set(storage.map((m) => m.destination));
  const own: OciMount[] = [
    ...(options.binds ?? [])
      .filter((b) => !taken.has(b.destination))
      .map((b) => ({ destination: b.destination, type: 'bind', source: b.source, options: ['bind', b.readonly ? 'ro' : 'rw'] })),
    // Devices come as binds of the host's nodes, as rootless runc and crun give them; as root with a device cgroup they are made by mknod (linux.devices).
    ...(options.devices ?? [])
      .filter((d) => !d.create && !taken.has(d.containerPath))
      .map((d) => ({ destination: d.containerPath, type: 'bind', source: d.hostPath, options: ['bind', 'rw'] })),
    ...storage,
  ];
  const standard = standardMounts(options).filter((m) => !taken.has(m.destination));
  return [...standard, ...own.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map((x) => x.m)];
}

function numericUser(user: string): { uid: number; gid: number } | undefined {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) return undefined;
  return { uid: Number(m[1]), gid: m[2] === undefined ? 0 : Number(m[2]) };
}

export function buildRuntimeConfig(options: RunOptions): OciRuntimeConfig {
  const caps = [...(options.capabilities ?? DEFAULT_CAPABILITIES)];
  const numeric = numericUser(options.user);
  // Names (and a number without a group) are resolved by the helper against the
  // container's own /etc/passwd after pivot_root: see docs/helper-protocol.md.
  const user = options.user === '' ? { uid: 0, gid: 0 } : { uid: numeric?.uid ?? 0, gid: numeric?.gid ?? 0, username: options.user };
  const additionalGids = (options.groupAdd ?? []).filter((g) => /^\d+$/.test(g)).map(Number);
  if (additionalGids.length > 0) Object.assign(user, { additionalGids });
  const namespaces: OciRuntimeConfig['linux']['namespaces'] = [];
  // OCI's form: absent is the host's, a path is another process's.
  const shared = (type: 'pid' | 'ipc' | 'uts', choice: NamespaceChoice | undefined) => {
    if (choice?.kind === 'host') return;
    namespaces.push(choice?.kind === 'join' ? { type, path: `/proc/${choice.pid}/ns/${type}` } : { type });
  };
  shared('pid', options.pid);
  shared('ipc', options.ipc);
  shared('uts', options.uts);
  namespaces.push({ type: 'mount' });
  if (!options.cgroupnsHost) namespaces.push({ type: 'cgroup' });
  if (options.network === 'none' || options.network === 'private') namespaces.push({ type: 'network' });
  if (options.network === 'join') namespaces.push({ type: 'network', path: options.networkJoin ?? '' });
  if (options.idMappings) namespaces.push(options.userJoinPid ? { type: 'user', path: `/proc/${options.userJoinPid}/ns/user` } : { type: 'user' });
  return {
    ociVersion: '1.2.0',
    process: {
      terminal: options.tty,
      user,
      args: options.args,
      env: containerEnvironment(options),
      cwd: options.workdir,
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      noNewPrivileges: options.noNewPrivileges ?? true,
    },
    root: { path: options.rootfs, readonly: options.storage?.readonlyRootfs ?? false },
    hostname: options.hostname,
    mounts: containerMounts(options),
    annotations: {
      'io.skiff.init': String(options.init),
      'io.skiff.stdin': String(options.interactive),
      'io.skiff.network': options.networkLabel ?? options.network,
      ...(options.network === 'private' && options.networkProgram ? { 'io.skiff.net': JSON.stringify(options.networkProgram) } : {}),
      ...(options.seccompProfile ? { 'io.skiff.seccomp': options.seccompProfile } : {}),
      ...(options.groupAdd?.length ? { 'io.skiff.group-add': JSON.stringify(options.groupAdd) } : {}),
      ...(options.devMknod ? { 'io.skiff.dev-mknod': 'true' } : {}),
      ...(options.ipcNoShm ? { 'io.skiff.ipc': 'none' } : {}),
      // No OCI field for it: conmon's --timeout is the engine's, as this is the helper's and the monitor's.
      ...(options.timeout ? { 'io.skiff.timeout': String(options.timeout) } : {}),
      // The runtime spec leaves making the root filesystem to the engine: skiff's helper mounts this overlay onto root.path.
      ...(options.overlay ? { 'io.skiff.overlay': JSON.stringify(options.overlay) } : {}),
    },
    linux: {
      namespaces,
      ...(options.idMappings
        ? { uidMappings: options.idMappings.uidMappings, gidMappings: options.idMappings.gidMappings }
        : {}),
      maskedPaths: [...(options.maskedPaths ?? MASKED_PATHS)],
      readonlyPaths: [...(options.readonlyPaths ?? READONLY_PATHS)],
      ...(options.devices?.length
        ? {
            devices: options.devices.map((d) => ({
              path: d.containerPath,
              type: d.type,
              major: d.major,
              minor: d.minor,
              ...(d.create ? { fileMode: d.fileMode ?? 0o600, uid: d.uid ?? 0, gid: d.gid ?? 0 } : {}),
            })),
          }
        : {}),
      ...(options.sysctls && Object.keys(options.sysctls).length > 0 ? { sysctl: options.sysctls } : {}),
      ...(options.seccomp ? { seccomp: options.seccomp } : {}),
      ...(options.personality ? { personality: { domain: options.personality } } : {}),
    },
  };
}
