// A container's own cgroup: where it goes, its limits, freezing it
// (pause/unpause), the processes in it. Behind one interface, three managers
// (design.md, decision 6):
//   cgroupfs  skiff makes the directories itself: root's v2 hierarchy, or on
//             v1 and hybrid hosts one directory per v1 controller (with the
//             unified hierarchy's, or the v1 freezer's, for pause);
//   systemd   a transient scope per start (StartTransientUnit over D-Bus,
//             systemd-scope.ts; delegated), inside which the helper makes the container's
//             cgroup beside a "supervisor" one for itself: the way for an
//             ordinary user on a systemd host;
//   split     the caller's own cgroup, when it is delegated (a systemd unit
//             with Delegate=yes, `--cgroups=split`): its processes move to
//             "supervisor" and the container gets a sibling.
// For systemd and split the directory exists only once the helper runs in
// it; the helper reports it and records it in pid.json at each start.
// Without any, a run that asks for no limit still runs, and one that does is
// refused with exit 125 and the reason.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import type { ScopeRequest } from './systemd-scope.js';
import { requestedLimits, type OciLinuxResources } from '../oci/spec/resources.js';
import { detectCgroups, type CgroupDetection } from './detect.js';
import { compileDeviceFilter } from './device-filter.js';
import { v1Writes, v2Controllers, v2Writes, type CgroupWrite } from './limits.js';

/** The v1 hierarchies a container joins when root uses v1 (hybrid hosts like this one). */
export const V1_CONTAINER_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio', 'devices'] as const;
export type V1Controller = (typeof V1_CONTAINER_CONTROLLERS)[number] | 'freezer';

/** The v2 controllers whose counters `stats` reads (cpu.stat's usage needs none, but its throttling does). */
const STATS_CONTROLLERS = ['cpu', 'io', 'memory', 'pids'];

export type CgroupManagerName = 'cgroupfs' | 'systemd' | 'split';

export interface ContainerCgroup {
  /** Where pause freezes and top lists: a v2 directory, or (v1 hosts) the v1 freezer's. */
  kind: 'v2' | 'v1-freezer';
  /** That directory; "" for systemd and split until a start made it (see pid.json's Cgroup). */
  dir: string;
  /** Root on v1 and hybrid hosts: each limit controller's directory. */
  v1?: Partial<Record<V1Controller, string>>;
  /** cgroupfs when absent (containers made before limits existed). */
  manager?: CgroupManagerName;
  /** systemd: the user's own manager (systemd --user), not the system's. */
  userScope?: boolean;
  /** systemd and split: the v2 mount point, where the helper finds its own cgroup. */
  root?: string;
}

/** --cgroups, as Podman spells it; skiff's monitor is never in the container's cgroup, so no-conmon is enabled. */
export type CgroupsMode = 'enabled' | 'disabled' | 'no-conmon' | 'split';

export interface CgroupChoice {
  mode: CgroupsMode;
  /** --cgroup-manager; by default systemd where a systemd manager for this user runs, else cgroupfs. */
  manager?: 'systemd' | 'cgroupfs';
}

export type CgroupPlan = { cgroup: ContainerCgroup } | { cgroup?: undefined; reason: string };

export function parseCgroupsMode(text: string): CgroupsMode {
  if (text === 'enabled' || text === 'disabled' || text === 'no-conmon' || text === 'split') return text;
  throw new SkiffError(`invalid --cgroups "${text}": use enabled, disabled, no-conmon or split`);
}

