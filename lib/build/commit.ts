// `skiff commit CONTAINER [IMAGE]`: the container's changes become one layer
// on top of its image (layer.ts), and its configuration (as the container
// runs: its command, environment, user, working directory, labels…, then
// the -c changes) the new image's. Runs as root of the store's user
// namespace when rootless (the upper dir and the new layer hold files of
// the user's sub-IDs), holding the store lock shared.
import { readFileSync } from 'node:fs';
import { SkiffError } from '../errors.js';
import { parseIdMap } from '../host/system.js';
import type { OciIdMapping, OciRuntimeConfig } from '../oci/runtime-spec.js';
import { layerShift } from '../oci/spec/userns.js';
import { applyConfigChanges } from './changes.js';
import type { BuildContainerConfig as ContainerConfig } from './image-config.js';
import type { ImageConfig, ImageHistory } from '../oci/image-spec.js';
import { parseReference } from '../oci/reference.js';
import { overlayOf } from '../oci/spec/runtime.js';
import { containerState } from '../containers/state.js';
import { readConfig, resolveContainer, type ContainerRecord } from '../containers/store.js';
import { setPaused } from '../containers/lifecycle.js';
import { readBlob } from '../store/blobs.js';
import { storeImage } from '../store/image-write.js';
import { lockStore } from '../store/lock.js';
import { writeName } from '../store/names.js';
import { openStoreForWriting, type Store } from '../store/store.js';
import { storeUpperDirLayer, type NewLayer } from './layer.js';
import { RUNTIME_MOUNT_POINTS } from './mounts.js';

export interface CommitOptions {
  author?: string;
  message?: string;
  /** -c: Dockerfile instructions that change the configuration. */
  changes: string[];
  /** Freeze the container while its files are read: true, false, or 'if-possible' (the default: a container without a cgroup is read as it runs, with a warning). */
  pause: boolean | 'if-possible';
  /** The new image's name. */
  name?: string;
  /** Lines for stderr (progress, warnings); nothing when quiet. */
  progress?: (line: string) => void;
  warn: (line: string) => void;
  store?: Store;
}

export interface CommitResult {
  id: string;
  layer: NewLayer;
}

/** The configuration the container runs with, as Docker's commit takes it. */
function runningConfig(record: ContainerRecord, base: ContainerConfig): ContainerConfig {
  const c = record.Config;
  const generated = new Set([`HOSTNAME=${c.Hostname}`, ...(c.Tty ? ['TERM=xterm'] : [])]);
  const env = c.Env.filter((e) => !generated.has(e) || (base.Env ?? []).includes(e));
  const overridden = c.Entrypoint !== null || c.Cmd.length > 0;
  const out: ContainerConfig = { ...base, Env: env };
  if (c.Entrypoint !== null) out.Entrypoint = c.Entrypoint;
  if (overridden) out.Cmd = c.Cmd;
  if (c.User !== '') out.User = c.User;
  else delete out.User;
  if (c.WorkingDir !== '' && (c.WorkingDir !== '/' || base.WorkingDir)) out.WorkingDir = c.WorkingDir;
  if (Object.keys(c.Labels).length > 0) out.Labels = c.Labels;
  if (c.ExposedPorts) out.ExposedPorts = c.ExposedPorts;
  if (c.Volumes) out.Volumes = c.Volumes;
  if (c.StopSignal && c.StopSignal !== 'SIGTERM') out.StopSignal = c.StopSignal;
  // The healthcheck it runs with (flags over the image's), as Docker's commit
  // keeps it; --no-healthcheck over an image's is written as NONE.
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  else if (base.Healthcheck) out.Healthcheck = { Test: ['NONE'] };
  return out;
}

function historyOf(base: ImageConfig): ImageHistory[] {
  if (base.history && base.history.length > 0) return base.history;
  // A base image without history: one entry per layer, so tools can pair them.
  return base.rootfs.diff_ids.map(() => ({ ...(base.created ? { created: base.created } : {}) }));
}

