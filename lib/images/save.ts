// `skiff save`: images of the store as an archive or a directory that Docker,
// Podman, skopeo and umoci read:
//   docker-archive  a tar: manifest.json, <config>.json, <diffID>/layer.tar (Docker's classic `save`)
//   oci-archive     a tar of an OCI image layout: oci-layout, index.json, blobs/sha256/<digest>
//   oci-dir         the same layout as a directory
//   docker-dir      containers/image's "dir:" layout: manifest.json (Docker v2s2), version, <digest> files
// Layers go as their exact tars (so each blob's digest is its diffID and the
// config, hence the image id, is unchanged), or gzip-compressed with
// --compress for the directory formats. A file or directory is written under
// a temporary name beside its destination and renamed into place when whole:
// a failure or a kill leaves nothing that looks complete. Runs in the store's
// user namespace (the layers' files belong to sub-IDs).
import { createWriteStream, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { SkiffError, cannotWrite, errnoCode } from '../errors.js';
import { MEDIA_TYPE } from '../oci/image-spec.js';
import { familiarName, formatReference, type ImageReference } from '../oci/reference.js';
import { readBlob } from '../store/blobs.js';
import { digestHex, sha256 } from '../store/digest.js';
import type { ImageRecord } from '../store/images.js';
import { knownLayerBlobs, makeLayerBlob } from '../store/layer-blob.js';
import { layerTarReadable, openLayerTar } from '../store/layer-read.js';
import { readLayerMeta } from '../store/layers.js';
import { lockStore } from '../store/lock.js';
import { findImage } from '../store/lookup.js';
import { openStoreForWriting, type Store } from '../store/store.js';
import { TarWriter } from '../store/tar-writer.js';

export type SaveFormat = 'docker-archive' | 'oci-archive' | 'oci-dir' | 'docker-dir';
export const SAVE_FORMATS: SaveFormat[] = ['docker-archive', 'oci-archive', 'oci-dir', 'docker-dir'];

export interface SaveOptions {
  format: SaveFormat;
  /** A file (archives) or directory (dir formats); undefined: stdout (archives only). */
  output?: string;
  /** --compress: gzip the layers of a directory format. */
  compress?: boolean;
  store?: Store;
}

interface SavedImage {
  record: ImageRecord;
  config: Buffer;
  /** The names the archive gives it. */
  refs: ImageReference[];
}

const DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';

/** What one layer becomes in the output: its bytes (a stream opened when written) and descriptor. */
interface LayerOut {
  diffID: string;
  digest: string;
  size: number;
  mediaType: string;
  /** Opens the bytes; `done` removes a temp file afterwards. */
  open(): Promise<{ stream: Readable; done(): void }>;
}

async function layerOut(store: Store, diffID: string, compress: boolean, oci: boolean): Promise<LayerOut> {
  const meta = readLayerMeta(store.paths, diffID);
  if (!meta) throw new SkiffError(`layer ${diffID} is missing from the store: pull or load the image again`);
  if (!compress) {
    return {
      diffID,
      digest: diffID,
      size: meta.tarSize,
      mediaType: oci ? MEDIA_TYPE.ociLayer : DOCKER_LAYER_TAR,
      open: async () => ({ stream: await openLayerTar(store.paths, diffID), done: () => {} }),
    };
  }
  const mediaType = oci ? MEDIA_TYPE.ociLayerGzip : MEDIA_TYPE.dockerLayerGzip;
  const kept = knownLayerBlobs(store, diffID, ['gzip']).find((b) => b.file !== undefined);
  if (kept) return { diffID, digest: kept.digest, size: kept.size, mediaType, open: async () => ({ stream: createReadStream(kept.file!), done: () => {} }) };
  const made = await makeLayerBlob(store, diffID, 'gzip');
  return { diffID, digest: made.blob.digest, size: made.blob.size, mediaType, open: async () => ({ stream: createReadStream(made.file), done: () => {} }) };
}

/** Where the bytes go: a file or directory renamed into place when whole, or stdout. */
interface Destination {
  tar?: TarWriter;
  dir?: string;
  commit(): Promise<void>;
  abort(): void;
}

function tempBeside(target: string): string {
  return path.join(path.dirname(path.resolve(target)), `.${path.basename(target)}.skiff-tmp-${process.pid}`);
}

function onSignalsRemove(remove: () => void): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handler = (s: NodeJS.Signals) => {
    remove();
    process.exit(128 + (osConstants.signals[s] ?? 0));
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}

function archiveDestination(output: string | undefined): Destination {
  if (output === undefined) {
    if (process.stdout.isTTY) throw new SkiffError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const out: Writable = process.stdout;
    return {
      tar: new TarWriter(out),
      commit: () => Promise.resolve(),
      abort: () => {},
    };
  }
  const tmp = tempBeside(output);
  // Opened here, at once: a missing or unwritable directory is one line before any work
  // (an open failing later, inside the stream, surfaced as an internal error).
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (err) {
    throw cannotWrite(output, err);
  }
  const file: WriteStream = createWriteStream(tmp, { fd });
  let failure: Error | undefined;
  file.on('error', (err) => {
    failure ??= err;
  });
  const failed = (err: Error) => new SkiffError(`cannot write ${output}: ${errnoCode(err) ?? err.message}`);
  const remove = () => rmSync(tmp, { force: true });
  const unhook = onSignalsRemove(remove);
  return {
    tar: new TarWriter(file),
    async commit() {
      if (failure) throw failed(failure);
      await new Promise<void>((resolve, reject) => {
        file.once('error', (err) => reject(failed(err)));
        file.end(() => resolve());
      });
      if (failure) throw failed(failure);
      renameSync(tmp, output);
      unhook();
    },
    abort() {
      file.destroy();
      remove();
      unhook();
    },
  };
}

function dirDestination(output: string | undefined): Destination {
  if (output === undefined) throw new SkiffError('the directory formats need -o DIRECTORY');
  if (existsSync(output) && (!statSync(output).isDirectory() || readdirSync(output).length > 0)) {
    throw new SkiffError(`${output} exists and is not an empty directory: choose a new one`);
  }
  const tmp = tempBeside(output);
  try {
    mkdirSync(tmp, { mode: 0o755 });
  } catch (err) {
    throw new SkiffError(`cannot create ${output}: ${errnoCode(err) ?? String(err)}`);
  }
  const remove = () => rmSync(tmp, { recursive: true, force: true });
  const unhook = onSignalsRemove(remove);
  return {
    dir: tmp,
    async commit() {
      if (existsSync(output)) rmdirSync(output);
      renameSync(tmp, output);
      unhook();
    },
    abort() {
      remove();
      unhook();
    },
  };
}

/** The images asked for, each with the name it was asked by (none for an id). */
async function resolveImages(store: Store, texts: string[]): Promise<SavedImage[]> {
  const byId = new Map<string, SavedImage>();
  for (const text of texts) {
    const found = await findImage(store, text);
    const config = readBlob(store.paths, found.record.id);
    if (!config) throw new SkiffError(`the config of image ${text} is missing from the store: pull it again`);
    const entry = byId.get(found.record.id) ?? { record: found.record, config, refs: [] };
    if (found.name && found.name.ref.digest === undefined && !entry.refs.some((r) => formatReference(r) === found.name!.name)) entry.refs.push(found.name.ref);
    byId.set(found.record.id, entry);
  }
  return [...byId.values()];
}

async function writeDockerArchive(store: Store, images: SavedImage[], tar: TarWriter): Promise<void> {
  const written = new Set<string>();
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const img of images) {
    const layers: string[] = [];
    for (const diffID of img.record.layers) {
      const hex = digestHex(diffID);
      layers.push(`${hex}/layer.tar`);
      if (written.has(hex)) continue;
      written.add(hex);
      const out = await layerOut(store, diffID, false, false);
      await tar.directory(hex);
      await tar.file(`${hex}/VERSION`, Buffer.from('1.0'));
      await tar.file(`${hex}/json`, Buffer.from(JSON.stringify({ id: hex })));
      const { stream, done } = await out.open();
      try {
        await tar.stream(`${hex}/layer.tar`, out.size, stream);
      } finally {
        done();
      }
    }
    const configName = `${digestHex(img.record.id)}.json`;
    if (!written.has(configName)) {
      written.add(configName);
      await tar.file(configName, img.config);
    }
    const tags = img.refs.map((r) => familiarName(r));
    manifest.push({ Config: configName, RepoTags: tags, Layers: layers });
    const top = layers.length > 0 ? layers[layers.length - 1]!.split('/')[0]! : '';
    for (const r of img.refs) {
      const repo = familiarName({ registry: r.registry, repository: r.repository });
      (repositories[repo] ??= {})[r.tag ?? 'latest'] = top;
    }
  }
  await tar.file('manifest.json', Buffer.from(JSON.stringify(manifest)));
  if (Object.keys(repositories).length > 0) await tar.file('repositories', Buffer.from(JSON.stringify(repositories)));
  await tar.finish();
}

