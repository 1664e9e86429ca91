// `skiff pull`: resolve the reference through the registry client, store the
// manifest and config, fetch the missing layers in parallel (each streamed
// once into the store, see store/layer-write.ts), then name the image. Layers
// are written as root of the store's user namespace (rootless) or as root,
// holding the store lock shared: any number of pulls run at once and publish
// by atomic renames; rmi's garbage collection waits for them. Each layer is
// fetched under its own lock, so concurrent pulls of one image download and
// unpack each layer once: the others wait for it and take what it stored.
//
// An image whose every layer is stored already writes only files the user
// owns (blobs, layer.json, the image record, names): that "warm" pull needs
// neither the user namespace nor the lock. It runs in the caller's process
// (rootless: before any re-execution, `canWriteLayers: false`) as a seqlock
// section (store/lock.ts sharedWithoutLock), done again under the lock when
// an exclusive holder ran meanwhile.
import { SkiffError } from '../errors.js';
import { imageEvent } from '../events/log.js';
import { canCreateDevices } from '../host/privilege.js';
import type { Descriptor, Platform } from '../oci/image-spec.js';
import { formatReference, parseReference } from '../oci/reference.js';
import type { RegistryClient, RegistryClientOptions, ResolvedImage } from '../registry/types.js';
import { cleanTmp } from '../store/atomic.js';
import { readBlob, writeBlob } from '../store/blobs.js';
import { compressionOfMediaType, zstdBinary } from '../store/compression.js';
import { digestHex } from '../store/digest.js';
import { readImageRecord, writeImageRecord, type ImageRecord } from '../store/images.js';
import { addCompressedBlob, hasLayer, readLayerMeta } from '../store/layers.js';
import { lockLayerFetch, lockStore, sharedWithoutLock, type StoreLock } from '../store/lock.js';
import { readName, writeName } from '../store/names.js';
import { openStoreForWriting, type Store } from '../store/store.js';
import { RecordingReporter, type PullReporter } from './pull-progress.js';

export { createReporter, RecordingReporter } from './pull-progress.js';
export { parsePlatform } from './platform.js';
// This bundle has its own copy of lib/paths.ts (the helper's location): the CLI hands over the install root.

/** Layers fetched at once: enough to fill a link, few enough to keep each fast. */
export const PARALLEL_LAYERS = 3;

export interface PullOptions {
  platform?: Platform;
  tlsVerify?: boolean;
  authFile?: string;
  reporter: PullReporter;
  /** Tests: another store than the process's. */
  store?: Store;
  /** Tests: a client other than lib/registry's. */
  client?: RegistryClient;
  /**
   * False for a rootless caller outside the store's user namespace: the pull
   * names an image whose layers are all stored, and otherwise writes nothing
   * and resolves to undefined (the caller re-executes in the namespace).
   * Default true.
   */
  canWriteLayers?: boolean;
}

export interface PullResult {
  /** The image id (config digest). */
  id: string;
  /** Names given to it. */
  names: string[];
  downloaded: number;
  skipped: number;
}

async function makeClient(opts: PullOptions, store: Store): Promise<RegistryClient> {
  if (opts.client) return opts.client;
  const { createRegistryClient } = await import('../registry/client.js');
  // A stored image's config is read here, not asked for again.
  const clientOpts: RegistryClientOptions = { storedBlob: (digest) => readBlob(store.paths, digest) };
  if (opts.tlsVerify !== undefined) clientOpts.tlsVerify = opts.tlsVerify;
  if (opts.platform) clientOpts.platform = opts.platform;
  if (opts.authFile !== undefined) clientOpts.authFile = opts.authFile;
  return createRegistryClient(clientOpts);
}

/** Checks what can be checked before any layer is fetched. */
function checkImage(image: ResolvedImage): void {
  const diffIDs = image.config.rootfs?.diff_ids;
  if (!Array.isArray(diffIDs) || diffIDs.length !== image.manifest.layers.length) {
    throw new SkiffError(
      `image ${formatReference(image.reference)} is inconsistent: its manifest has ${image.manifest.layers.length} layers, its config lists ${Array.isArray(diffIDs) ? diffIDs.length : 'no'} diff_ids`,
    );
  }
  for (const d of diffIDs) digestHex(d);
  digestHex(image.manifest.config.digest);
  let zstd = false;
  for (const layer of image.manifest.layers) {
    digestHex(layer.digest);
    if (compressionOfMediaType(layer.mediaType) === 'zstd') zstd = true;
  }
  if (zstd) zstdBinary();
}

