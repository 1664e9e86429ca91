// Volumes on disk. This module owns every file below <GraphRoot>/volumes:
//   volumes/<name>/volume.json   the record, written with the directory, never changed
//   volumes/<name>/_data/        what containers see (a plain volume's files)
//   volumes/.tmp-<pid>-<random>  a volume being made: renamed to <name> when whole
//   volumes/.trash-<name>-<pid>  a volume being removed
// (a process killed midway leaves either: removeVolumeLeftovers, in prune,
// removes them once their maker's pid is gone)
// Making a volume is one rename(2) of a complete directory, so any number of
// `run -v NAME` at once make it once: the first rename wins, the others find
// it there and discard their copy. Rootless, _data holds files of the user's
// sub-IDs (what containers wrote): only a user namespace with the containers'
// mapping removes them (design.md decision 1).
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { volumeEvent } from '../events/log.js';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import { urandomBytes } from '../ids.js';
import { currentStoreLocations, storePaths } from '../store/paths.js';
import { pidAlive } from '../store/atomic.js';
import { VOLUME_NAME } from '../oci/spec/mounts.js';
import { rootlessMappings } from '../host/subids.js';
import type { WalkMappings } from '../namespaces/helper.js';

/** A volume as `volume inspect` shows it (Docker's fields, and Podman's Anonymous). */
export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  CreatedAt: string;
  Labels: Record<string, string>;
  /** The local driver's options: type, device, o (as `volume create --opt`). */
  Options: Record<string, string>;
  Scope: 'local';
  /** Made for one container (-v /dir, an image's VOLUME): `rm -v` and `run --rm` remove it. */
  Anonymous: boolean;
}

export interface Volume extends VolumeRecord {
  Mountpoint: string;
}

let cachedRoot: string | undefined;

export function volumesRoot(): string {
  cachedRoot ??= storePaths(currentStoreLocations().graphRoot).volumes;
  return cachedRoot;
}

function volumeDir(name: string): string {
  return path.join(volumesRoot(), name);
}

export function mountpointOf(name: string): string {
  return path.join(volumeDir(name), '_data');
}