export function parseCgroupManager(text: string): 'systemd' | 'cgroupfs' {
  if (text === 'systemd' || text === 'cgroupfs') return text;
  throw new SkiffError(`invalid --cgroup-manager "${text}": use systemd or cgroupfs`);
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function controllersOf(dir: string): string[] {
  return (readText(path.join(dir, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean);
}

/** The host as planning sees it; tests pass their own. */
export interface CgroupHost {
  uid: number;
  detection: CgroupDetection;
  /** A systemd manager this user can ask for scopes (root: the system's; a user: their own). */
  systemdManager: boolean;
  /** Where the hierarchies' mount points are read ("/"; tests: a faked tree, as detectCgroups's rootDir). */
  rootDir?: string;
}

export function currentCgroupHost(): CgroupHost {
  const uid = process.geteuid?.() ?? 0;
  const detection = detectCgroups({
    mountinfo: readFileSync('/proc/self/mountinfo', 'utf8'),
    procCgroup: readFileSync('/proc/self/cgroup', 'utf8'),
    uid,
  });
  const runtime = uid === 0 ? '/run' : process.env['XDG_RUNTIME_DIR'];
  const systemdManager = runtime !== undefined && existsSync(path.join(runtime, 'systemd/private'));
  return { uid, detection, systemdManager };
}

/** The manager's private socket: a user's own (systemd --user), or the system's for root. */
export function systemdSocket(user: boolean): string {
  if (!user) return '/run/systemd/private';
  return path.join(process.env['XDG_RUNTIME_DIR'] || `/run/user/${process.geteuid?.() ?? 0}`, 'systemd/private');
}

/** The user manager's own cgroup (/user.slice/user-UID.slice/user@UID.service), where its scopes go. */
function userManagerDir(host: CgroupHost): string | undefined {
  const unified = host.detection.unified;
  if (!unified) return undefined;
  const own = host.detection.unifiedPath ?? '';
  const m = /^(.*\/user@\d+\.service)(?:\/|$)/.exec(own);
  const cgroup = m ? m[1]! : `/user.slice/user-${host.uid}.slice/user@${host.uid}.service`;
  return path.join(host.rootDir ?? '/', unified.mountPoint, cgroup);
}

/** The caller's own v2 cgroup as split would use it (the unit's, above a "supervisor" a first split made). */
function splitParentDir(host: CgroupHost): string | undefined {
  const d = host.detection.delegation;
  if (!d?.dir) return undefined;
  return path.basename(d.dir) === 'supervisor' ? path.dirname(d.dir) : d.dir;
}

function refuse(flag: string, why: string): never {
  throw new SkiffError(`${flag} cannot be applied: ${why} (see docs/limits.md)`);
}

/** Checks that every controller the limits need is there; the first missing one refuses the run. */
function requireControllers(res: OciLinuxResources, available: string[], where: string, fix: string): void {
  for (const { flag, controller } of requestedLimits(res)) {
    const name = controller === 'io' && available.includes('blkio') ? 'blkio' : controller;
    if (!available.includes(name)) {
      refuse(flag, `the ${name} controller is not available ${where} (it has: ${available.length > 0 ? available.join(' ') : 'none'})${fix}`);
    }
  }
}

function v2Cgroup(dir: string): ContainerCgroup {
  return { kind: 'v2', dir, manager: 'cgroupfs' };
}

/**
 * Where the container's cgroup goes, or why it has none. Throws (exit 125)
 * when limits are asked for and cannot be applied; a run without limits is
 * never refused for lack of a cgroup.
 */
export function planContainerCgroup(id: string, res: OciLinuxResources = {}, choice: CgroupChoice = { mode: 'enabled' }, host: CgroupHost = currentCgroupHost()): CgroupPlan {
  const limits = requestedLimits(res);
  const d = host.detection;
  if (choice.mode === 'disabled') {
    if (limits.length > 0) throw new SkiffError(`--cgroups=disabled and ${limits[0]!.flag} cannot be used together: limits need a cgroup`);
    return { reason: 'it runs with --cgroups=disabled' };
  }
  const unified = d.unified && !d.unified.readOnly ? { ...d.unified, mountPoint: path.join(host.rootDir ?? '/', d.unified.mountPoint) } : undefined;
  const privileged = host.uid === 0;

  // split: the caller's own cgroup, which must be delegated.
  if (choice.mode === 'split' || (!privileged && choice.manager === 'cgroupfs')) {
    const parent = splitParentDir(host);
    const flag = choice.mode === 'split' ? '--cgroups=split' : '--cgroup-manager=cgroupfs';
    if (!unified || !parent || !d.delegation?.writable) {
      const why = !unified ? 'this host has no writable cgroup v2 hierarchy' : d.delegation?.reason ? `your cgroup ${d.delegation.cgroup} is not delegated to you: ${d.delegation.reason}` : 'this process is in no cgroup v2';
      throw new SkiffError(`${flag} needs a cgroup of your own to split, and ${why} (run it from a systemd unit with Delegate=yes; see docs/limits.md)`);
    }
    requireControllers(res, controllersOf(parent), `in your cgroup ${parent}`, '; its unit needs Delegate=yes with those controllers');
    return { cgroup: { kind: 'v2', dir: '', manager: 'split', root: unified.mountPoint } };
  }

  if (privileged) {
    if (choice.manager === 'systemd') {
      if (!host.systemdManager || !unified) throw new SkiffError('--cgroup-manager=systemd needs systemd running this host (/run/systemd/private) and cgroup v2');
      requireControllers(res, controllersOf(unified.mountPoint), `in ${unified.mountPoint}`, '');
      return { cgroup: { kind: 'v2', dir: '', manager: 'systemd', userScope: false, root: unified.mountPoint } };
    }
    if (d.version === 'v2' && unified) {
      requireControllers(res, controllersOf(unified.mountPoint), `in ${unified.mountPoint}`, '');
      return { cgroup: v2Cgroup(path.join(unified.mountPoint, 'skiff', id)) };
    }
    // v1 or hybrid: one directory per v1 controller; pause through the unified hierarchy where it is writable.
    const v1: Partial<Record<V1Controller, string>> = {};
    for (const c of V1_CONTAINER_CONTROLLERS) {
      const h = d.v1.find((x) => x.controllers.includes(c) && !x.readOnly);
      if (h) v1[c] = path.join(host.rootDir ?? '/', h.mountPoint, 'skiff', id);
    }
    requireControllers(res, Object.keys(v1), 'in the cgroup v1 hierarchies of this host', '');
    if (unified) return { cgroup: { kind: 'v2', dir: path.join(unified.mountPoint, 'skiff', id), v1, manager: 'cgroupfs' } };
    const freezer = d.v1.find((h) => h.controllers.includes('freezer') && !h.readOnly);
    if (freezer) return { cgroup: { kind: 'v1-freezer', dir: path.join(host.rootDir ?? '/', freezer.mountPoint, 'skiff', id), v1, manager: 'cgroupfs' } };
    if (Object.keys(v1).length > 0 && limits.length > 0) return { cgroup: { kind: 'v1-freezer', dir: '', v1, manager: 'cgroupfs' } };
    return noCgroup(limits, d.version === 'none' ? 'this host has no cgroup filesystem mounted' : 'no writable cgroup v2 hierarchy and no v1 freezer', host.uid);
  }

  // An ordinary user: a scope of their systemd user manager, else their own cgroup if it is delegated.
  if (choice.manager !== 'cgroupfs' && host.systemdManager && unified && d.version === 'v2') {
    const manager = userManagerDir(host);
    const available = manager ? controllersOf(manager) : [];
    requireControllers(res, available, 'to your systemd user manager', '; delegate it: a drop-in for user@.service with Delegate=cpu cpuset io memory pids');
    return { cgroup: { kind: 'v2', dir: '', manager: 'systemd', userScope: true, root: unified.mountPoint } };
  }
  if (choice.manager === 'systemd') throw new SkiffError('--cgroup-manager=systemd needs your systemd user manager ($XDG_RUNTIME_DIR/systemd/private) on a cgroup v2 host');
  if (unified && d.delegation?.writable && splitParentDir(host)) {
    requireControllers(res, controllersOf(splitParentDir(host)!), `in your cgroup ${splitParentDir(host)}`, '; its unit needs Delegate=yes with those controllers');
    return { cgroup: { kind: 'v2', dir: '', manager: 'split', root: unified.mountPoint } };
  }
  return noCgroup(limits, d.limits.reason || (d.delegation && !d.delegation.writable ? `the cgroup v2 hierarchy is not delegated to you (${d.delegation.reason})` : 'no cgroup is delegated to you'), host.uid);
}

function noCgroup(limits: { flag: string }[], reason: string, uid: number): CgroupPlan {
  if (limits.length > 0) {
    const fix = uid !== 0 ? '; run as root, or on a host with cgroup v2 and systemd (systemd.unified_cgroup_hierarchy=1)' : '';
    refuse(limits[0]!.flag, `${reason}${fix}`);
  }
  return { reason };
}

// --- making it, at each start --------------------------------------------------

/** What the helper gets for the container's cgroup: directories to join, or one to make (systemd, split). */
export type CgroupLaunch = (
  | { join: string[] }
  | { split: { name: string; root: string; enable: string[]; writes: { file: string; value: string }[] } }
) & {
  /** cgroup v2's device rules (device-filter.ts): attached by the helper to the container's v2 directory. */
  deviceFilter?: Buffer;
};

/**
 * Where the device rules of linux.resources.devices go: the v1 devices
 * controller's directory, or an eBPF program on the container's cgroup v2
 * directory; undefined when the container has neither.
 */
export function deviceRulesMechanism(cg: ContainerCgroup): 'v1' | 'ebpf' | undefined {
  if (cg.v1?.devices) return 'v1';
  return cg.kind === 'v2' ? 'ebpf' : undefined;
}

function deviceFilterOf(cg: ContainerCgroup, res: OciLinuxResources): { deviceFilter?: Buffer } {
  return res.devices && res.devices.length > 0 && deviceRulesMechanism(cg) === 'ebpf' ? { deviceFilter: compileDeviceFilter(res.devices) } : {};
}

export interface CgroupStart {
  launch: CgroupLaunch;
  /** systemd: the transient scope the helper is placed in before it reads its spec. */
  scope?: ScopeRequest;
}

/** The directories a cgroupfs container joins (its v2 or freezer directory and each v1 one). */
function directories(cg: ContainerCgroup): string[] {
  return [...new Set([cg.dir, ...Object.values(cg.v1 ?? {})].filter((d): d is string => d !== undefined && d !== ''))];
}

/** Makes what must exist before the helper runs, and says what the helper does. */
export function prepareCgroupStart(id: string, name: string, cg: ContainerCgroup, res: OciLinuxResources): CgroupStart {
  const manager = cg.manager ?? 'cgroupfs';
  if (manager === 'cgroupfs') {
    createCgroup(cg, res);
    return { launch: { join: directories(cg), ...deviceFilterOf(cg, res) } };
  }
  // The limits' controllers must be given; the rest only serve stats
  // ("?": where the parent has them). Pause needs none.
  const required = v2Controllers(res);
  const enable = [...required, ...STATS_CONTROLLERS.filter((c) => !required.includes(c)).map((c) => `?${c}`)];
  const split = { root: cg.root ?? '/sys/fs/cgroup', enable, writes: v2Writes(res).map(({ file, value }) => ({ file, value })) };
  if (manager === 'split') return { launch: { split: { name: `skiff-${id}`, ...split }, ...deviceFilterOf(cg, res) } };
  const scope = { socket: systemdSocket(cg.userScope === true), unit: `skiff-${id}.scope`, description: `skiff container ${name}` };
  return { launch: { split: { name: 'container', ...split }, ...deviceFilterOf(cg, res) }, scope };
}

function writeLimit(dir: string, w: CgroupWrite): void {
  const file = path.join(dir, w.file);
  try {
    writeFileSync(file, w.value);
  } catch (err) {
    const code = errnoCode(err);
    // cgroupfs refuses to create a file it does not have with EACCES, not ENOENT.
    if (code === 'ENOENT' || !existsSync(file)) {
      const hint = w.file === 'blkio.weight' || w.file === 'io.weight' ? ': I/O weights need the BFQ I/O scheduler on the devices' : '';
      throw new SkiffError(`cannot set ${w.file}: this host's ${w.controller} controller has no such file${hint}`);
    }
    throw new SkiffError(`cannot set ${w.file} to "${w.value}" in ${dir}: ${code ?? String(err)}`);
  }
}

/** The implicit swap of --memory without --memory-swap (twice the memory) is skipped where the host accounts no swap. */
function swapIsImplicit(res: OciLinuxResources): boolean {
  return res.memory?.swap !== undefined && res.memory.limit !== undefined && res.memory.swap === 2 * res.memory.limit;
}

/**
 * update on a running container: enables what its parents must give (a
 * controller it did not use before), then writes the limits.
 */
export function updateLimits(cg: ContainerCgroup, res: OciLinuxResources): void {
  if (!cg.v1 && cg.kind === 'v2' && cg.dir !== '') {
    const manager = cg.manager ?? 'cgroupfs';
    const parent = path.dirname(cg.dir);
    // systemd and split: the container's parent holds no process (they sit in "supervisor").
    if (manager === 'cgroupfs') enableControllers(cg.dir, cg.dir.slice(0, cg.dir.indexOf('/skiff/')), v2Controllers(res));
    else enableControllers(cg.dir, parent, v2Controllers(res));
  }
  applyLimits(cg, res);
}

/** Writes limits into the directories of a cgroupfs container (at its start, and for update). */
export function applyLimits(cg: ContainerCgroup, res: OciLinuxResources): void {
  if (cg.v1) {
    const writes = v1Writes(res);
    const swapFirst = writes.findIndex((w) => w.file === 'memory.memsw.limit_in_bytes');
    for (const w of writes) {
      // Without a v1 devices hierarchy the device rules are the helper's eBPF filter on the v2 directory.
      if (w.controller === 'devices' && deviceRulesMechanism(cg) === 'ebpf') continue;
      const dir = cg.v1[w.controller as V1Controller];
      if (!dir) throw new SkiffError(`cannot set ${w.file}: this host has no ${w.controller} cgroup v1 hierarchy`);
      if (w.file === 'memory.memsw.limit_in_bytes' && swapIsImplicit(res) && !existsSync(path.join(dir, w.file))) continue;
      try {
        writeLimit(dir, w);
      } catch (err) {
        // memsw must stay >= the limit at each step: a lower limit goes first, a higher one after memsw.
        if (w.file === 'memory.limit_in_bytes' && swapFirst >= 0) {
          writeLimit(dir, writes[swapFirst]!);
          writeLimit(dir, w);
          continue;
        }
        throw err;
      }
    }
    return;
  }
  for (const w of v2Writes(res)) {
    if (w.file === 'memory.swap.max' && swapIsImplicit(res) && !existsSync(path.join(cg.dir, w.file))) continue;
    writeLimit(cg.dir, w);
  }
}

/** Enables controllers from the hierarchy's root down to dir's parent (root's v2 cgroupfs). */
function enableControllers(dir: string, root: string, wanted: string[]): void {
  const rel = path.relative(root, path.dirname(dir));
  const levels = rel === '' ? [root] : [root, ...rel.split('/').map((_, i, parts) => path.join(root, ...parts.slice(0, i + 1)))];
  for (const level of levels) {
    const have = controllersOf(level);
    const enabled = (readText(path.join(level, 'cgroup.subtree_control')) ?? '').split(/\s+/);
    const missing = wanted.filter((c) => have.includes(c) && !enabled.includes(c));
    if (missing.length === 0) continue;
    try {
      writeFileSync(path.join(level, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
    } catch (err) {
      throw new SkiffError(`cannot enable the ${missing.join(', ')} controller${missing.length > 1 ? 's' : ''} in ${level}: ${errnoCode(err) ?? String(err)}`);
    }
  }
}

/** A new v1 cpuset has no CPUs and no memory nodes: it takes its parent's, or nothing can join it. */
function initCpuset(dir: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    if ((readText(path.join(dir, file)) ?? '').trim() !== '') continue;
    const parent = (readText(path.join(path.dirname(dir), file)) ?? '').trim();
    if (parent !== '') writeFileSync(path.join(dir, file), parent);
  }
}

function mkdirCgroup(dir: string, cpuset: boolean): void {
  if (cpuset) {
    // Each level of a v1 cpuset needs its CPUs before it may have children.
    const parent = path.dirname(dir);
    if (!existsSync(parent)) mkdirCgroup(parent, true);
    try {
      mkdirSync(dir);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    initCpuset(dir);
    return;
  }
  mkdirSync(dir, { recursive: true });
}

/** cgroupfs: the directories, the controllers their parents give, and the limits. */
export function createCgroup(cg: ContainerCgroup, res: OciLinuxResources = {}): void {
  if ((cg.manager ?? 'cgroupfs') !== 'cgroupfs') return;
  try {
    if (cg.dir !== '') {
      if (cg.kind === 'v2' && !cg.v1) {
        const root = cg.dir.slice(0, cg.dir.indexOf('/skiff/'));
        enableControllers(cg.dir, root, [...new Set([...v2Controllers(res), ...STATS_CONTROLLERS])]);
      }
      mkdirCgroup(cg.dir, false);
    }
    for (const [controller, dir] of Object.entries(cg.v1 ?? {})) mkdirCgroup(dir, controller === 'cpuset');
  } catch (err) {
    if (err instanceof SkiffError) throw err;
    throw new SkiffError(`cannot create the container's cgroup: ${errnoCode(err) ?? String(err)}`);
  }
  applyLimits(cg, res);
}

/** Removes the (empty) cgroups; a busy or missing one is left as it is. */
export function removeCgroup(cg: ContainerCgroup): void {
  for (const dir of directories(cg)) {
    try {
      rmdirSync(dir);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'EBUSY') throw err;
    }
  }
}

/** The cgroup as a start placed it: systemd and split get their directory from pid.json. */
export function startedCgroup(cg: ContainerCgroup, fromPidFile: string | undefined): ContainerCgroup | undefined {
  if ((cg.manager ?? 'cgroupfs') === 'cgroupfs') return cg;
  return fromPidFile ? { ...cg, dir: fromPidFile } : undefined;
}

// --- freezing and processes --------------------------------------------------------

export function isFrozen(cgroup: ContainerCgroup): boolean {
  if (cgroup.dir === '') return false;
  try {
    if (cgroup.kind === 'v2') return /^frozen 1$/m.test(readFileSync(path.join(cgroup.dir, 'cgroup.events'), 'utf8'));
    return readFileSync(path.join(cgroup.dir, 'freezer.state'), 'utf8').trim() === 'FROZEN';
  } catch {
    return false;
  }
}

/** Freezes or thaws every process of the container and waits until the kernel says it is done. */
export async function setFrozen(cgroup: ContainerCgroup, frozen: boolean): Promise<void> {
  const file = cgroup.kind === 'v2' ? 'cgroup.freeze' : 'freezer.state';
  const value = cgroup.kind === 'v2' ? (frozen ? '1' : '0') : frozen ? 'FROZEN' : 'THAWED';
  if (cgroup.dir === '') throw new SkiffError(`cannot ${frozen ? 'freeze' : 'thaw'} the container: this host gives it no freezer`);
  try {
    writeFileSync(path.join(cgroup.dir, file), value);
  } catch (err) {
    throw new SkiffError(`cannot ${frozen ? 'freeze' : 'thaw'} ${cgroup.dir}: ${errnoCode(err) ?? String(err)}`);
  }
  const deadline = Date.now() + 5000;
  while (isFrozen(cgroup) !== frozen) {
    if (Date.now() > deadline) throw new SkiffError(`the container did not ${frozen ? 'freeze' : 'thaw'} within 5 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The pids in the container's cgroup (every process of it, exec'd ones included). */
export function cgroupPids(cgroup: ContainerCgroup): number[] {
  const dir = cgroup.dir !== '' ? cgroup.dir : (cgroup.v1?.pids ?? cgroup.v1?.memory ?? '');
  if (dir === '') return [];
  try {
    return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