/** The names a pull gives: the tag asked for, and the repository's digest (Docker's RepoDigests). */
async function nameImage(store: Store, image: ResolvedImage, id: string): Promise<string[]> {
  const ref = image.reference;
  const names: string[] = [];
  const digest = ref.digest ?? image.indexDigest ?? image.manifestDigest;
  const byDigest = { registry: ref.registry, repository: ref.repository, digest };
  // A name that already names this image is left as it is (a warm pull writes nothing).
  if ((await readName(store.paths, byDigest))?.image !== id) await writeName(store.paths, byDigest, id);
  names.push(formatReference(byDigest));
  if (ref.digest === undefined && ref.tag !== undefined) {
    const tagged = { registry: ref.registry, repository: ref.repository, tag: ref.tag };
    if ((await readName(store.paths, tagged))?.image !== id) await writeName(store.paths, tagged, id);
    names.push(formatReference(tagged));
  }
  return names;
}

async function fetchLayers(store: Store, client: RegistryClient, image: ResolvedImage, reporter: PullReporter): Promise<{ downloaded: number; skipped: number; devices: string[] }> {
  const diffIDs = image.config.rootfs.diff_ids;
  const todo: Array<{ blob: Descriptor; diffID: string }> = [];
  const seen = new Set<string>();
  let skipped = 0;
  image.manifest.layers.forEach((blob, i) => {
    const diffID = diffIDs[i]!;
    if (seen.has(diffID)) return;
    seen.add(diffID);
    if (hasLayer(store.paths, diffID)) {
      addCompressedBlob(store.paths, diffID, { digest: blob.digest, size: blob.size, mediaType: blob.mediaType });
      reporter.layerSkipped(blob);
      skipped++;
    } else {
      todo.push({ blob, diffID });
    }
  });
  // Unpacking (tar, zlib, the helper) loads only when a layer is to be written: a warm pull never does.
  const writer = todo.length > 0 ? await import('../store/layer-write.js') : undefined;
  const chown = true;
  const canMknod = canCreateDevices();
  const abort = new AbortController();
  const devices: string[] = [];
  let failure: unknown;
  let next = 0;
  /** Layers another pull stored while this one waited for them. */
  let shared = 0;
  const worker = async () => {
    while (failure === undefined && next < todo.length) {
      const { blob, diffID } = todo[next++]!;
      let fetching: StoreLock | undefined;
      try {
        // Another pull may be fetching this layer now: wait for it and use what it stored.
        fetching = await lockLayerFetch(store.paths, diffID);
        if (hasLayer(store.paths, diffID)) {
          addCompressedBlob(store.paths, diffID, { digest: blob.digest, size: blob.size, mediaType: blob.mediaType });
          reporter.layerSkipped(blob);
          shared++;
          continue;
        }
        reporter.layerStarted(blob);
        const source = await client.openBlob(image, blob, { onBytes: (n) => reporter.layerBytes(blob, n) });
        const got = await writer!.storeLayer({ store, source, blob, diffID, chown, canMknod, signal: abort.signal });
        devices.push(...got.materialised.skippedDevices);
        for (const attr of got.materialised.ignoredRootAttributes) {
          reporter.warn(`layer ${blob.digest} sets ${attr} on its root directory, which skiff does not apply`);
        }
        reporter.layerDone(blob);
      } catch (err) {
        if (failure === undefined) {
          failure = err;
          abort.abort(err instanceof Error ? err : new Error(String(err)));
        }
      } finally {
        fetching?.release();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_LAYERS, todo.length) }, worker));
  if (failure !== undefined) throw failure;
  return { downloaded: todo.length - shared, skipped: skipped + shared, devices };
}

/** True when every layer the image lists is in the store. */
function allLayersStored(store: Store, image: ResolvedImage): boolean {
  return image.config.rootfs.diff_ids.every((diffID) => hasLayer(store.paths, diffID));
}

/** Skips every layer (all stored): records their compressed digests and reports them. */
function skipStoredLayers(store: Store, image: ResolvedImage, reporter: PullReporter): number {
  const diffIDs = image.config.rootfs.diff_ids;
  const seen = new Set<string>();
  image.manifest.layers.forEach((blob, i) => {
    const diffID = diffIDs[i]!;
    if (seen.has(diffID)) return;
    seen.add(diffID);
    addCompressedBlob(store.paths, diffID, { digest: blob.digest, size: blob.size, mediaType: blob.mediaType });
    reporter.layerSkipped(blob);
  });
  return seen.size;
}

/** True when `stored` says all that `record` says, apart from when it was pulled. */
function sameRecord(stored: ImageRecord | undefined, record: ImageRecord): boolean {
  if (stored === undefined) return false;
  const { pulled: _a, ...was } = stored;
  const { pulled: _b, ...now } = record;
  return JSON.stringify(was) === JSON.stringify(now);
}

/**
 * Stores the manifest, config (and index) blobs, the image record and the
 * names, once every layer is stored. What is stored already is not written
 * again: pulling a present image whose tag has not moved writes nothing.
 */
