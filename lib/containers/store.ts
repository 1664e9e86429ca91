// Containers on disk. This module owns every file below
// <GraphRoot>/containers and <RunRoot>/containers:
//   containers/<id>/container.json   what was asked for (written once, atomically)
//   containers/<id>/config.json      the OCI runtime config, the helper's contract
//   containers/<id>/pid.json         written by the monitor at each (re)start
//   containers/<id>/exit.json        written by the monitor when the container ends
//   containers/<id>/network-fallback "slirp4netns" while pasta failed and slirp4netns serves the default network (the helper's)
//   containers/<id>/ctr.log[.1]      the log (k8s-file format)
//   containers/names/<name> -> <id>  a symlink: claiming a name is one atomic symlink(2)
//   <RunRoot>/containers/<id>/attach the monitor's attach socket
import type { LogConfig } from './log-driver.js';
import { chmodSync, closeSync, existsSync, ftruncateSync, lstatSync, openSync, writeSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_SKIFF_FAILED, SkiffError, errnoCode } from '../errors.js';
import { debug } from '../log.js';
import { currentStoreLocations } from '../store/paths.js';
import type { OciRuntimeConfig } from '../oci/runtime-spec.js';
import { overlayOf } from '../oci/spec/runtime.js';
import { removeCgroup, startedCgroup, type ContainerCgroup } from '../cgroups/container.js';
import type { MountPoint } from './mounts.js';
import { rootlessMappings } from '../host/subids.js';
import type { WalkMappings } from '../namespaces/helper.js';
import type { HostResources } from '../oci/spec/resources.js';
import { containerEvent } from './events.js';
import type { HealthConfig, HealthOnFailure } from './health-config.js';

export interface ContainerRecord {
  Id: string;
  Name: string;
  Created: string;
  /** The image as the user named it, or "" for a --rootfs container. */
  Image: string;
  /** The image's id and layers (diffIDs, bottom first): what keeps them in the store. */
  ImageID?: string;
  Layers?: string[];
  /** Bytes of the image's layers when the container was made (ps --size). */
  ImageSize?: number;
  Rootfs: string;
  Path: string;
  Args: string[];
  Config: {
    Hostname: string;
    User: string;
    Env: string[];
    Cmd: string[];
    Entrypoint: string[] | null;
    WorkingDir: string;
    Tty: boolean;
    OpenStdin: boolean;
    StopSignal: string;
    Labels: Record<string, string>;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    /** --sdnotify (Podman's field): container, conmon or ignore. */
    SdNotifyMode?: string;
    /** --tz as given (Podman's Config.Timezone). */
    Timezone?: string;
    /** --timeout: seconds each start may run (Podman's Config.Timeout; 0: none). */
    Timeout?: number;
    /** The command line that made it (Podman's field): generate systemd --new replays it. */
    CreateCommand?: string[];
    /** Its healthcheck, resolved (health-config.ts); absent: none. */
    Healthcheck?: HealthConfig;
    /** --health-on-failure (Podman's field): none, kill, restart or stop. */
    HealthcheckOnFailureAction?: HealthOnFailure;
  };
  /** --pidfile and --conmon-pidfile, absolute (Podman's inspect fields); removed with the container. */
  PidFile?: string;
  ConmonPidFile?: string;
  /** Its own cgroup, when the host gives one (root, or a delegated v2 subtree). */
  Cgroup?: ContainerCgroup;
  /** Docker's inspect "Mounts": its binds, volumes and tmpfs (issue 11). */
  Mounts?: MountPoint[];
  /** Its network as decided at create (issue 10): published ports with their host ports, its address on a private network. */
  Network?: {
    Ports: { hostIp: string; hostPort: number; containerPort: number; protocol: 'tcp' | 'udp' }[];
    IPAddress?: string;
    IPPrefixLen?: number;
    Gateway?: string;
    MacAddress?: string;
  };
  /** The user-defined networks it is on, by network name (inspect's NetworkSettings.Networks). */
  Networks?: Record<string, ContainerNetwork>;
  HostConfig: {
    AutoRemove: boolean;
    NetworkMode: string;
    // --- Network (issue 10): the flags as given.
    PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
    PublishAllPorts?: boolean;
    Dns?: string[];
    DnsSearch?: string[];
    DnsOptions?: string[];
    ExtraHosts?: string[];
    Init: boolean;
    RestartPolicy: { Name: string; MaximumRetryCount: number };
    Privileged?: boolean;
    CapAdd?: string[] | null;
    CapDrop?: string[] | null;
    SecurityOpt?: string[] | null;
    // --- Storage (issue 11): the flags as given.
    Binds?: string[];
    Tmpfs?: Record<string, string>;
    ReadonlyRootfs?: boolean;
    VolumesFrom?: string[];
    Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
    DeviceCgroupRules?: string[] | null;
    GroupAdd?: string[] | null;
    Sysctls?: Record<string, string> | null;
    IpcMode?: string;
    PidMode?: string;
    UTSMode?: string;
    /** --userns as given ("" for the default), as Docker's inspect shows it. */
    UsernsMode?: string;
    /** --cgroupns: private or host (Docker's field). */
    CgroupnsMode?: string;
    /** --log-driver and --log-opt (older records: k8s-file at the default place). */
    LogConfig?: LogConfig;
    /** --cidfile, absolute (Docker's field); removed with the container while it holds its id. */
    ContainerIDFile?: string;
  } & Partial<HostResources> & {
    /** --cgroups (Podman's name and values). */
    Cgroups?: string;
    /** How its cgroup is made: cgroupfs, systemd or split (Podman shows CgroupManager). */
    CgroupManager?: string;
  };
}

