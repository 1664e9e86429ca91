// Which cgroup hierarchies this host has (v1, v2 or both: "hybrid"), where this
// process sits in them, and whether it may create cgroups and set limits there
// (design.md, decision 6). Pure over its inputs: the mountinfo text, the
// /proc/self/cgroup text, and a root directory under which the cgroup files
// are read, so tests can feed a faked tree.
import { statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseMountinfo } from '../host/mountinfo.js';
import type { MountEntry } from '../host/mountinfo.js';

export type CgroupVersion = 'v1' | 'v2' | 'hybrid' | 'none';

export interface CgroupHierarchy {
  mountPoint: string;
  /** The cgroup mounted there ("/" unless a sub-tree is bind-mounted). */
  root: string;
  /** v1: the controllers of the hierarchy; v2: the root cgroup's cgroup.controllers. */
  controllers: string[];
  readOnly: boolean;
}

/** Whether this process's own cgroup in the unified (v2) hierarchy is delegated to the user. */
export interface CgroupDelegation {
  /** The cgroup, as /proc/self/cgroup names it ("/user.slice/…"). */
  cgroup: string;
  /** Its directory under the root dir, when found. */
  dir?: string;
  /** The directory, cgroup.procs and cgroup.subtree_control are all writable by the user. */
  writable: boolean;
  /** Its cgroup.controllers: what its children may use. */
  controllers: string[];
  /** Why it is not writable ('' when it is). */
  reason: string;
}

export interface CgroupLimits {
  /** Whether `--memory`, `--cpus`, `--pids-limit`… can be applied. */
  applied: boolean;
  via?: 'v1' | 'v2';
  controllers: string[];
  /** Why limits are not applied, or which controllers are missing ('' when nothing is). */
  reason: string;
}

export interface CgroupDetection {
  version: CgroupVersion;
  v1: CgroupHierarchy[];
  unified?: CgroupHierarchy;
  /** This process's cgroup in the unified hierarchy (the "0::" line). */
  unifiedPath?: string;
  /** This process's cgroup in each v1 hierarchy, by controller. */
  v1Paths: Record<string, string>;
  delegation?: CgroupDelegation;
  limits: CgroupLimits;
}

export interface CgroupDetectInput {
  mountinfo: string;
  /** The text of /proc/self/cgroup. */
  procCgroup: string;
  /** Paths in mountinfo are read under this directory: "/" on a real host. */
  rootDir?: string;
  /** Whose access decides delegation. */
  uid: number;
  /**
   * False when this process runs in a user namespace other than the host's:
   * its uid 0 then has no rights over the host's cgroups. Default true.
   */
  initialUserNS?: boolean;
  /** Check this unified-hierarchy cgroup instead of the process's own (another user's session). */
  unifiedPathOverride?: string;
}

/** The v1 controllers the kernel knows (named hierarchies such as name=systemd have none). */
const V1_CONTROLLERS = new Set([
  'blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'hugetlb', 'memory',
  'misc', 'net_cls', 'net_prio', 'perf_event', 'pids', 'rdma',
]);

/** The controllers a run's resource flags need; the rest are nice to have. */
export const LIMIT_CONTROLLERS = ['cpu', 'memory', 'pids'] as const;

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function readControllers(dir: string): string[] {
  return (readText(path.join(dir, 'cgroup.controllers')) ?? '').split(/\s+/).filter((c) => c !== '');
}

/** Parses /proc/self/cgroup: the unified path and the v1 path of each controller. */
export function parseProcCgroup(text: string): { unified?: string; v1: Record<string, string> } {
  const v1: Record<string, string> = {};
  let unified: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, id, controllers, cgPath] = m;
    if (id === '0' && controllers === '') unified = cgPath!;
    else for (const c of controllers!.split(',')) if (c !== '') v1[c] = cgPath!;
  }
  return { unified, v1 };
}

