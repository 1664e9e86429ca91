// --device HOST[:CONTAINER][:PERMISSIONS] as Docker reads it, and --sysctl's
// rule that only namespaced settings may be set. Pure: the host's device
// nodes are looked at by lib/containers/devices.ts.
import { SkiffError } from '../../errors.js';

/** A host device node as the container gets it: bound from hostPath, or made by mknod (`create`). */
export interface HostDevice {
  hostPath: string;
  containerPath: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  /** Some of r, w, m. */
  permissions: string;
  /** The host node's permission bits, owner and group: what a node made by mknod gets. */
  fileMode?: number;
  uid?: number;
  gid?: number;
  /** Made in the container's /dev by mknod (as root, with a device cgroup) instead of bound. */
  create?: boolean;
}

/** Names in /dev the helper makes itself (binds, links, its own mounts): a device there is bound over them. */
const HELPER_DEV_NAMES = new Set(['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx', 'console', 'fd', 'stdin', 'stdout', 'stderr', 'core', 'pts', 'shm', 'mqueue']);

/**
 * Whether a device can be made at this path by mknod: a clean path in the
 * container's own /dev tmpfs, not below one of its mounts or links, nor
 * over a node the helper binds there. Anything else is bound, as rootless.
 */
export function canMakeDeviceAt(containerPath: string): boolean {
  if (!containerPath.startsWith('/dev/') || containerPath.endsWith('/') || /[\t\n]/.test(containerPath)) return false;
  const parts = containerPath.slice('/dev/'.length).split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return false;
  return !HELPER_DEV_NAMES.has(parts[0]!);
}

/**
 * As root with a device cgroup (v1 rules or the v2 filter decide what
 * opens), devices are made by mknod as Docker's runc makes them; the rest
 * (another path, a second node at one path) stay bound.
 */
export function devicesMadeByMknod(devices: HostDevice[]): HostDevice[] {
  const made = new Set<string>();
  return devices.map((d) => {
    if (!canMakeDeviceAt(d.containerPath) || made.has(d.containerPath) || d.fileMode === undefined) return d;
    made.add(d.containerPath);
    return { ...d, create: true };
  });
}

export interface DeviceRequest {
  hostPath: string;
  containerPath: string;
  /** Some of r, w and m (Docker's cgroup permissions); default rwm. */
  permissions: string;
}

const PERMISSIONS = /^(?!.*(.).*\1)[rwm]{1,3}$/;

/** "/dev/fuse", "/dev/sda:/dev/xvda", "/dev/sda:r", "/dev/sda:/dev/xvda:rw". */
export function parseDevice(spec: string): DeviceRequest {
  const parts = spec.split(':');
  let [hostPath, containerPath, permissions] = [parts[0] ?? '', parts[0] ?? '', 'rwm'];
  if (parts.length === 2) {
    if (PERMISSIONS.test(parts[1]!)) permissions = parts[1]!;
    else containerPath = parts[1]!;
  } else if (parts.length === 3) {
    [, containerPath, permissions] = parts as [string, string, string];
  } else if (parts.length > 3) {
    throw new SkiffError(`invalid --device "${spec}": use HOST[:CONTAINER][:PERMISSIONS]`);
  }
  if (!hostPath.startsWith('/')) throw new SkiffError(`invalid --device "${spec}": the host path must be absolute`);
  if (!containerPath.startsWith('/')) throw new SkiffError(`invalid --device "${spec}": the path in the container must be absolute`);
  if (!PERMISSIONS.test(permissions)) throw new SkiffError(`invalid --device "${spec}": permissions are some of r, w and m (e.g. rwm)`);
  return { hostPath, containerPath, permissions };
}

/** One rule of the device cgroup, as config.json's linux.resources.devices holds it (runtime-spec). */
export interface OciDeviceCgroupRule {
  allow: boolean;
  /** a (all), c or b; absent: all. */
  type?: 'a' | 'c' | 'b';
  /** Absent: any. */
  major?: number;
  minor?: number;
  /** Some of r, w, m. */
  access: string;
}

