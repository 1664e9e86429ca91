// A container's storage, resolved on the host: -v, --mount, --tmpfs,
// --volumes-from, the image's VOLUMEs and --read-only become config.json
// mounts (lib/oci/spec/mounts.ts describes them, lib/volumes makes the
// volumes, the helper mounts them inside the root) and Docker's "Mounts" of
// `inspect`. Everything is checked before anything is made: a refused flag
// leaves no directory and no volume behind.
import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { useCodePart } from '../code-parts.js';
import { SkiffError, errnoCode } from '../errors.js';
import type { OciMount } from '../oci/runtime-spec.js';
import type { StorageOptions } from '../oci/spec/options.js';
import {
  checkDistinctDestinations,
  containerPath,
  mountOptionWords,
  parseMountFlag,
  parseTmpfsFlag,
  parseVolumeFlag,
  type BindRequest,
  type MountRequest,
  type VolumeRequest,
} from '../oci/spec/mounts.js';
import { checkDriverOptions, ensureVolume, getVolume, removeVolumeFiles, type Volume } from '../volumes/store.js';
import { volumeMount } from '../volumes/mount.js';

/** A mount as Docker's `inspect` lists it ("Mounts"). */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** The storage flags of run and create. */
export interface StorageFlags {
  volumes: string[];
  mounts: string[];
  tmpfs: string[];
  volumesFrom: string[];
  readOnly: boolean;
  readOnlyTmpfs: boolean;
}

export interface StorageContext {
  /** The image's VOLUMEs (its config's Volumes keys). */
  imageVolumes: string[];
  rootless: boolean;
  /** The container runs in a user namespace (rootless), and it has sub-IDs around the user. */
  userns: boolean;
  subIds: boolean;
  cwd: string;
  /** --volumes-from: a container's recorded mounts, by name or id. */
  mountsOf(container: string): MountPoint[];
}

export interface ResolvedStorage {
  storage: StorageOptions;
  mountPoints: MountPoint[];
  /** Volumes made for this container (to remove again if it is not made after all). */
  created: string[];
}

/** What skiff mounts itself: a mount over it would be lost or break the container. */
const RESERVED = new Set(['/proc', '/sys', '/dev', '/dev/pts', '/dev/mqueue']);

/** Podman's --read-only-tmpfs: these stay writable on a read-only root. */
const READ_ONLY_TMPFS = ['/tmp', '/var/tmp', '/run'];

