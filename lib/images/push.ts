// `skiff push IMAGE [DEST]`: an image of the store to a registry. For each
// layer, the forms the store knows (layer.json: what a registry served, what
// skiff compressed before) are asked for at the destination first (HEAD),
// then mounted from a repository of the same registry that had them; only a
// layer the registry cannot get so is sent: the blob the store keeps (as a
// pull or load got it, or as skiff compressed it before: same digest, no
// work), else its exact tar compressed once and kept (store/layer-blob.ts). Then the config
// and the manifest: the stored one when every layer went as it describes (a
// pushed copy keeps its digest, as skopeo copy does), else a new one in the
// format asked for. Runs in the store's user namespace (a layer's files
// belong to sub-IDs), holding the store lock shared.
import { writeFileSync, renameSync, rmSync } from 'node:fs';
import { imageEvent } from '../events/log.js';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { MEDIA_TYPE, type Descriptor, type ImageManifest } from '../oci/image-spec.js';
import { formatReference, parseReference, type ImageReference } from '../oci/reference.js';
import { PushClient, type PushClientOptions } from '../registry/push.js';
import { cleanTmp } from '../store/atomic.js';
import { blobPath, readBlob } from '../store/blobs.js';
import type { LayerCompression } from '../store/compress.js';
import { shortDigest } from '../store/digest.js';
import { readImageRecord, type ImageRecord } from '../store/images.js';
import { knownLayerBlobs, makeLayerBlob } from '../store/layer-blob.js';
import { hasLayerTar } from '../store/layer-read.js';
import { hasLayer } from '../store/layers.js';
import { lockStore } from '../store/lock.js';
import { findImage } from '../store/lookup.js';
import { listNames, writeName } from '../store/names.js';
import { openStoreForWriting, type Store } from '../store/store.js';
import type { PullReporter } from './pull-progress.js';

export type ManifestFormat = 'oci' | 'v2s2';

export interface PushOptions extends PushClientOptions {
  /** Default: the stored manifest's format (a new image's: OCI). */
  format?: ManifestFormat;
  compression?: LayerCompression;
  /**
   * Send every layer in `compression` (default: true when it is given): a
   * kept blob of another compression the format allows is not reused.
   */
  forceCompression?: boolean;
  reporter: PullReporter;
  store?: Store;
  /**
   * False: a layer that must be compressed from its files throws
   * NeedsLayerFiles instead (rootless, those files belong to sub-IDs: the
   * caller re-executes in the store's user namespace only then, so a push
   * of blobs the registry or the store already has starts one Node, not two).
   */
  readLayerFiles?: boolean;
}

/** A layer must be read from its files, which this process may not be able to. */
export class NeedsLayerFiles extends Error {}

export interface PushResult {
  reference: ImageReference;
  digest: string;
  /** Bytes of the manifest pushed. */
  size: number;
}

/** Blobs sent at once: one compressing while another uploads. */
const PARALLEL_BLOBS = 3;

const MANIFEST_TYPE: Record<ManifestFormat, string> = { oci: MEDIA_TYPE.ociManifest, v2s2: MEDIA_TYPE.dockerManifest };
const CONFIG_TYPE: Record<ManifestFormat, string> = { oci: MEDIA_TYPE.ociConfig, v2s2: MEDIA_TYPE.dockerConfig };

function layerType(format: ManifestFormat, compression: LayerCompression): string {
  if (format === 'oci') return compression === 'gzip' ? MEDIA_TYPE.ociLayerGzip : MEDIA_TYPE.ociLayerZstd;
  if (compression === 'zstd') throw new SkiffError('zstd-compressed layers need the OCI format: use --format oci with --compression-format zstd');
  return MEDIA_TYPE.dockerLayerGzip;
}