async function recordImage(store: Store, image: ResolvedImage): Promise<{ id: string; names: string[] }> {
  const id = image.manifest.config.digest;
  await writeBlob(store.paths, id, image.configBytes);
  await writeBlob(store.paths, image.manifestDigest, image.manifestBytes);
  if (image.indexDigest && image.indexBytes) await writeBlob(store.paths, image.indexDigest, image.indexBytes);
  const layers = image.config.rootfs.diff_ids;
  let size = 0;
  for (const diffID of new Set(layers)) {
    const meta = readLayerMeta(store.paths, diffID);
    if (!meta) throw new SkiffError(`layer ${diffID} vanished from the store during the pull`);
    size += meta.size;
  }
  const record: ImageRecord = {
    id,
    manifest: image.manifestDigest,
    manifestMediaType: image.manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
    layers,
    size,
    pulled: new Date().toISOString(),
  };
  if (image.indexDigest) record.index = image.indexDigest;
  if (image.config.created) record.created = image.config.created;
  // The same record already stored (the image pulled again): kept, with the time it first came.
  if (!sameRecord(readImageRecord(store.paths, id), record)) writeImageRecord(store.paths, record);
  return { id, names: await nameImage(store, image, id) };
}

/**
 * A pull whose layers are all stored, without the store lock: undefined when
 * an exclusive holder (rmi, prune) is at work now or ran meanwhile, or a
 * layer is missing (the caller takes the lock). What it wrote before it
 * found out is blobs, layer.json entries and names, which the locked pass
 * writes again.
 */
async function pullStoredWithoutLock(store: Store, image: ResolvedImage, reporter: PullReporter, canWriteLayers: boolean): Promise<PullResult | undefined> {
  const section = sharedWithoutLock(store.paths);
  if (section === undefined || !allLayersStored(store, image)) return undefined;
  // Junk of killed writers may belong to sub-IDs: only the namespace's root can remove it.
  if (canWriteLayers) cleanTmp(store.paths);
  // Reported only once the work stands: a pass done again must not show its blobs twice.
  const recorded = new RecordingReporter();
  try {
    const skipped = skipStoredLayers(store, image, recorded);
    recorded.configDone(image.manifest.config.digest);
    const { id, names } = await recordImage(store, image);
    if (!section.unchanged()) return undefined;
    recorded.replay(reporter);
    return { id, names, downloaded: 0, skipped };
  } catch (err) {
    // A layer removed under it: the locked pass tells.
    if (!section.unchanged()) return undefined;
    throw err;
  }
}

/**
 * Pulls `text` into the store. Resolves to undefined only with
 * `canWriteLayers: false`, when a layer must be fetched: nothing was
 * reported then but the start.
 */
export async function pullImage(text: string, opts: PullOptions & { canWriteLayers: false }): Promise<PullResult | undefined>;
export async function pullImage(text: string, opts: PullOptions): Promise<PullResult>;
export async function pullImage(text: string, opts: PullOptions): Promise<PullResult | undefined> {
  const reporter = opts.reporter;
  const canWriteLayers = opts.canWriteLayers !== false;
  const store = opts.store ?? openStoreForWriting();
  let shown = text;
  try {
    shown = formatReference(parseReference(text));
  } catch {
    // the client says what is wrong with it
  }
  let ok = false;
  /** Left to a pull in the user namespace: it reports the rest. */
  let handedOver = false;
  let lock: StoreLock | undefined;
  try {
    const client = await makeClient(opts, store);
    reporter.start(shown);
    const image = await client.resolve(text);
    checkImage(image);
    const id = image.manifest.config.digest;

    const warm = await pullStoredWithoutLock(store, image, reporter, canWriteLayers);
    if (warm) {
      ok = true;
      imageEvent('pull', id, shown);
      return warm;
    }
    if (!canWriteLayers && !allLayersStored(store, image)) {
      handedOver = true;
      return undefined;
    }
    lock = await lockStore(store.paths, 'shared', { onWait: () => reporter.waiting() });
    if (!canWriteLayers) {
      if (!allLayersStored(store, image)) {
        handedOver = true;
        return undefined;
      }
      const skipped = skipStoredLayers(store, image, reporter);
      reporter.configDone(id);
      const { names } = await recordImage(store, image);
      ok = true;
      imageEvent('pull', id, shown);
      return { id, names, downloaded: 0, skipped };
    }
    cleanTmp(store.paths);
    const { downloaded, skipped, devices } = await fetchLayers(store, client, image, reporter);
    if (devices.length > 0) {
      const some = devices.slice(0, 3).map((d) => `/${d}`).join(', ');
      reporter.warn(
        `skipped ${devices.length} device node${devices.length === 1 ? '' : 's'} of the image (${some}${devices.length > 3 ? ', ...' : ''}): ` +
          'a rootless user cannot create them; containers get their /dev from skiff',
      );
    }
    reporter.configDone(id);
    const { names } = await recordImage(store, image);
    ok = true;
    imageEvent('pull', id, shown);
    return { id, names, downloaded, skipped };
  } finally {
    if (!handedOver) reporter.finish(ok);
    lock?.release();
  }
}