function preferred(a: MountEntry, b: MountEntry): MountEntry {
  const rank = (m: MountEntry) => (m.mountPoint === '/sys/fs/cgroup' ? 0 : m.mountPoint.startsWith('/sys/fs/cgroup/') ? 1 : 2);
  return rank(b) < rank(a) ? b : a;
}

/** The directory of a cgroup inside a hierarchy mounted at `mount`, or undefined if it is outside the mount. */
export function cgroupDir(rootDir: string, mount: Pick<CgroupHierarchy, 'mountPoint' | 'root'>, cgroup: string): string | undefined {
  if (!cgroup.startsWith('/') || cgroup.split('/').includes('..')) return undefined;
  let rel: string;
  if (mount.root === '/') rel = cgroup;
  else if (cgroup === mount.root) rel = '/';
  else if (cgroup.startsWith(`${mount.root}/`)) rel = cgroup.slice(mount.root.length);
  else return undefined;
  const dir = path.join(rootDir, mount.mountPoint, rel);
  return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
}

function writableBy(file: string, uid: number, privileged: boolean): string {
  let st;
  try {
    st = statSync(file);
  } catch {
    return 'missing';
  }
  if (privileged) return '';
  if ((st.uid === uid && (st.mode & 0o200) !== 0) || (st.mode & 0o002) !== 0) return '';
  return `owned by uid ${st.uid} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
}

function checkDelegation(rootDir: string, unified: CgroupHierarchy, cgroup: string, uid: number, privileged: boolean): CgroupDelegation {
  const dir = cgroupDir(rootDir, unified, cgroup);
  if (dir === undefined) {
    return { cgroup, writable: false, controllers: [], reason: `the cgroup ${cgroup} is outside the mounted hierarchy at ${unified.mountPoint}` };
  }
  const controllers = readControllers(dir);
  if (unified.readOnly) return { cgroup, dir, writable: false, controllers, reason: `${unified.mountPoint} is mounted read-only` };
  for (const file of [dir, path.join(dir, 'cgroup.procs'), path.join(dir, 'cgroup.subtree_control')]) {
    const why = writableBy(file, uid, privileged);
    if (why !== '') return { cgroup, dir, writable: false, controllers, reason: `${file === dir ? 'its directory' : path.basename(file)} is ${why}` };
  }
  return { cgroup, dir, writable: true, controllers, reason: '' };
}

function missingLimitControllers(controllers: string[]): string[] {
  return LIMIT_CONTROLLERS.filter((c) => !controllers.includes(c));
}

function decideLimits(d: Omit<CgroupDetection, 'limits'>, uid: number, privileged: boolean): CgroupLimits {
  const v1Controllers = [...new Set(d.v1.filter((h) => !h.readOnly).flatMap((h) => h.controllers))].sort();
  const v2Usable = d.delegation?.writable ? d.delegation.controllers : [];
  const withMissing = (limits: CgroupLimits): CgroupLimits => {
    if (!limits.applied) return limits;
    const missing = missingLimitControllers(limits.controllers);
    return missing.length === 0 ? limits : { ...limits, reason: `no ${missing.join(', ')} controller${missing.length > 1 ? 's' : ''}: those limits are not applied` };
  };
  if (d.version === 'none') return { applied: false, controllers: [], reason: 'no cgroup filesystem is mounted' };
  const v2Reason = (): string => {
    const del = d.delegation;
    if (!del) return 'this process is in no cgroup of the unified hierarchy';
    if (!del.writable) return `the cgroup ${del.cgroup} is not delegated to you: ${del.reason}`;
    return `the cgroup ${del.cgroup} has no controllers to give its children (its cgroup.controllers is empty)`;
  };
  if (d.version === 'v2') {
    if (v2Usable.length > 0) return withMissing({ applied: true, via: 'v2', controllers: v2Usable, reason: '' });
    return { applied: false, controllers: [], reason: v2Reason() };
  }
  // v1 or hybrid: root uses the v1 controllers; v1 is never delegated to an ordinary user.
  if (privileged) {
    if (v1Controllers.length > 0) return withMissing({ applied: true, via: 'v1', controllers: v1Controllers, reason: '' });
    return { applied: false, controllers: [], reason: 'every cgroup v1 hierarchy is mounted read-only' };
  }
  if (d.version === 'hybrid' && v2Usable.some((c) => (LIMIT_CONTROLLERS as readonly string[]).includes(c))) {
    return withMissing({ applied: true, via: 'v2', controllers: v2Usable, reason: '' });
  }
  const v1Why = `cgroup v1 controllers cannot be delegated to ${uid === 0 ? 'root in a user namespace' : 'an unprivileged user'}`;
  if (d.version === 'v1') return { applied: false, controllers: [], reason: v1Why };
  const unified = d.unified!;
  const has = unified.controllers.length > 0 ? unified.controllers.join(', ') : 'none';
  const v2Part = d.delegation?.writable
    ? `the cgroup v2 hierarchy at ${unified.mountPoint} has none of the ${LIMIT_CONTROLLERS.join(', ')} controllers (it has: ${has})`
    : `the cgroup v2 hierarchy at ${unified.mountPoint} (controllers: ${has}) is not delegated to you`;
  return { applied: false, controllers: [], reason: `${v1Why}, and ${v2Part}` };
}

export function detectCgroups(input: CgroupDetectInput): CgroupDetection {
  const rootDir = input.rootDir ?? '/';
  const v1ByKey = new Map<string, MountEntry>();
  let unifiedMount: MountEntry | undefined;
  for (const m of parseMountinfo(input.mountinfo)) {
    if (m.fsType === 'cgroup2') {
      unifiedMount = unifiedMount ? preferred(unifiedMount, m) : m;
    } else if (m.fsType === 'cgroup') {
      const controllers = m.superOptions.filter((o) => V1_CONTROLLERS.has(o)).sort();
      if (controllers.length === 0) continue;
      const key = controllers.join(',');
      const prev = v1ByKey.get(key);
      v1ByKey.set(key, prev ? preferred(prev, m) : m);
    }
  }
  const v1: CgroupHierarchy[] = [...v1ByKey.values()].map((m) => ({
    mountPoint: m.mountPoint,
    root: m.root,
    controllers: m.superOptions.filter((o) => V1_CONTROLLERS.has(o)).sort(),
    readOnly: m.options.includes('ro'),
  }));
  const unified: CgroupHierarchy | undefined = unifiedMount && {
    mountPoint: unifiedMount.mountPoint,
    root: unifiedMount.root,
    controllers: readControllers(path.join(rootDir, unifiedMount.mountPoint)),
    readOnly: unifiedMount.options.includes('ro'),
  };
  const version: CgroupVersion = unified ? (v1.length > 0 ? 'hybrid' : 'v2') : v1.length > 0 ? 'v1' : 'none';
  const proc = parseProcCgroup(input.procCgroup);
  const unifiedPath = input.unifiedPathOverride ?? proc.unified;
  // Root's rights over the host's cgroups hold only in the host's user namespace.
  const privileged = input.uid === 0 && input.initialUserNS !== false;
  const delegation = unified && unifiedPath !== undefined ? checkDelegation(rootDir, unified, unifiedPath, input.uid, privileged) : undefined;
  const detected = { version, v1, unified, unifiedPath, v1Paths: proc.v1, delegation };
  return { ...detected, limits: decideLimits(detected, input.uid, privileged) };
}

export type CgroupManager = 'systemd' | 'cgroupfs';

/** systemd when it runs the machine and (for a user) the user's own manager; else skiff writes cgroupfs itself. */
export function cgroupManager(f: { systemdBooted: boolean; rootless: boolean; userManager: boolean }): CgroupManager {
  if (!f.systemdBooted) return 'cgroupfs';
  return !f.rootless || f.userManager ? 'systemd' : 'cgroupfs';
}
