// `skiff info`: what this host offers skiff, as real readings, shaped like
// Podman's `podman info` (Host / Store / Version) with Go-style field names so
// that `--format '{{.Host.Kernel}}'` reads the same as the JSON.
import { accessSync, constants, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { cgroupManager, detectCgroups } from '../cgroups/detect.js';
import type { CgroupVersion } from '../cgroups/detect.js';
import { probeHost } from '../host/probes.js';
import type { NamespaceName } from '../host/probes.js';
import { rootlessMappings } from '../host/subids.js';
import type { IdRange } from '../host/subids.js';
import { goArch, hostName, isInitialIdMap, kernelRelease, osRelease, parseIdMap, parseMeminfo, readText } from '../host/system.js';
import { selfUser } from '../host/users.js';
import { DEFAULT_CAPABILITIES } from '../oci/spec/defaults.js';
import { storeLocations } from '../store/paths.js';
import { storageDriver } from '../store/driver.js';
import { VERSION } from '../version.js';
import { helperBinary } from './helper-binary.js';
import { HELPER_PROTOCOL_VERSION } from '../namespaces/helper.js';

export interface IdMapEntry {
  ContainerID: number;
  HostID: number;
  Size: number;
}

export interface SkiffInfo {
  Host: {
    Arch: string;
    Os: string;
    Kernel: string;
    Hostname: string;
    Distribution: { Distribution: string; Version: string; Codename: string };
    /** Bytes. */
    MemTotal: number;
    MemFree: number;
    SwapTotal: number;
    SwapFree: number;
    CPUs: number;
    Rootless: boolean;
    /** The mapping a rootless container gets (empty as root: no user namespace). */
    IDMappings: { UIDMap: IdMapEntry[]; GIDMap: IdMapEntry[] };
    Security: { Rootless: boolean; NoNewPrivileges: boolean; Capabilities: string };
    /** What runs containers (Podman: crun or runc): skiff's own helper. */
    OCIRuntime: { Name: string; Path: string; Version: string };
    /** How a container's output is kept: the monitor writes Podman's k8s-file format. */
    LogDriver: string;
    /** --events-backend: file or none. */
    EventLogger: string;
    /** What gives a container a network: none yet beyond --network none and host. */
    NetworkBackend: string;
    /** Podman's spelling: v1 (a hybrid host too, as Podman reports it) or v2. */
    CgroupsVersion: string;
    CgroupVersion: CgroupVersion;
    /** The controllers skiff can set limits with, for this user. */
    CgroupControllers: string[];
    CgroupManager: string;
    /** Whether this process's cgroup v2 is writable by the user (always true for root on a writable v2). */
    CgroupDelegated: boolean;
    /** "applied (v2)" or "not applied: why". */
    CgroupLimits: string;
    Namespaces: Record<NamespaceName, boolean>;
    OverlayInUserNS: boolean;
  };
  Store: {
    GraphDriverName: string;
    GraphRoot: string;
    RunRoot: string;
  };
  Version: {
    Version: string;
    NodeVersion: string;
    OsArch: string;
    HelperPath: string;
    HelperBuilt: boolean;
  };
}

function entries(ranges: IdRange[]): IdMapEntry[] {
  return ranges.map((r) => ({ ContainerID: r.containerID, HostID: r.hostID, Size: r.size }));
}

function writableDir(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The runtime containers run with: skiff's helper, or --runtime's (its own --version's first line). */
function ociRuntimeInfo(helperPath: string): { Name: string; Path: string; Version: string } {
  const other = process.env['SKIFF_RUNTIME'];
  if (!other) return { Name: 'skiff-helper', Path: helperPath, Version: `skiff-helper protocol ${HELPER_PROTOCOL_VERSION}` };
  let version = '';
  try {
    version = execFileSync(other, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).split('\n')[0] ?? '';
  } catch {
    // a runtime without --version: left empty
  }
  return { Name: path.basename(other), Path: other, Version: version };
}

/** Where an overlay probe should run: the store's own filesystem when it exists, else the temp dir. */
export function overlayProbeDir(graphRoot: string): string {
  return existsSync(graphRoot) && writableDir(graphRoot) ? graphRoot : os.tmpdir();
}

/**
 * Gathers everything `skiff info` prints. Costs one unshare(1) probe when
 * all is well (~10-15 ms on an idle machine; see probeHost).
 */
export async function gatherInfo(): Promise<SkiffInfo> {
  const user = selfUser();
  const rootless = user.uid !== 0;
  const store = storeLocations(user);
  const { namespaces, overlay } = await probeHost({ rootless, overlayInUserNS: true, baseDir: overlayProbeDir(store.graphRoot) });

  const release = osRelease();
  const mem = parseMeminfo(readText('/proc/meminfo') ?? '');
  const mappings = rootless ? rootlessMappings({ name: user.name, uid: user.uid, gid: user.gid }) : undefined;
  const cgroups = detectCgroups({
    mountinfo: readText('/proc/self/mountinfo') ?? '',
    procCgroup: readText('/proc/self/cgroup') ?? '',
    uid: user.uid,
    initialUserNS: isInitialIdMap(parseIdMap(readText('/proc/self/uid_map') ?? '')),
  });
  const manager = cgroupManager({
    systemdBooted: existsSync('/run/systemd/system'),
    rootless,
    userManager: existsSync(`/run/user/${user.uid}/systemd`),
  });
  const limits = cgroups.limits;
  const helper = helperBinary();
  let cpus: number;
  try {
    cpus = os.availableParallelism();
  } catch {
    cpus = os.cpus().length;
  }
  return {
    Host: {
      Arch: goArch(),
      Os: process.platform,
      Kernel: kernelRelease(),
      Hostname: hostName(),
      Distribution: {
        Distribution: release['ID'] ?? 'unknown',
        Version: release['VERSION_ID'] ?? 'unknown',
        Codename: release['VERSION_CODENAME'] ?? '',
      },
      MemTotal: mem['MemTotal'] ?? os.totalmem(),
      MemFree: mem['MemFree'] ?? os.freemem(),
      SwapTotal: mem['SwapTotal'] ?? 0,
      SwapFree: mem['SwapFree'] ?? 0,
      CPUs: cpus,
      Rootless: rootless,
      IDMappings: { UIDMap: entries(mappings?.uidMappings ?? []), GIDMap: entries(mappings?.gidMappings ?? []) },
      Security: { Rootless: rootless, NoNewPrivileges: true, Capabilities: DEFAULT_CAPABILITIES.join(',') },
      OCIRuntime: ociRuntimeInfo(helper.path),
      LogDriver: 'k8s-file',
      EventLogger: process.env['SKIFF_EVENTS_BACKEND'] ?? 'file',
      NetworkBackend: 'none',
      CgroupsVersion: cgroups.version === 'v2' ? 'v2' : cgroups.version === 'none' ? 'none' : 'v1',
      CgroupVersion: cgroups.version,
      CgroupControllers: limits.controllers,
      CgroupManager: manager,
      CgroupDelegated: cgroups.delegation?.writable ?? false,
      CgroupLimits: limits.applied
        ? `applied (${limits.via}${limits.reason ? `; ${limits.reason}` : ''})`
        : `not applied: ${limits.reason}`,
      Namespaces: namespaces.available,
      OverlayInUserNS: overlay.status === 'ok',
    },
    Store: { GraphDriverName: storageDriver(store.graphRoot), GraphRoot: store.graphRoot, RunRoot: store.runRoot },
    Version: {
      Version: VERSION,
      NodeVersion: process.versions.node,
      OsArch: `${process.platform}/${goArch()}`,
      HelperPath: helper.path,
      HelperBuilt: helper.executable,
    },
  };
}