async function withPause<T>(record: ContainerRecord, pause: CommitOptions['pause'], warn: (l: string) => void, fn: () => Promise<T>): Promise<T> {
  const state = containerState(record);
  if (!state.Running || state.Paused || pause === false) return fn();
  if (!record.Cgroup) {
    const why = `${record.Name} has no cgroup of its own to freeze`;
    if (pause === true) throw new SkiffError(`cannot pause ${record.Name} to commit it: ${why}; commit it running with --pause=false`);
    warn(`committing ${record.Name} while it runs: ${why}; files it writes meanwhile may be caught half-written`);
    return fn();
  }
  await setPaused(record, true);
  try {
    return await fn();
  } finally {
    await setPaused(record, false);
  }
}

/**
 * A container with its own mapping (--userns keep-id) wrote files the store's
 * namespace sees under other IDs: the layer gets the owners the container saw.
 */
function containerOwnerShift(config: OciRuntimeConfig): { uids: OciIdMapping[]; gids: OciIdMapping[] } | undefined {
  const { uidMappings, gidMappings } = config.linux;
  if (!uidMappings?.length || !gidMappings?.length) return undefined;
  // This process runs in the store's namespace (rootless commit re-executes there): its maps are the store's.
  const own = (file: string) => parseIdMap(readFileSync(`/proc/self/${file}`, 'utf8'));
  const store = { uids: own('uid_map'), gids: own('gid_map') };
  const key = (ms: OciIdMapping[]) => JSON.stringify([...ms].sort((a, b) => a.containerID - b.containerID));
  if (key(uidMappings) === key(store.uids) && key(gidMappings) === key(store.gids)) return undefined;
  return { uids: layerShift(uidMappings, store.uids), gids: layerShift(gidMappings, store.gids) };
}

export async function commitContainer(containerName: string, opts: CommitOptions): Promise<CommitResult> {
  const ref = opts.name !== undefined ? parseReference(opts.name) : undefined;
  if (ref?.digest !== undefined) throw new SkiffError(`refusing to create a tag with a digest reference: ${opts.name}`);
  const record = resolveContainer(containerName);
  const config = readConfig(record.Id);
  const overlay = config && overlayOf(config);
  if (!config || !overlay || !record.ImageID) {
    throw new SkiffError(`commit needs a container made from an image: ${record.Name} runs on --rootfs ${record.Rootfs} and has no layer of changes`);
  }
  const store = opts.store ?? openStoreForWriting();
  const lock = await lockStore(store.paths, 'shared', { onWait: () => opts.progress?.('Waiting for other skiff processes to finish with the image store...') });
  try {
    const baseBytes = readBlob(store.paths, record.ImageID);
    if (!baseBytes) throw new SkiffError(`the image of ${record.Name} (${record.ImageID}) is no longer in the store: its config is needed to commit`);
    const base = JSON.parse(baseBytes.toString('utf8')) as ImageConfig;
    // What is mounted over the container's files (/etc/hosts, /etc/resolv.conf, volumes, tmpfs) is not its changes.
    const exclude = [...RUNTIME_MOUNT_POINTS, ...config.mounts.map((m) => m.destination)];
    const ownerShift = containerOwnerShift(config);
    const layer = await withPause(record, opts.pause, opts.warn, () =>
      storeUpperDirLayer({ store, upperdir: overlay.upperdir, lowerdirs: overlay.lowerdirs, exclude, ...(ownerShift ? { ownerShift } : {}), ...(overlay.driver === 'vfs' ? { full: true } : {}) }),
    );
    opts.progress?.(`Copying blob ${layer.blob.digest} done`);

    const created = new Date().toISOString();
    const containerConfig = applyConfigChanges(runningConfig(record, base.config ?? {}), opts.changes);
    const entry: ImageHistory = { created, created_by: [record.Path, ...record.Args].join(' ') };
    if (opts.author !== undefined) entry.author = opts.author;
    if (opts.message !== undefined) entry.comment = opts.message;
    const image: ImageConfig = {
      ...base,
      created,
      config: containerConfig,
      rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids, layer.diffID] },
      history: [...historyOf(base), entry],
    };
    if (opts.author !== undefined) image.author = opts.author;
    else delete image.author;
    if (opts.message !== undefined) image.comment = opts.message;
    else delete image.comment;
    const stored = await storeImage(store, { config: image });
    opts.progress?.(`Copying config ${stored.id} done`);
    opts.progress?.('Writing manifest to image destination');
    if (ref) await writeName(store.paths, ref, stored.id);
    return { id: stored.id, layer };
  } finally {
    lock.release();
  }
}