/** Blob writers for the OCI layout: into a tar, or files in a directory. */
interface BlobSink {
  has(digest: string): boolean;
  buffer(name: string, data: Buffer): Promise<void>;
  stream(name: string, size: number, open: LayerOut['open']): Promise<void>;
}

function tarSink(tar: TarWriter): BlobSink {
  const names = new Set<string>();
  return {
    has: (name) => names.has(name),
    async buffer(name, data) {
      names.add(name);
      await tar.file(name, data);
    },
    async stream(name, size, open) {
      names.add(name);
      const { stream, done } = await open();
      try {
        await tar.stream(name, size, stream);
      } finally {
        done();
      }
    },
  };
}

function dirSink(dir: string): BlobSink {
  return {
    has: (name) => existsSync(path.join(dir, name)),
    async buffer(name, data) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), data, { mode: 0o644 });
    },
    async stream(name, _size, open) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      const { stream, done } = await open();
      try {
        await pipeline(stream, createWriteStream(path.join(dir, name), { flags: 'wx', mode: 0o644 }));
      } finally {
        done();
      }
    },
  };
}

async function writeOciLayout(store: Store, images: SavedImage[], sink: BlobSink, compress: boolean): Promise<Buffer> {
  const blob = (digest: string) => `blobs/sha256/${digestHex(digest)}`;
  const manifests: object[] = [];
  for (const img of images) {
    const layers = [];
    for (const diffID of img.record.layers) {
      const out = await layerOut(store, diffID, compress, true);
      if (!sink.has(blob(out.digest))) await sink.stream(blob(out.digest), out.size, out.open);
      layers.push({ mediaType: out.mediaType, digest: out.digest, size: out.size });
    }
    if (!sink.has(blob(img.record.id))) await sink.buffer(blob(img.record.id), img.config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociManifest,
        config: { mediaType: MEDIA_TYPE.ociConfig, digest: img.record.id, size: img.config.length },
        layers,
      }),
    );
    const digest = await sha256(manifest);
    if (!sink.has(blob(digest))) await sink.buffer(blob(digest), manifest);
    const descriptor = { mediaType: MEDIA_TYPE.ociManifest, digest, size: manifest.length };
    if (img.refs.length === 0) manifests.push(descriptor);
    for (const r of img.refs) manifests.push({ ...descriptor, annotations: { 'org.opencontainers.image.ref.name': formatReference(r) } });
  }
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests }));
}