/** One container's place on one user-defined network (Docker's EndpointSettings). */
export interface ContainerNetwork {
  NetworkID: string;
  /** --network-alias: more names the other containers on the network know it by. */
  Aliases: string[];
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  /** Its interface inside the container: eth0, eth1… in the order of joining. */
  InterfaceName: string;
}

export interface PidFile {
  Pid: number;
  MonitorPid: number;
  StartedAt: string;
  RestartCount: number;
  /** The cgroup the helper made at this start (systemd scopes, --cgroups=split). */
  Cgroup?: string;
}

export interface ExitFile {
  ExitCode: number;
  StartedAt: string;
  FinishedAt: string;
  RestartCount: number;
  /** The kernel's OOM killer killed in the container's cgroup during this run. */
  OOMKilled?: boolean;
}

let cachedLocations: ReturnType<typeof currentStoreLocations> | undefined;

/** The store's paths, computed once per process (ps asks for every container). */
function locations() {
  cachedLocations ??= currentStoreLocations();
  return cachedLocations;
}

let cachedRoot: string | undefined;
export function containersRoot(): string {
  cachedRoot ??= path.join(locations().graphRoot, 'containers');
  return cachedRoot;
}

/** ids are 64 hex digits: joined without path.join, which ps would call hundreds of times. */
export function containerDir(id: string): string {
  return `${containersRoot()}/${id}`;
}

export function runDir(id: string): string {
  return path.join(locations().runRoot, 'containers', id);
}

function namesDir(): string {
  return path.join(containersRoot(), 'names');
}

/** Temp file, then rename: a full disk or a kill leaves the old file whole and no temp behind. */
function writeJsonAtomically(file: string, value: unknown): void {
  const tmp = `${file}.tmp.${process.pid}`;
  try {
    writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw storeWriteError(file, err);
  }
}

/** ENOSPC and friends as one line naming the file; the store is unchanged. */
function storeWriteError(file: string, err: unknown): unknown {
  const code = errnoCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new SkiffError(`cannot write ${file}: no space left on device (nothing was changed)`);
  if (code === 'EROFS') return new SkiffError(`cannot write ${file}: the file system is read-only`);
  return err;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    if (err instanceof SyntaxError) return undefined; // a torn write cannot happen (renames), but be safe
    throw err;
  }
}

export class NameInUseError extends SkiffError {
  constructor(
    message: string,
    /** The container holding the name, when it could be read. */
    readonly ownerId: string | undefined,
  ) {
    super(message);
  }
}

/** Claims the name for id: fails, with Docker's message, if another container has it. */
function claimName(name: string, id: string): void {
  mkdirSync(namesDir(), { recursive: true, mode: 0o700 });
  try {
    symlinkSync(id, path.join(namesDir(), name));
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    const owner = nameOwner(name);
    throw new NameInUseError(
      `the container name "/${name}" is already in use by container "${owner ?? '?'}". You have to remove (or rename) that container to be able to reuse that name`,
      owner,
    );
  }
}

