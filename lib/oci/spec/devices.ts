// --device HOST[:CONTAINER][:PERMISSIONS] as Docker reads it, and --sysctl's
// rule that only namespaced settings may be set. Pure: the host's device
// nodes are looked at by lib/containers/devices.ts.
import { SkiffError } from '../../errors.js';

/** A host device node as the container gets it (bound from hostPath). */
export interface HostDevice {
  hostPath: string;
  containerPath: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  /** Some of r, w, m. */
  permissions: string;
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

/** Docker's list: these follow the container's IPC namespace. */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export interface SysctlContext {
  /** The container shares the host's network, IPC (or another container's) or UTS namespace. */
  hostNetwork: boolean;
  hostIpc: boolean;
  hostUts: boolean;
}

/**
 * KEY=VALUE pairs for settings the container's own namespaces hold (Docker's
 * rule): IPC (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*), network
 * (net.*) and UTS (kernel.domainname). Anything else would change the host.
 */
export function parseSysctls(entries: string[], ctx: SysctlContext): [string, string][] {
  return entries.map((entry) => {
    const eq = entry.indexOf('=');
    const key = (eq < 0 ? entry : entry.slice(0, eq)).trim().replace(/\//g, '.');
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