function selinuxEnforcing(): boolean {
  try {
    return readFileSync('/sys/fs/selinux/enforce', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** --volumes-from CTR[:ro|rw]: that container's volumes and binds, on the same destinations. */
function volumesFromRequests(spec: string, ctx: StorageContext): MountRequest[] {
  const colon = spec.lastIndexOf(':');
  const mode = colon > 0 ? spec.slice(colon + 1) : '';
  if (mode !== '' && mode !== 'ro' && mode !== 'rw') throw new SkiffError(`invalid --volumes-from "${spec}": the mode must be ro or rw`);
  const name = mode === '' ? spec : spec.slice(0, colon);
  const out: MountRequest[] = [];
  for (const p of ctx.mountsOf(name)) {
    const readonly = mode === '' ? !p.RW : mode === 'ro';
    const flags = { readonly, chown: false };
    if (p.Type === 'volume' && p.Name) out.push({ kind: 'volume', name: p.Name, destination: p.Destination, flags, nocopy: true, labels: {}, driverOptions: {} });
    else if (p.Type === 'bind') out.push({ kind: 'bind', source: p.Source, destination: p.Destination, flags, createSource: false, recursive: true, overlay: false });
  }
  return out;
}

/** A bind source must be there (or, for -v, be made) and readable by the user. */
function checkBindSource(m: BindRequest, rootless: boolean): 'present' | 'missing' {
  if (/[\t\n]/.test(m.source)) throw new SkiffError(`invalid bind source "${m.source}": it contains a tab or a newline`);
  let st;
  try {
    st = statSync(m.source);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') {
      if (m.createSource && !m.overlay) return 'missing';
      throw new SkiffError(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
    }
    if (code === 'EACCES') throw new SkiffError(`cannot use ${m.source} as a bind source: permission denied`);
    if (code === 'ENOTDIR') throw new SkiffError(`invalid bind source ${m.source}: a component of the path is not a directory`);
    throw err;
  }
  if (m.overlay && !st.isDirectory()) throw new SkiffError(`invalid bind source ${m.source} for O: an overlay needs a directory`);
  if (rootless) {
    try {
      accessSync(m.source, st.isDirectory() ? constants.R_OK | constants.X_OK : constants.R_OK);
    } catch {
      throw new SkiffError(`cannot use ${m.source} as a bind source: your user cannot read it`);
    }
  }
  return 'present';
}

function checkFlags(m: MountRequest, ctx: StorageContext): void {
  if (RESERVED.has(m.destination)) throw new SkiffError(`cannot mount on ${m.destination}: skiff mounts it for every container`);
  if (m.flags.chown && ctx.rootless && !ctx.subIds) {
    throw new SkiffError(`cannot use U on ${m.destination}: chowning to the container's user needs a sub-ID range in /etc/subuid and /etc/subgid (see 'skiff doctor')`);
  }
  if (m.flags.idmap === true && !ctx.userns) {
    throw new SkiffError(`cannot use idmap on ${m.destination}: the container has no user namespace to map to; give the mapping, idmap=uids=FS-HOST-COUNT;gids=FS-HOST-COUNT`);
  }
}

function propagationOf(m: MountRequest): string {
  return m.flags.propagation ?? (m.kind === 'bind' ? 'rprivate' : '');
}

function modeText(m: MountRequest): string {
  const words: string[] = [];
  if (m.flags.relabel) words.push(m.flags.relabel === 'shared' ? 'z' : 'Z');
  if (m.flags.readonly) words.push('ro');
  if (m.flags.chown) words.push('U');
  if (m.kind === 'bind' && m.overlay) words.push('O');
  if (m.kind === 'volume' && m.nocopy) words.push('nocopy');
  return words.join(',');
}

function bindMount(m: BindRequest): OciMount {
  if (m.overlay) return { destination: m.destination, type: 'overlay', source: m.source, options: mountOptionWords(m.flags, { nosuid: false, nodev: false, noexec: false }) };
  const words = mountOptionWords(m.flags, { nosuid: false, nodev: false, noexec: false });
  return { destination: m.destination, type: 'bind', source: m.source, options: [m.recursive ? 'rbind' : 'bind', ...words, propagationOf(m)] };
}

/**
 * The storage flags and the image's VOLUMEs as mounts. Volumes named here
 * are made if missing; anonymous ones are made new. Throws (having made
 * nothing) on any flag that is wrong.
 */
export function resolveStorage(flags: StorageFlags, ctx: StorageContext): ResolvedStorage {
  const own: MountRequest[] = [
    ...flags.volumes.map((v) => parseVolumeFlag(v, ctx.cwd)),
    ...flags.mounts.map((v) => parseMountFlag(v, ctx.cwd)),
    ...flags.tmpfs.map((v) => parseTmpfsFlag(v)),
  ];
  checkDistinctDestinations(own);
  const taken = new Set(own.map((m) => m.destination));
  // --volumes-from, then the image's VOLUMEs, fill only what the flags leave free.
  const requests = [...own];
  for (const spec of flags.volumesFrom) {
    for (const m of volumesFromRequests(spec, ctx)) {
      if (taken.has(m.destination)) continue;
      taken.add(m.destination);
      requests.push(m);
    }
  }
  for (const dir of ctx.imageVolumes) {
    let destination: string;
    try {
      destination = containerPath('image volume', dir, dir);
    } catch {
      continue; // a VOLUME "/" or a relative one: Docker skips it too
    }
    if (taken.has(destination)) continue;
    taken.add(destination);
    requests.push({ kind: 'volume', destination, flags: { readonly: false, chown: false }, nocopy: false, labels: {}, driverOptions: {} });
  }
  if (flags.readOnly && flags.readOnlyTmpfs) {
    for (const destination of READ_ONLY_TMPFS) {
      if (taken.has(destination)) continue;
      requests.push({ kind: 'tmpfs', destination, flags: { readonly: false, chown: false, nosuid: true, nodev: true, noexec: false }, data: [], copyUp: false });
    }
  }

  // Check everything first.
  const missingSources: string[] = [];
  let relabel = false;
  for (const m of requests) {
    // Parts of the code a run without them does not compile (code-parts.ts).
    if (m.kind === 'bind') useCodePart('bindMounts');
    else if (m.kind === 'volume') useCodePart('volumes');
    checkFlags(m, ctx);
    if (m.flags.relabel) relabel = true;
    if (m.kind === 'bind' && checkBindSource(m, ctx.rootless) === 'missing') missingSources.push(m.source);
    if (m.kind === 'volume' && m.name !== undefined && !getVolume(m.name)) checkDriverOptions(m.driverOptions, ctx.rootless);
  }
  if (relabel && selinuxEnforcing()) {
    process.stderr.write('skiff: warning: z/Z: skiff does not relabel files for SELinux; a container may be denied what it mounts (see the user guide, Storage)\n');
  }

  // Then make what is missing: -v's host directories (Docker's behaviour), then volumes.
  for (const dir of missingSources) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw new SkiffError(`cannot create the bind source ${dir}: ${errnoCode(err) === 'EACCES' ? 'permission denied' : String(errnoCode(err) ?? err)}`);
    }
  }
  const created: string[] = [];
  const mounts: OciMount[] = [];
  const mountPoints: MountPoint[] = [];
  try {
    for (const m of requests) {
      if (m.kind === 'bind') {
        mounts.push(bindMount(m));
        mountPoints.push({ Type: 'bind', Source: m.source, Destination: m.destination, Mode: modeText(m), RW: !m.flags.readonly, Propagation: propagationOf(m) });
      } else if (m.kind === 'tmpfs') {
        const words = mountOptionWords(m.flags, { nosuid: true, nodev: true, noexec: true });
        mounts.push({ destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: [...words, ...(m.copyUp ? ['tmpcopyup'] : []), ...m.data] });
        mountPoints.push({ Type: 'tmpfs', Source: '', Destination: m.destination, Mode: m.data.join(','), RW: !m.flags.readonly, Propagation: '' });
      } else {
        const volume = volumeFor(m, ctx.rootless, created);
        mounts.push(volumeMount(volume, m));
        mountPoints.push({
          Type: 'volume',
          Name: volume.Name,
          Source: volume.Mountpoint,
          Destination: m.destination,
          Driver: volume.Driver,
          Mode: modeText(m),
          RW: !m.flags.readonly,
          Propagation: propagationOf(m),
        });
      }
    }
  } catch (err) {
    void removeVolumes(created);
    throw err;
  }
  return { storage: { mounts, readonlyRootfs: flags.readOnly }, mountPoints, created };
}

function volumeFor(m: VolumeRequest, rootless: boolean, created: string[]): Volume {
  const { volume, created: isNew } = ensureVolume(
    m.name === undefined ? { anonymous: true } : { name: m.name, labels: m.labels, options: m.driverOptions },
    rootless,
  );
  if (isNew) created.push(volume.Name);
  return volume;
}

/** Removes volumes this module made for a container that was not made after all. */
export async function removeVolumes(names: string[]): Promise<void> {
  for (const name of names) await removeVolumeFiles(name);
}