/** The container that holds a name, if any (run --replace). */
export function nameOwnerRecord(name: string): ContainerRecord | undefined {
  const id = nameOwner(name);
  return id ? readRecord(id) : undefined;
}

function nameOwner(name: string): string | undefined {
  try {
    return readlinkSync(path.join(namesDir(), name));
  } catch {
    return undefined;
  }
}

/** Creates the container's directory with its record, config and own files and dirs, all or nothing. */
export function createContainer(
  record: ContainerRecord,
  config: OciRuntimeConfig,
  extra: { dirs: { name: string; mode: number }[]; files: { name: string; content: string }[]; staged?: string } = { dirs: [], files: [] },
): void {
  const root = containersRoot();
  mkdirSync(root, { recursive: true, mode: 0o700 });
  claimName(record.Name, record.Id);
  // Its maker's pid in the name: a create killed midway leaves it, which removeLeftovers removes once that pid is gone.
  const tmp = path.join(root, `.tmp-${record.Id}-${process.pid}`);
  try {
    // A directory made beforehand in the same file system (holding the vfs
    // driver's copy of the image, whose root may belong to a sub-ID and so
    // cannot be moved by itself) becomes the container's: renamed, not copied.
    if (extra.staged !== undefined) renameSync(extra.staged, tmp);
    else mkdirSync(tmp, { mode: 0o700 });
    writeFileSync(path.join(tmp, 'container.json'), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    writeFileSync(path.join(tmp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    for (const dir of extra.dirs) {
      // The mode exactly, whatever the caller's umask: the upper dir's is the container's "/".
      mkdirSync(path.join(tmp, dir.name), { mode: 0o700 });
      chmodSync(path.join(tmp, dir.name), dir.mode);
    }
    for (const f of extra.files) writeFileSync(path.join(tmp, f.name), f.content, { mode: 0o644 });
    renameSync(tmp, containerDir(record.Id));
  } catch (err) {
    // The staged directory goes back, for its maker to remove (its files may belong to sub-IDs).
    if (extra.staged !== undefined && existsSync(tmp) && !existsSync(extra.staged)) renameSync(tmp, extra.staged);
    else rmSync(tmp, { recursive: true, force: true });
    unlinkSync(path.join(namesDir(), record.Name));
    throw storeWriteError(containerDir(record.Id), err);
  }
  mkdirSync(runDir(record.Id), { recursive: true, mode: 0o700 });
  debug(() => `container ${record.Id.slice(0, 12)}: wrote ${containerDir(record.Id)}/{container.json,config.json}${extra.dirs.length ? ` and ${extra.dirs.map((d) => d.name).join(', ')}` : ''}; runtime state in ${runDir(record.Id)}`);
}

export function readRecord(id: string): ContainerRecord | undefined {
  return readJson<ContainerRecord>(`${containerDir(id)}/container.json`);
}

export function readConfig(id: string): OciRuntimeConfig | undefined {
  return readJson<OciRuntimeConfig>(`${containerDir(id)}/config.json`);
}

export function pidFilePath(id: string): string {
  return `${containerDir(id)}/pid.json`;
}

export function readPidFile(id: string): PidFile | undefined {
  return readJson<PidFile>(pidFilePath(id));
}

export function readExitFile(id: string): ExitFile | undefined {
  // A running container has none: asking first is cheaper than the ENOENT exception.
  const file = `${containerDir(id)}/exit.json`;
  return existsSync(file) ? readJson<ExitFile>(file) : undefined;
}

/** Records an exit the monitor could not (it was killed): the truth as far as it is known. */
export function writeExitFile(id: string, exit: ExitFile): void {
  writeJsonAtomically(path.join(containerDir(id), 'exit.json'), exit);
}

/** A container's health as its checks left it (lib/containers/health.ts). */
export interface HealthFile {
  /** The start of the container these results belong to (pid.json's StartedAt): a new start begins again at "starting". */
  StartedAt: string;
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

export function readHealthFile(id: string): HealthFile | undefined {
  const file = path.join(containerDir(id), 'health.json');
  return existsSync(file) ? readJson<HealthFile>(file) : undefined;
}

/** Whole or not at all (a rename); the caller holds healthLockPath's lock, so no result is lost to a concurrent check. */
export function writeHealthFile(id: string, health: HealthFile): void {
  writeJsonAtomically(path.join(containerDir(id), 'health.json'), health);
}

/** flock(2)'d around each read-modify-write of health.json. */
export function healthLockPath(id: string): string {
  return path.join(containerDir(id), 'health.lock');
}

/** Where the helper says slirp4netns serves the container's default network (helpers-c/src/record.h). */
export function networkFallbackPath(id: string): string {
  return `${containerDir(id)}/network-fallback`;
}

/** The default network fell back to slirp4netns at the container's last start (pasta failed then). */
export function networkFellBack(id: string): boolean {
  return existsSync(networkFallbackPath(id));
}

/**
 * Before a start: no pid.json or exit.json of the last run, and the runtime
 * directory (the attach socket's) made again when it is gone, as after a
 * reboot empties /run or after `container cleanup`.
 */
export function clearRunState(id: string): void {
  for (const f of ['pid.json', 'exit.json', 'network-fallback', STOP_REQUESTED, PORTS_DOWN]) rmSync(path.join(containerDir(id), f), { force: true });
  mkdirSync(runDir(id), { recursive: true, mode: 0o700 });
}

const STOP_REQUESTED = 'stop-requested';

/**
 * Written by the helper (helpers-c/src/net_forward.c) when skiff-forward
 * died and could not be started again: one line "HOST_ADDR<TAB>HOST_PORT"
 * for each TCP port it served, which no longer answers until the next
 * start (which removes the file).
 */
const PORTS_DOWN = 'ports-down';

/** The container's published ports that answer: its record's, less the TCP ports of a forwarder that could not be started again (PORTS_DOWN). */
export function publishedPortsNow(record: ContainerRecord): NonNullable<ContainerRecord['Network']>['Ports'] {
  const ports = record.Network?.Ports ?? [];
  if (ports.length === 0) return ports; // nothing to leave out: no file to read (ps asks for every container)
  let text: string;
  try {
    text = readFileSync(path.join(containerDir(record.Id), PORTS_DOWN), 'utf8');
  } catch {
    return ports;
  }
  const down = new Set(text.split('\n').filter((l) => l !== '').map((l) => Number(l.split('\t')[1])));
  return ports.filter((b) => b.protocol !== 'tcp' || !down.has(b.hostPort));
}

/**
 * `stop`'s and `kill`'s word to the container's monitor (its stop_file): the
 * end that follows was asked for, so the monitor restarts nothing (Docker's
 * and Podman's rule for a stopped or killed container with a restart
 * policy). After a stop (an empty file) it exits 0, which a systemd unit
 * whose main process it is takes as a clean stop; after a kill ("kill") it
 * ends as the container did. Cleared at each start.
 */
export function stopRequestFile(id: string): string {
  return path.join(containerDir(id), STOP_REQUESTED);
}

export function markStopRequested(id: string): void {
  writeFileSync(stopRequestFile(id), '', { mode: 0o600 });
}

/** kill's word; a stop's already there (kill during stop's timeout) stays: that end is still a clean stop. */
export function markKillRequested(id: string): void {
  try {
    writeFileSync(stopRequestFile(id), 'kill', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
}

export function listContainerIds(): string[] {
  try {
    return readdirSync(containersRoot()).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** Podman's --latest: the container created last. */
export function latestContainer(): ContainerRecord {
  let latest: ContainerRecord | undefined;
  for (const id of listContainerIds()) {
    const r = readRecord(id);
    if (r && (!latest || r.Created > latest.Created)) latest = r;
  }
  if (!latest) throw new SkiffError('no containers to choose the latest from', 1, 'not-found');
  return latest;
}

/** By full id, by name, or by a unique id prefix, as Docker resolves them. */
export function resolveContainer(ref: string): ContainerRecord {
  const byName = nameOwner(ref.replace(/^\//, ''));
  if (byName) {
    const record = readRecord(byName);
    if (record) return record;
  }
  if (/^[0-9a-f]+$/.test(ref)) {
    const matches = listContainerIds().filter((id) => id.startsWith(ref));
    if (matches.length > 1) throw new SkiffError(`container id prefix "${ref}" is ambiguous: it matches ${matches.length} containers`);
    const record = matches[0] ? readRecord(matches[0]) : undefined;
    if (record) return record;
  }
  throw new SkiffError(`no such container: ${ref}`, EXIT_SKIFF_FAILED, 'not-found');
}

/**
 * The user namespace the host side must be in to read or remove a
 * container's files: rootless, its own ID mapping (its upper dir holds files
 * of the user's sub-IDs); none as root, of the host or of skiff's store
 * namespace.
 */
export function containerFileMappings(config: OciRuntimeConfig | undefined): WalkMappings | undefined {
  if ((process.geteuid?.() ?? 0) === 0) return undefined;
  const { uidMappings, gidMappings } = config?.linux ?? {};
  if (uidMappings?.length && gidMappings?.length) return { uidMappings, gidMappings };
  const user = rootlessMappings();
  return { uidMappings: user.uidMappings, gidMappings: user.gidMappings };
}

/**
 * The trees of the container's directory that only the helper may remove
 * (its overlay upper and work dirs, or the vfs copy), when the helper that
 * runs it can remove them itself at its end (run --rm: helpers-c/src/
 * autoremove.h): as root, or rootless in the container's own user namespace
 * or one it joins. Undefined when it cannot (a rootless container without a
 * user namespace: its upper dir may hold sub-IDs' files) or there are none.
 */
export function helperRemovableTrees(config: OciRuntimeConfig): string[] | undefined {
  const overlay = overlayOf(config);
  if (!overlay) return undefined;
  const ownNamespace = (config.linux.uidMappings?.length ?? 0) > 0 || config.linux.namespaces.some((n) => n.type === 'user' && n.path !== undefined);
  if ((process.geteuid?.() ?? 0) !== 0 && !ownNamespace) return undefined;
  return overlay.driver === 'vfs' ? [overlay.upperdir] : [overlay.upperdir, overlay.workdir];
}

/** What a detached --rm container's monitor removes at its end (helpers-c/src/autoremove.h). */
export interface MonitorRemoval {
  dir: string;
  nameLink: string;
  runDir: string;
  /** helperRemovableTrees: removed first, in the container's user namespace. */
  trees: string[];
  /** --pidfile, --conmon-pidfile. */
  files: string[];
  /** --cidfile, removed while it holds the container's id. */
  cidFile?: string;
  /** Its cgroup directories (cgroupfs, split) removed; a systemd scope goes by itself. */
  cgroups: boolean;
}

/**
 * run -d --rm: what the container's monitor removes itself once the
 * container is gone for good, as removeContainerFiles would, so that no skiff
 * process starts then. Undefined when the monitor cannot: a rootless
 * container with an overlay and no user namespace of its own (its upper dir
 * may hold sub-IDs' files, which only skiff's store namespace removes).
 */
export function monitorRemoval(record: ContainerRecord, config: OciRuntimeConfig): MonitorRemoval | undefined {
  const trees = helperRemovableTrees(config);
  if (overlayOf(config) && trees === undefined) return undefined;
  const cidFile = record.HostConfig.ContainerIDFile;
  return {
    dir: containerDir(record.Id),
    nameLink: path.join(namesDir(), record.Name),
    runDir: runDir(record.Id),
    trees: trees ?? [],
    files: [record.PidFile, record.ConmonPidFile].filter((f): f is string => f !== undefined && f !== ''),
    ...(cidFile ? { cidFile } : {}),
    cgroups: record.Cgroup !== undefined && record.Cgroup.manager !== 'systemd',
  };
}

/**
 * Removes everything of the container; safe to run twice or concurrently.
 * An image container's directory holds its upper dir, where the container
 * could have swapped any name for a symlink to the host: that tree is
 * removed by the helper, by fd (walk.h), never by a path walk.
 * `treesRemoved`: the run's helper has removed those trees already
 * (helperRemovableTrees): what is left is skiff's own files.
 */
export async function removeContainerFiles(record: ContainerRecord, treesRemoved = false): Promise<void> {
  const dir = containerDir(record.Id);
  const config = readConfig(record.Id);
  // A systemd or split cgroup is known from the last start's pid.json, which goes with the directory.
  const lastCgroup = record.Cgroup?.manager === 'split' ? readPidFile(record.Id)?.Cgroup : undefined;
  const trash = path.join(containersRoot(), `.trash-${record.Id}-${process.pid}`);
  try {
    renameSync(dir, trash);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    return; // someone else removed it
  }
  containerEvent(record, 'remove');
  if (nameOwner(record.Name) === record.Id) rmSync(path.join(namesDir(), record.Name), { force: true });
  // Without an overlay (or with its trees gone already) what is left is skiff's own files.
  const ownFilesOnly = (config !== undefined && !overlayOf(config)) || treesRemoved;
  if (!(ownFilesOnly && removeOwnFiles(trash))) {
    const { removeTrees } = await import('../namespaces/helper.js');
    await removeTrees([trash], containerFileMappings(config));
  }
  if (record.Cgroup) {
    const cg = startedCgroup(record.Cgroup, lastCgroup);
    if (cg) removeCgroup(cg);
  }
  rmSync(runDir(record.Id), { recursive: true, force: true });
  removeUnitFiles(record);
}

/**
 * What removals and creates killed midway left, which nothing else lists: a
 * container's directory renamed aside (`.trash-<id>-<pid>`) or one being
 * filled (`.tmp-<id>-<pid>`, with the name it claimed) by a skiff whose
 * process is gone. Removed as its container would have been (its
 * config.json, if there, gives the mapping its files need). One whose maker
 * is still alive is left to finish (a reused pid only keeps it longer). A
 * `.tmp-<id>` of an older skiff, which named no pid, goes once it is an hour
 * old: a create fills its directory within a second. Resolves to the number
 * removed.
 */
export async function removeLeftovers(): Promise<number> {
  const root = containersRoot();
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    const m = /^\.(trash|tmp)-([0-9a-f]{64})(?:-(\d+))?$/.exec(name);
    if (!m || (m[1] === 'trash' && m[3] === undefined)) continue;
    const leftover = path.join(root, name);
    if (m[3] !== undefined ? processAlive(Number(m[3])) : !olderThan(leftover, LEGACY_TMP_AGE_MS)) continue;
    const config = readJson<OciRuntimeConfig>(path.join(leftover, 'config.json'));
    if (config && !overlayOf(config)) {
      rmSync(leftover, { recursive: true, force: true });
    } else {
      const { removeTrees } = await import('../namespaces/helper.js');
      await removeTrees([leftover], containerFileMappings(config));
    }
    // A create claims the name first: it names no container now.
    if (m[1] === 'tmp') releaseNamesOf(m[2]!);
    debug(() => `containers: removed ${name}, left by a ${m[1] === 'tmp' ? 'create' : 'removal'} that was killed`);
    removed++;
  }
  return removed;
}

const LEGACY_TMP_AGE_MS = 3600_000;

function olderThan(file: string, ms: number): boolean {
  const st = lstatSync(file, { throwIfNoEntry: false });
  return st !== undefined && Date.now() - st.mtimeMs > ms;
}

/** The names whose link points to this id, when no container of that id is stored. */
function releaseNamesOf(id: string): void {
  if (existsSync(containerDir(id))) return;
  let names: string[];
  try {
    names = readdirSync(namesDir());
  } catch {
    return;
  }
  for (const name of names) if (nameOwner(name) === id) rmSync(path.join(namesDir(), name), { force: true });
}

/** Whether a process with this pid exists (one of another user counts). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) !== 'ESRCH';
  }
}

/** A container directory that holds only skiff's own files; false (and it stays) when something in it refuses Node's removal. */
function removeOwnFiles(dir: string): boolean {
  try {
    rmSync(dir, { recursive: true, force: true });
    return true;
  } catch (err) {
    debug(() => `containers: ${dir} is left to the helper: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  }
}

/** --pidfile, --conmon-pidfile and --cidfile go with the container (the cid file only while it names this one). */
function removeUnitFiles(record: ContainerRecord): void {
  for (const file of [record.PidFile, record.ConmonPidFile]) if (file) rmSync(file, { force: true });
  const cidFile = record.HostConfig.ContainerIDFile;
  if (!cidFile) return;
  try {
    if (readFileSync(cidFile, 'utf8').trim() === record.Id) unlinkSync(cidFile);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/** update: the record's HostConfig and config.json's resources, each written whole. */
export function updateContainerFiles(record: ContainerRecord, config: OciRuntimeConfig): void {
  writeJsonAtomically(path.join(containerDir(record.Id), 'config.json'), config);
  writeJsonAtomically(path.join(containerDir(record.Id), 'container.json'), record);
}

/** network connect and disconnect: the record with its Networks changed, written whole. */
export function writeRecord(record: ContainerRecord): void {
  writeJsonAtomically(path.join(containerDir(record.Id), 'container.json'), record);
}

/**
 * The container's /etc/hosts (a file in its directory, bind-mounted into a
 * running container), rewritten in place: a rename would leave the mount on
 * the old file. False when the container has none (a --rootfs container, or
 * one removed meanwhile).
 */
export function rewriteHostsFile(id: string, content: string): boolean {
  const file = path.join(containerDir(id), 'hosts');
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  try {
    const data = Buffer.from(content);
    writeSync(fd, data, 0, data.length, 0);
    ftruncateSync(fd, data.length);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * network connect of a container that keeps its --rootfs directory's own
 * /etc files (none of skiff's in its directory, nothing of the user's
 * mounted on /etc/hosts): skiff's hosts file with `content`, bound over
 * /etc/hosts from its next start, as `create --network NAME` gives one.
 * False when it has skiff's files already (or --no-hosts, which keeps a
 * hostname file) or a mount of its own there.
 */
export function addHostsFile(id: string, content: string): boolean {
  const dir = containerDir(id);
  if (existsSync(path.join(dir, 'hosts')) || existsSync(path.join(dir, 'hostname'))) return false;
  const config = readConfig(id);
  if (!config || config.mounts.some((m) => m.destination === '/etc/hosts' || m.destination === '/etc')) return false;
  writeFileSync(path.join(dir, 'hosts'), content, { mode: 0o644 });
  writeJsonAtomically(path.join(dir, 'config.json'), {
    ...config,
    mounts: [...config.mounts, { destination: '/etc/hosts', type: 'bind', source: path.join(dir, 'hosts'), options: ['bind', 'rw'] }],
  });
  return true;
}

export function readHostsFile(id: string): string | undefined {
  try {
    return readFileSync(path.join(containerDir(id), 'hosts'), 'utf8');
  } catch {
    return undefined;
  }
}

export function renameContainer(record: ContainerRecord, newName: string): void {
  claimName(newName, record.Id);
  const updated = { ...record, Name: newName };
  try {
    writeJsonAtomically(path.join(containerDir(record.Id), 'container.json'), updated);
  } catch (err) {
    rmSync(path.join(namesDir(), newName), { force: true }); // the old name stays the container's
    throw err;
  }
  rmSync(path.join(namesDir(), record.Name), { force: true });
  containerEvent(updated, 'rename');
}

export function logPath(id: string): string {
  return path.join(containerDir(id), 'ctr.log');
}

/** Where the container's output is logged: --log-opt path= or its own ctr.log; undefined with --log-driver none or passthrough. */
export function containerLogFile(record: ContainerRecord): string | undefined {
  const config = record.HostConfig.LogConfig;
  if (config && config.Type !== 'k8s-file') return undefined;
  return config?.Config['path'] ?? logPath(record.Id);
}

/** --log-opt max-size in bytes, when given. */
export function containerLogMax(record: ContainerRecord): number | undefined {
  const text = record.HostConfig.LogConfig?.Config['max-size'];
  return text === undefined ? undefined : Number(text);
}

/**
 * Bytes of skiff's own files of the container (its log above all), as prune
 * reports them beside the container's upper dir (size.ts). Only the files
 * directly in its directory: the trees below (upper, work) are the
 * container's to change, and only the helper walks those.
 */
export function containerOwnFilesSize(id: string): number {
  const dir = containerDir(id);
  let total = 0;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isFile()) total += lstatSync(path.join(dir, entry.name)).size;
  } catch {
    // removed meanwhile
  }
  return total;
}
