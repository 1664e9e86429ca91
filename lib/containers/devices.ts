// Host device nodes for --device and --privileged: what they are (char or
// block, major:minor, mode and owner) and whether the caller may open them.
// Rootless a device reaches the container as a bind mount of the host's
// node, so it is exactly what the user could open anyway. As root with a
// device cgroup it is made in the container's /dev by mknod, as Docker does,
// and the cgroup's rules decide what opens (see oci/spec/devices.ts); the
// root filesystem stays nodev either way.
import { accessSync, constants, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import { parseDevice, type HostDevice } from '../oci/spec/devices.js';

type DeviceNode = HostDevice;

// linux/kdev_t.h's encoding of dev_t (what stat's st_rdev holds).
function major(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}
function minor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

function node(hostPath: string, containerPath: string, permissions: string): DeviceNode | undefined {
  const st = statSync(hostPath, { bigint: true });
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  return {
    hostPath,
    containerPath,
    type: st.isCharacterDevice() ? 'c' : 'b',
    major: major(st.rdev),
    minor: minor(st.rdev),
    permissions,
    fileMode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

/** Can this process open the node as the permissions say (r and/or w)? */
export function mayOpen(hostPath: string, permissions: string): boolean {
  const mode = (permissions.includes('r') ? constants.R_OK : 0) | (permissions.includes('w') ? constants.W_OK : 0);
  try {
    accessSync(hostPath, mode || constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every device node below a directory (--device /dev/snd), with its place under the container path. */
function walk(dir: string, containerDir: string, permissions: string, out: DeviceNode[]): void {
  for (const name of readdirSync(dir).sort()) {
    const host = path.join(dir, name);
    const st = lstatSync(host);
    if (st.isDirectory()) walk(host, path.posix.join(containerDir, name), permissions, out);
    else if (st.isCharacterDevice() || st.isBlockDevice()) out.push(node(host, path.posix.join(containerDir, name), permissions)!);
  }
}

/** --device values, checked against the host: a missing path, a file that is no device, or one the caller cannot open is one line. */
export function resolveDevices(specs: string[]): DeviceNode[] {
  const out: DeviceNode[] = [];
  for (const spec of specs) {
    const req = parseDevice(spec);
    let real: string;
    try {
      real = realpathSync(req.hostPath);
    } catch (err) {
      throw new SkiffError(`--device ${req.hostPath}: ${errnoCode(err) === 'ENOENT' ? 'no such device' : String(errnoCode(err) ?? err)}`);
    }
    if (statSync(real).isDirectory()) {
      const found: DeviceNode[] = [];
      walk(real, req.containerPath, req.permissions, found);
      if (found.length === 0) throw new SkiffError(`--device ${req.hostPath}: a directory with no device nodes`);
      out.push(...found);
    } else {
      const dev = node(real, req.containerPath, req.permissions);
      if (!dev) throw new SkiffError(`--device ${req.hostPath}: not a device node`);
      out.push({ ...dev, hostPath: req.hostPath });
    }
  }
  for (const dev of out) {
    if (!mayOpen(dev.hostPath, dev.permissions)) {
      throw new SkiffError(`--device ${dev.hostPath}: permission denied: your user cannot open it (${dev.type} ${dev.major}:${dev.minor}), so neither can the container`);
    }
  }
  return out;
}

/** What --privileged brings from the host's /dev: every node as root; rootless, those the user can open. */
const NOT_FROM_HOST = new Set(['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/hugepages', '/dev/console', '/dev/ptmx', '/dev/tty', '/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom']);

export function privilegedDevices(): DeviceNode[] {
  const out: DeviceNode[] = [];
  const visit = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const host = path.join(dir, name);
      if (NOT_FROM_HOST.has(host) || name.startsWith('.')) continue;
      let st;
      try {
        st = lstatSync(host);
      } catch {
        continue;
      }
      if (st.isDirectory()) visit(host);
      else if ((st.isCharacterDevice() || st.isBlockDevice()) && (mayOpen(host, 'r') || mayOpen(host, 'w'))) {
        const dev = node(host, host, 'rwm');
        if (dev) out.push(dev);
      }
    }
  };
  visit('/dev');
  return out;
}