async function writeDockerDir(store: Store, img: SavedImage, dir: string, compress: boolean): Promise<void> {
  const sink = dirSink(dir);
  const layers = [];
  for (const diffID of img.record.layers) {
    const out = await layerOut(store, diffID, compress, false);
    const name = digestHex(out.digest);
    if (!sink.has(name)) await sink.stream(name, out.size, out.open);
    layers.push({ mediaType: out.mediaType, digest: out.digest, size: out.size });
  }
  await sink.buffer(digestHex(img.record.id), img.config);
  const manifest = { schemaVersion: 2, mediaType: MEDIA_TYPE.dockerManifest, config: { mediaType: MEDIA_TYPE.dockerConfig, digest: img.record.id, size: img.config.length }, layers };
  await sink.buffer('manifest.json', Buffer.from(JSON.stringify(manifest)));
  await sink.buffer('version', Buffer.from('Directory Transport Version: 1.1\n'));
}

/**
 * Whether this process can save these images without the store's user
 * namespace (rootless): every file of their layers readable by the user, and
 * no layer to compress (that writes the layer's record). Then save runs as
 * the user and starts one Node, not two; else the caller re-executes.
 */
export async function canSaveAsUser(texts: string[], opts: Pick<SaveOptions, 'compress' | 'store'>): Promise<boolean> {
  const store = opts.store ?? openStoreForWriting();
  const images = await resolveImages(store, texts);
  for (const diffID of new Set(images.flatMap((i) => i.record.layers))) {
    if (opts.compress && !knownLayerBlobs(store, diffID, ['gzip']).some((b) => b.file !== undefined)) return false;
    if (!layerTarReadable(store.paths, diffID)) return false;
  }
  return true;
}

export async function saveImages(texts: string[], opts: SaveOptions): Promise<void> {
  const store = opts.store ?? openStoreForWriting();
  const dirFormat = opts.format === 'oci-dir' || opts.format === 'docker-dir';
  if (opts.compress && !dirFormat) throw new SkiffError('--compress is for the directory formats (oci-dir, docker-dir); compress an archive with gzip or zstd');
  if (opts.format === 'docker-dir' && texts.length > 1) throw new SkiffError('docker-dir holds one image: save one, or use docker-archive or oci-archive');
  const lock = await lockStore(store.paths, 'shared');
  let dest: Destination | undefined;
  try {
    const images = await resolveImages(store, texts);
    dest = dirFormat ? dirDestination(opts.output) : archiveDestination(opts.output);
    if (opts.format === 'docker-archive') {
      await writeDockerArchive(store, images, dest.tar!);
    } else if (opts.format === 'oci-archive') {
      const sink = tarSink(dest.tar!);
      await dest.tar!.file('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
      await dest.tar!.directory('blobs');
      await dest.tar!.directory('blobs/sha256');
      const index = await writeOciLayout(store, images, sink, false);
      await dest.tar!.file('index.json', index);
      await dest.tar!.finish();
    } else if (opts.format === 'oci-dir') {
      const sink = dirSink(dest.dir!);
      await sink.buffer('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
      await sink.buffer('index.json', await writeOciLayout(store, images, sink, opts.compress === true));
    } else {
      await writeDockerDir(store, images[0]!, dest.dir!, opts.compress === true);
    }
    await dest.commit();
    dest = undefined;
  } finally {
    dest?.abort();
    lock.release();
  }
}