function readRecord(name: string): VolumeRecord | undefined {
  try {
    return JSON.parse(readFileSync(path.join(volumeDir(name), 'volume.json'), 'utf8')) as VolumeRecord;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Docker's order of fields (inspect prints them as they are). */
function withMountpoint(r: VolumeRecord): Volume {
  return { CreatedAt: r.CreatedAt, Driver: r.Driver, Labels: r.Labels, Mountpoint: mountpointOf(r.Name), Name: r.Name, Options: r.Options, Scope: r.Scope, Anonymous: r.Anonymous };
}

export function getVolume(name: string): Volume | undefined {
  if (!VOLUME_NAME.test(name)) return undefined;
  const record = readRecord(name);
  return record ? withMountpoint(record) : undefined;
}

export function requireVolume(name: string): Volume {
  const volume = getVolume(name);
  if (!volume) throw new SkiffError(`no such volume: ${name}`);
  return volume;
}

export function listVolumes(): Volume[] {
  let names: string[];
  try {
    names = readdirSync(volumesRoot());
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: Volume[] = [];
  for (const name of names.sort()) {
    if (!VOLUME_NAME.test(name)) continue; // .tmp-…, .trash-…
    const record = readRecord(name);
    if (record) out.push(withMountpoint(record));
  }
  return out;
}

// --- The local driver's options (volume create --opt, --mount volume-opt) ---

/** File system types a rootless user may have: a tmpfs, or a bind of a directory. */
const ROOTLESS_TYPES = new Set(['tmpfs', 'none']);

/** Docker's local driver: type, device, o; nothing else. */
export function checkDriverOptions(options: Record<string, string>, rootless: boolean): void {
  for (const key of Object.keys(options)) {
    if (!['type', 'device', 'o'].includes(key)) throw new SkiffError(`invalid volume option "${key}": the local driver takes type, device and o`);
  }
  const { type, device, o } = options;
  if (type === undefined) {
    if (device !== undefined || o !== undefined) throw new SkiffError('volume options device and o need type (e.g. type=tmpfs, or type=none with o=bind)');
    return;
  }
  if (!/^[\w.+-]+$/.test(type)) throw new SkiffError(`invalid volume type "${type}"`);
  if (type === 'none') {
    if (!o?.split(',').some((w) => w === 'bind' || w === 'rbind')) throw new SkiffError('a volume of type=none needs o=bind');
    if (!device?.startsWith('/')) throw new SkiffError('a volume of type=none needs device=/an/absolute/host/path');
    return;
  }
  if (rootless && !ROOTLESS_TYPES.has(type)) {
    throw new SkiffError(`a volume of type=${type} needs root: rootless, only type=tmpfs and type=none (o=bind) volumes can be made`);
  }
  if (type !== 'tmpfs' && device === undefined) throw new SkiffError(`a volume of type=${type} needs device=`);
}

// --- Making and removing ---

export interface NewVolume {
  /** undefined: a new random name (64 hex digits). */
  name?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  anonymous?: boolean;
}

function randomName(): string {
  return urandomBytes(32).toString('hex');
}

function writeError(what: string, err: unknown): unknown {
  const code = errnoCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new SkiffError(`cannot create ${what}: no space left on device (nothing was changed)`);
  if (code === 'EACCES' || code === 'EROFS') return new SkiffError(`cannot create ${what}: ${code === 'EROFS' ? 'the file system is read-only' : 'permission denied'} (${volumesRoot()})`);
  return err;
}

/**
 * Makes a volume, or finds it when it exists (a volume of that name made
 * meanwhile by another process included): `created` says which. Options of
 * an existing volume are not compared, as Docker does for `-v NAME`.
 */
export function ensureVolume(spec: NewVolume, rootless: boolean): { volume: Volume; created: boolean } {
  const name = spec.name ?? randomName();
  if (!VOLUME_NAME.test(name)) throw new SkiffError(`invalid volume name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least 2 characters`);
  const existing = getVolume(name);
  if (existing) return { volume: existing, created: false };
  const options = spec.options ?? {};
  checkDriverOptions(options, rootless);
  const record: VolumeRecord = {
    Name: name,
    Driver: 'local',
    CreatedAt: new Date().toISOString(),
    Labels: spec.labels ?? {},
    Options: options,
    Scope: 'local',
    Anonymous: spec.anonymous ?? false,
  };
  const root = volumesRoot();
  const tmp = path.join(root, `.tmp-${process.pid}-${urandomBytes(6).toString('hex')}`);
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    mkdirSync(tmp, { mode: 0o700 });
    writeFileSync(path.join(tmp, 'volume.json'), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    mkdirSync(path.join(tmp, '_data'));
    chmodSync(path.join(tmp, '_data'), 0o755); // whatever the umask: the container's users must get in
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw writeError(`volume ${name}`, err);
  }
  try {
    renameSync(tmp, volumeDir(name));
    volumeEvent('create', name);
    return { volume: withMountpoint(record), created: true };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const code = errnoCode(err);
    if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw writeError(`volume ${name}`, err);
  }
  // Another process made it first: theirs it is.
  const theirs = getVolume(name);
  if (!theirs) throw new SkiffError(`volume ${name} is being removed by another process: try again`);
  return { volume: theirs, created: false };
}

/**
 * The user namespace the host side must be in to read or remove a volume's
 * files (containers wrote them as the user's sub-IDs): the user's mapping when
 * rootless, none as root of the host or of skiff's store namespace.
 */
function volumeFileMappings(): WalkMappings | undefined {
  if ((process.geteuid?.() ?? 0) === 0) return undefined;
  const { uidMappings, gidMappings } = rootlessMappings();
  return { uidMappings, gidMappings };
}

/**
 * Removes a volume's directory: renamed out of the way first (a reader sees
 * the volume or nothing), then deleted by the helper, by fd (walk.h): a
 * container wrote what is in it, and a name it swapped for a symlink to the
 * host is removed, never followed. False when it was not there.
 */
export async function removeVolumeFiles(name: string): Promise<boolean> {
  const dir = volumeDir(name);
  const trash = path.join(volumesRoot(), `.trash-${name}-${process.pid}`);
  try {
    renameSync(dir, trash);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  volumeEvent('remove', name);
  const { removeTrees } = await import('../namespaces/helper.js');
  await removeTrees([trash], volumeFileMappings());
  return true;
}

/**
 * What makes and removals killed midway left, which no listing shows: a
 * volume being filled (`.tmp-<pid>-<random>`) or renamed aside to be removed
 * (`.trash-<name>-<pid>`) by a skiff whose process is gone. One whose maker
 * is alive is left to finish (a reused pid only keeps it longer). Removed by
 * the helper, in the volumes' mapping (a container wrote what a removed
 * volume holds). Resolves to the names removed.
 */
export async function removeVolumeLeftovers(): Promise<string[]> {
  const root = volumesRoot();
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const left = names.filter((name) => {
    const m = /^\.tmp-(\d+)-[0-9a-f]+$/.exec(name) ?? /^\.trash-.+-(\d+)$/.exec(name);
    return m !== null && !pidAlive(Number(m[1]));
  });
  if (left.length === 0) return [];
  const { removeTrees } = await import('../namespaces/helper.js');
  await removeTrees(left.map((name) => path.join(root, name)), volumeFileMappings());
  return left;
}

/** The bytes of each volume's files (its _data), each inode once, walked by the helper by fd. */
export async function volumeBytes(mountpoints: string[]): Promise<number[]> {
  const { treeSizes } = await import('../namespaces/helper.js');
  return treeSizes(mountpoints, volumeFileMappings());
}