const DEVICE_CGROUP_RULE = /^([acb]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$/;

/** --device-cgroup-rule 'TYPE MAJOR:MINOR ACCESS' ("c 42:* rwm"), as Docker checks it. */
export function parseDeviceCgroupRule(text: string): OciDeviceCgroupRule {
  const m = DEVICE_CGROUP_RULE.exec(text.trim());
  if (!m || !PERMISSIONS.test(m[4]!)) {
    throw new SkiffError(`invalid --device-cgroup-rule "${text}": use TYPE MAJOR:MINOR ACCESS, e.g. 'c 42:* rwm' (TYPE a, b or c; MAJOR and MINOR a number or *; ACCESS some of r, w and m)`);
  }
  const rule: OciDeviceCgroupRule = { allow: true, type: m[1] as 'a' | 'c' | 'b', access: m[4]! };
  if (m[2] !== '*') rule.major = Number(m[2]);
  if (m[3] !== '*') rule.minor = Number(m[3]);
  return rule;
}

/**
 * What every container may use, as runc and Docker allow it: mknod of any
 * node (it opens only where allowed, and the root filesystem is nodev
 * anyway), and /dev/null, zero, full, random, urandom, tty, console, ptmx,
 * the pseudo-terminals and /dev/net/tun.
 */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceCgroupRule[] = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  ...([
    [1, 3],
    [1, 5],
    [1, 7],
    [1, 8],
    [1, 9],
    [5, 0],
    [5, 1],
    [5, 2],
    [10, 200],
  ] as const).map(([major, minor]) => ({ allow: true, type: 'c' as const, major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

/**
 * The device cgroup of a container: everything refused, then the defaults,
 * each --device with its permissions and each --device-cgroup-rule;
 * --privileged allows every device, as Docker's privileged containers.
 */
export function deviceCgroupRules(devices: Pick<HostDevice, 'type' | 'major' | 'minor' | 'permissions'>[], rules: OciDeviceCgroupRule[], privileged: boolean): OciDeviceCgroupRule[] {
  if (privileged) return [{ allow: true, access: 'rwm' }];
  return [
    { allow: false, access: 'rwm' },
    ...DEFAULT_DEVICE_RULES,
    ...devices.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.permissions })),
    ...rules,
  ];
}

/** A rule as cgroup v1's devices.allow and devices.deny take it: "c 1:3 rwm", "a *:* rwm". */
export function deviceCgroupLine(rule: OciDeviceCgroupRule): string {
  return `${rule.type ?? 'a'} ${rule.major ?? '*'}:${rule.minor ?? '*'} ${rule.access}`;
}

/** Docker's list: these follow the container's IPC namespace. */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export interface SysctlContext {
  /** The container shares the host's network, IPC (or another container's) or UTS namespace. */
  hostNetwork: boolean;
  hostIpc: boolean;
  hostUts: boolean;
}

/** The key of a --sysctl KEY=VALUE entry, in dotted form (net/ipv4/x is net.ipv4.x). */
export function sysctlKey(entry: string): string {
  const eq = entry.indexOf('=');
  return (eq < 0 ? entry : entry.slice(0, eq)).trim().replace(/\//g, '.');
}

/**
 * KEY=VALUE pairs for settings the container's own namespaces hold (Docker's
 * rule): IPC (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*), network
 * (net.*) and UTS (kernel.domainname). Anything else would change the host.
 */
export function parseSysctls(entries: string[], ctx: SysctlContext): [string, string][] {
  return entries.map((entry) => {
    const eq = entry.indexOf('=');
    const key = sysctlKey(entry);
    if (eq < 0 || key === '') throw new SkiffError(`invalid --sysctl "${entry}": use KEY=VALUE`);
    if (!/^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/.test(key)) throw new SkiffError(`invalid --sysctl "${entry}": "${key}" is not a sysctl name`);
    const value = entry.slice(eq + 1);
    if (value.includes('\n') || value.includes('\t')) throw new SkiffError(`invalid --sysctl "${entry}": the value holds a newline or tab`);
    const shared = (ns: string, flag: string) => new SkiffError(`--sysctl ${key}: the container shares its ${ns} namespace (${flag}), so this would change the host or another container`);
    if (key.startsWith('net.')) {
      if (ctx.hostNetwork) throw shared('network', '--network host');
    } else if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
      if (ctx.hostIpc) throw shared('IPC', '--ipc');
    } else if (key === 'kernel.domainname') {
      if (ctx.hostUts) throw shared('UTS', '--uts host');
    } else {
      throw new SkiffError(`--sysctl ${key}: not namespaced, so setting it would change the host; only net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm* and kernel.domainname can be set per container`);
    }
    return [key, value];
  });
}