/** DEST as the user wrote it: "[docker://]registry/repo[:tag]". */
export function parseDestination(text: string): ImageReference {
  const transport = /^(oci|oci-archive|docker-archive|dir|docker-daemon|containers-storage):/.exec(text)?.[1];
  if (transport !== undefined) {
    throw new SkiffError(`push to "${transport}:" is not supported: push sends to a registry; write archives and directories with 'skiff save'`);
  }
  const ref = parseReference(text.replace(/^docker:\/\//, ''));
  if (ref.digest !== undefined) throw new SkiffError(`cannot push to a digest reference (${text}): give a tag`);
  return ref;
}

function formatOf(record: ImageRecord): ManifestFormat {
  return record.manifestMediaType === MEDIA_TYPE.dockerManifest ? 'v2s2' : 'oci';
}

/** Repositories of `registry` whose images hold this layer: where a mount may come from. */
function mountSources(store: Store, registry: string, diffID: string): string[] {
  const repos = new Set<string>();
  for (const n of listNames(store.paths)) {
    if (n.ref.registry !== registry) continue;
    if (readImageRecord(store.paths, n.image)?.layers.includes(diffID)) repos.add(n.ref.repository);
  }
  return [...repos];
}

interface LayerPlan {
  diffID: string;
  /** What went to the registry for it. */
  blob: Descriptor;
}

/**
 * The compressions a layer may go as, the preferred first: the one asked for
 * only, when forced (Podman's --force-compression, true when
 * --compression-format is given); else any the manifest format allows, so
 * that a blob the store keeps (as pulled, loaded or compressed before) goes
 * as it is.
 */
export function layerCompressions(format: ManifestFormat, compression: LayerCompression, force: boolean): LayerCompression[] {
  if (force) return [compression];
  const allowed: LayerCompression[] = format === 'oci' ? ['gzip', 'zstd'] : ['gzip'];
  return [compression, ...allowed.filter((c) => c !== compression)];
}

async function pushLayer(
  store: Store,
  client: PushClient,
  target: ImageReference,
  diffID: string,
  compressions: LayerCompression[],
  format: ManifestFormat,
  reporter: PullReporter,
  readLayerFiles: boolean,
): Promise<LayerPlan> {
  if (!hasLayer(store.paths, diffID)) throw new SkiffError(`layer ${diffID} of the image is missing from the store: pull or load the image again`);
  const known = knownLayerBlobs(store, diffID, compressions);
  const descriptor = (b: { digest: string; size: number }, c: LayerCompression): Descriptor => ({ mediaType: layerType(format, c), digest: b.digest, size: b.size });
  // A form the registry has: nothing sent.
  for (const k of known) {
    if (!(await client.hasBlob(k.digest))) continue;
    const d = descriptor(k, k.compression);
    reporter.layerSkipped(d);
    return { diffID, blob: d };
  }
  // A form another repository of the registry has: mounted, nothing sent.
  const sources = known.length > 0 ? mountSources(store, target.registry, diffID) : [];
  for (const k of sources.length > 0 ? known : []) {
    if (!(await client.mountBlob(k.digest, sources))) continue;
    const d = descriptor(k, k.compression);
    reporter.layerSkipped(d);
    return { diffID, blob: d };
  }
  // A form the store keeps: that very blob is sent.
  const kept = known.find((k) => k.file !== undefined);
  if (kept) return upload(client, diffID, descriptor(kept, kept.compression), kept.file!, reporter);
  if (!readLayerFiles) throw new NeedsLayerFiles(diffID);
  if (!hasLayerTar(store.paths, diffID)) {
    throw new SkiffError(`layer ${diffID} was stored by an older skiff, which kept no copy of its tar, and the registry has none of its known blobs: remove the image and pull it again`);
  }
  // None: compressed once, kept in blobs/ for the next push.
  const made = await makeLayerBlob(store, diffID, compressions[0]!);
  return upload(client, diffID, descriptor(made.blob, compressions[0]!), made.file, reporter);
}

async function upload(client: PushClient, diffID: string, d: Descriptor, file: string, reporter: PullReporter): Promise<LayerPlan> {
  reporter.layerStarted(d);
  const outcome = await client.uploadBlob({ descriptor: d, file }, (n) => reporter.layerBytes(d, n));
  if (outcome === 'uploaded') reporter.layerDone(d);
  else reporter.layerSkipped(d);
  return { diffID, blob: d };
}

/** The stored manifest, when it says exactly what was pushed (then its bytes, and digest, are kept). */
function storedManifestFits(store: Store, record: ImageRecord, format: ManifestFormat, layers: Descriptor[]): Buffer | undefined {
  if (formatOf(record) !== format) return undefined;
  const bytes = readBlob(store.paths, record.manifest);
  if (!bytes) return undefined;
  let m: ImageManifest;
  try {
    m = JSON.parse(bytes.toString('utf8')) as ImageManifest;
  } catch {
    return undefined;
  }
  if (m.config?.digest !== record.id || m.config.mediaType !== CONFIG_TYPE[format] || m.layers?.length !== layers.length) return undefined;
  const same = m.layers.every((l, i) => l.digest === layers[i]!.digest && l.size === layers[i]!.size && l.mediaType === layers[i]!.mediaType);
  return same ? bytes : undefined;
}

export async function pushImage(sourceText: string, destText: string | undefined, opts: PushOptions): Promise<PushResult> {
  const store = opts.store ?? openStoreForWriting();
  const reporter = opts.reporter;
  const lock = await lockStore(store.paths, 'shared', { onWait: () => reporter.waiting() });
  let ok = false;
  let client: PushClient | undefined;
  try {
    // Outside the user namespace a killed pull's leftovers may be sub-IDs' to remove: left for later.
    if (opts.readLayerFiles !== false) cleanTmp(store.paths);
    const found = await findImage(store, sourceText);
    const record = found.record;
    let target: ImageReference;
    if (destText !== undefined) target = parseDestination(destText);
    else if (found.name && found.name.ref.digest === undefined) target = found.name.ref;
    else throw new SkiffError(`an image id or digest names no repository to push to: give a destination (skiff push ${sourceText} REGISTRY/REPOSITORY[:TAG])`);
    const tag = target.tag ?? 'latest';
    const format = opts.format ?? formatOf(record);
    const compression = opts.compression ?? 'gzip';
    layerType(format, compression); // refuses zstd with v2s2 before any work
    const compressions = layerCompressions(format, compression, opts.forceCompression ?? opts.compression !== undefined);
    const configBytes = readBlob(store.paths, record.id);
    if (!configBytes) throw new SkiffError(`the config of image ${shortDigest(record.id)} is missing from the store: pull it again`);

    client = new PushClient(target, opts);
    reporter.start(formatReference({ ...target, tag }));
    const c = client;
    const unique = [...new Set(record.layers)];
    const plans = new Map<string, LayerPlan>();
    let failure: unknown;
    let next = 0;
    const worker = async () => {
      while (failure === undefined && next < unique.length) {
        const diffID = unique[next++]!;
        try {
          plans.set(diffID, await pushLayer(store, c, target, diffID, compressions, format, reporter, opts.readLayerFiles !== false));
        } catch (err) {
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_BLOBS, unique.length) }, worker));
    if (failure !== undefined) throw failure;
    const layers = record.layers.map((d) => plans.get(d)!.blob);

    const configDesc: Descriptor = { mediaType: CONFIG_TYPE[format], digest: record.id, size: configBytes.length };
    await client.pushBlob({ descriptor: configDesc, file: blobPath(store.paths, record.id) });
    reporter.configDone(record.id);

    let manifestBytes = storedManifestFits(store, record, format, layers);
    if (!manifestBytes) {
      const manifest = { schemaVersion: 2, mediaType: MANIFEST_TYPE[format], config: configDesc, layers };
      manifestBytes = Buffer.from(JSON.stringify(manifest));
    }
    const digest = await client.putManifest(tag, manifestBytes, MANIFEST_TYPE[format]);
    // The pushed copy is one of the image's names now (Docker's RepoDigests).
    await writeName(store.paths, { registry: target.registry, repository: target.repository, digest }, record.id);
    ok = true;
    imageEvent('push', record.id, formatReference({ ...target, tag }));
    return { reference: { ...target, tag }, digest, size: manifestBytes.length };
  } finally {
    client?.close();
    reporter.finish(ok);
    lock.release();
  }
}

/** --digestfile: the digest, written whole (temp file, then rename). */
export function writeDigestFile(file: string, digest: string): void {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.tmp.${process.pid}`);
  try {
    writeFileSync(tmp, digest, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new SkiffError(`cannot write the digest file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export function pushedLine(result: PushResult): string {
  return `${result.reference.tag}: digest: ${result.digest} size: ${result.size}`;
}

