// One layer into layers/<diffID>, streamed once, from either end:
//
// storeLayer (pull, load of a compressed layer): the blob (whose digest and
// size a pull's registry client checks as it flows) → decompress → sha256 of
// the tar (the diffID) → unpack into a new directory under tmp/ → whiteouts,
// devices and xattrs → layer.json → rename into place.
//
// storeLayerFromTar (commit, build, import, load): an uncompressed tar →
// sha256 (the diffID), and at once → compress → sha256 (the blob's digest) →
// a temp file renamed to blobs/<digest>, and → unpack as above. The store
// keeps that blob, so a push sends it without compressing again.
//
// A pull and a load also keep a compressed layer's blob as it came
// (keepSource: its bytes written beside the unpacking, renamed to
// blobs/<digest> with the layer), so a push sends that very blob: same
// digest, nothing compressed again.
//
// Either way the unpacker records the tar-split (tar-split.ts), so the exact
// tar can be given back (layer-read.ts). A wrong digest, size or diffID, or
// any failure, removes the temp directory and file: nothing is named. The
// store never talks to a registry: the caller (lib/images) opens the stream.
import { close, createWriteStream, mkdirSync, openSync, renameSync, rmSync, write, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { SkiffError } from '../errors.js';
import { MEDIA_TYPE, type Descriptor } from '../oci/image-spec.js';
import { makeTmpDir, tmpPath } from './atomic.js';
import { blobPath } from './blobs.js';
import { createCompressor, type LayerCompression } from './compress.js';
import { LayerDecoder, sniff, type Compression } from './decompress.js';
import { addCompressedBlob, commitLayer, LAYER_DIFF, writeLayerMetaInto, type CompressedBlob, type LayerMeta } from './layers.js';
import { materialiseLayer, type MaterialiseResult } from './materialise.js';
import { storageDriver } from './driver.js';
import type { Store } from './store.js';
import { TAR_SPLIT_FILE, TarSplitRecorder } from './tar-split.js';
import { unpackLayer, type UnpackStats } from './unpack.js';

export interface StoreLayerArgs {
  store: Store;
  /** The compressed blob's bytes; destroyed when the layer cannot be stored. */
  source: Readable;
  blob: Descriptor;
  /** The diffID the image config gives this layer. */
  diffID: string;
  chown: boolean;
  canMknod: boolean;
  /** Aborts the transfer (another layer failed). */
  signal?: AbortSignal;
}

export interface StoredLayer {
  meta: LayerMeta;
  /** False when another process stored the same layer first (ours was discarded). */
  committed: boolean;
  materialised: MaterialiseResult;
}

/** An unpack error with the layer it happened in. */
function naming(what: string, err: unknown): unknown {
  if (!(err instanceof Error) || err.name !== 'SkiffError' || err.message.includes(what)) return err;
  return new SkiffError(`layer ${what}: ${err.message}`, (err as SkiffError).exitCode);
}

/** A layer unpacked under tmp/, not yet named: commitStagedLayer or discardStagedLayer it. */
export interface StagedLayer {
  dir: string;
  /** sha256 of the uncompressed tar. */
  diffID: string;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
  /** How the source was compressed (read from its first bytes). */
  compression: Compression;
  /** With hashSource: sha256 and length of the bytes as they came. */
  sourceDigest?: string;
  sourceSize?: number;
  /** With keepSource, a compressed source: its bytes, in a file under tmp/ (commitStagedLayer names it). */
  sourceFile?: string;
  stats: UnpackStats;
  record: TarSplitRecorder;
}

export interface StageArgs {
  store: Store;
  /** The layer's bytes, compressed or not; destroyed when the layer cannot be staged. */
  source: Readable;
  /** Names the layer in errors (a blob digest, "layer 2 of x.tar"). */
  what: string;
  chown: boolean;
  /** Also hash the source's bytes (load checks an archive's blob digests so). */
  hashSource?: boolean;
  /** Keep a gzip or zstd source's bytes as they came (sourceFile), for the blob store. */
  keepSource?: boolean;
  /** Aborts (another layer failed). */
  signal?: AbortSignal;
}

/** Streams a layer once: decompress → sha256 (the diffID) → unpack into a new directory under tmp/, with its tar-split. */
export async function stageLayer(a: StageArgs): Promise<StagedLayer> {
  const p = a.store.paths;
  const source = a.source;
  let dir;
  try {
    dir = makeTmpDir(p, 'layer');
  } catch (err) {
    source.destroy();
    throw err;
  }
  try {
    const diff = path.join(dir, LAYER_DIFF);
    mkdirSync(diff, 0o755);
    const decoder = new LayerDecoder(a.what);
    const sourceMeter = a.hashSource ? new Meter(await hashFactory()) : undefined;
    const keeper = a.keepSource ? new SourceKeeper(path.join(dir, KEPT_SOURCE)) : undefined;
    // The error that explains a failure is the stream's own (wrong digest or
    // size, a broken download, bad compression) when there is one; otherwise
    // the unpacker's. Errors we cause by stopping the streams are not causes.
    let stopped: Error | undefined;
    let streamError: unknown;
    const noteStreamError = (err: unknown) => {
      if (stopped === undefined) streamError ??= err;
    };
    source.on('error', noteStreamError);
    decoder.on('error', noteStreamError);
    const stop = (err: Error) => {
      stopped ??= err;
      decoder.destroy(stopped);
      source.destroy(stopped);
    };
    const onAbort = () => stop(a.signal?.reason instanceof Error ? a.signal.reason : new SkiffError('aborted'));
    if (a.signal?.aborted) onAbort();
    a.signal?.addEventListener('abort', onAbort, { once: true });
    const piped = pipeline([source, ...(sourceMeter ? [sourceMeter] : []), ...(keeper ? [keeper] : []), decoder]);
    const record = new TarSplitRecorder();
    const unpacked = unpackLayer(decoder, diff, { chown: a.chown, record });
    // An unpack that refuses the tar stops reading: end the transfer too.
    unpacked.catch((err: unknown) => stop(err instanceof Error ? err : new Error(String(err))));
    const [pr, ur] = await Promise.allSettled([piped, unpacked]);
    a.signal?.removeEventListener('abort', onAbort);
    if (streamError !== undefined) throw streamError;
    if (ur.status === 'rejected') throw naming(a.what, ur.reason);
    if (pr.status === 'rejected') throw pr.reason;
    const staged: StagedLayer = {
      dir,
      diffID: decoder.diffID(),
      tarSize: decoder.size(),
      compression: decoder.compression() ?? 'none',
      stats: ur.value,
      record,
    };
    if (sourceMeter) {
      staged.sourceDigest = sourceMeter.digest();
      staged.sourceSize = sourceMeter.bytes;
    }
    if (keeper?.kept) staged.sourceFile = path.join(dir, KEPT_SOURCE);
    return staged;
  } catch (err) {
    source.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** How the store's layers record deletions (lib/store/materialise.ts): the tar's way in a vfs store. */
function whiteoutsOf(store: Store): 'overlay' | 'tar' {
  return storageDriver(store.paths.root) === 'vfs' ? 'tar' : 'overlay';
}

export function discardStagedLayer(staged: StagedLayer): void {
  rmSync(staged.dir, { recursive: true, force: true });
}

/**
 * Names a staged layer layers/<diffID>: whiteouts, devices and xattrs made,
 * tar-split and layer.json written, renamed into place. When another process
 * stored the same layer first, ours is discarded and `compressed` added to
 * its record. `keep`: the compressed form the staged source file is (its
 * digest checked as it came: by the registry client, or by hashSource),
 * renamed to blobs/ first, so a layer whose record names a kept blob finds it.
 */
export async function commitStagedLayer(
  store: Store,
  staged: StagedLayer,
  opts: { chown: boolean; canMknod: boolean; compressed: CompressedBlob[]; keep?: CompressedBlob },
): Promise<StoredLayer> {
  const p = store.paths;
  try {
    if (opts.keep && staged.sourceFile !== undefined) {
      if (staged.sourceDigest !== undefined && staged.sourceDigest !== opts.keep.digest) {
        throw new Error(`internal: the kept source of layer ${staged.diffID} is ${staged.sourceDigest}, not ${opts.keep.digest}`);
      }
      renameSync(staged.sourceFile, blobPath(p, opts.keep.digest));
    } else if (staged.sourceFile !== undefined) {
      rmSync(staged.sourceFile, { force: true }); // no digest to name it by
    }
    const materialised = await materialiseLayer(path.join(staged.dir, LAYER_DIFF), staged.stats, { canMknod: opts.canMknod, chown: opts.chown, whiteouts: whiteoutsOf(store) });
    const meta: LayerMeta = {
      diffID: staged.diffID,
      size: staged.stats.bytes,
      tarSize: staged.tarSize,
      entries: staged.stats.entries,
      compressed: opts.compressed,
      created: new Date().toISOString(),
      rootMode: staged.stats.rootMode,
    };
    await writeTarSplit(staged.dir, staged.record);
    writeLayerMetaInto(staged.dir, meta);
    const committed = commitLayer(p, staged.dir, staged.diffID);
    if (!committed) {
      discardStagedLayer(staged);
      for (const c of opts.compressed) addCompressedBlob(p, staged.diffID, c);
    }
    return { meta, committed, materialised };
  } catch (err) {
    discardStagedLayer(staged);
    throw err;
  }
}

/**
 * Stores the layer `source` carries as `diffID`, verified, or nothing. A
 * gzip or zstd blob is kept in blobs/ too (the caller's stream checks its
 * digest and size as it flows: a pull's registry client does).
 */
export async function storeLayer(a: StoreLayerArgs): Promise<StoredLayer> {
  const staged = await stageLayer({ store: a.store, source: a.source, what: a.blob.digest, chown: a.chown, keepSource: true, ...(a.signal ? { signal: a.signal } : {}) });
  if (staged.diffID !== a.diffID) {
    discardStagedLayer(staged);
    throw new SkiffError(
      `layer ${a.blob.digest} does not match the image: its uncompressed content is ${staged.diffID}, but the image config says ${a.diffID}`,
    );
  }
  const blob: CompressedBlob = { digest: a.blob.digest, size: a.blob.size, mediaType: a.blob.mediaType };
  return commitStagedLayer(a.store, staged, { chown: a.chown, canMknod: a.canMknod, compressed: [blob], keep: blob });
}

async function hashFactory(): Promise<typeof import('node:crypto').createHash> {
  return (await import('node:crypto')).createHash;
}

/** The layer's tar-split beside diff/ (gzip level 1: its headers shrink ~10x in a few ms). */
async function writeTarSplit(dir: string, record: TarSplitRecorder): Promise<void> {
  const gz = await promisify(gzip)(record.finish(), { level: 1 });
  writeFileSync(path.join(dir, TAR_SPLIT_FILE), gz, { mode: 0o644 });
}

/** The OCI media type of a layer blob skiff compressed. */
export function layerMediaType(compression: LayerCompression): string {
  return compression === 'gzip' ? MEDIA_TYPE.ociLayerGzip : MEDIA_TYPE.ociLayerZstd;
}

export interface StoreTarArgs {
  store: Store;
  /** An uncompressed layer tar; destroyed when the layer cannot be stored. */
  source: Readable;
  /** How the blob kept beside the layer is compressed. */
  compression: LayerCompression;
  /** Give files the owners the tar names (inside the store's user namespace). */
  chown: boolean;
  canMknod: boolean;
  /** When known, the diffID the tar must hash to (load: the archive's config says it). */
  diffID?: string;
  /** Names the layer in errors ("layer 2 of app.tar"). */
  what?: string;
}

export interface StoredTarLayer extends StoredLayer {
  /** The compressed blob kept in blobs/. */
  blob: CompressedBlob;
  /** The tar held no entry at all (a step that changed nothing: build's empty_layer). */
  empty: boolean;
}

/** Counts and hashes the bytes that pass. */
class Meter extends Transform {
  bytes = 0;
  private readonly hash;
  constructor(createHash: typeof import('node:crypto').createHash) {
    super({ highWaterMark: 1 << 20 });
    this.hash = createHash('sha256');
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/** The name of a kept source inside a staged layer's directory (renamed out before the directory is named). */
const KEPT_SOURCE = 'source.blob';

/**
 * Passes bytes on, and writes them to `file` when the first ones say gzip
 * or zstd (an uncompressed tar is the layer itself: not worth a copy).
 */
class SourceKeeper extends Transform {
  kept = false;
  private fd: number | undefined;
  private decided = false;
  constructor(private readonly file: string) {
    super({ highWaterMark: 1 << 20 });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.decided) {
      this.decided = true;
      if (sniff(chunk, false) !== 'none') {
        try {
          this.fd = openSync(this.file, 'wx', 0o644);
        } catch (err) {
          return cb(err as Error);
        }
        this.kept = true;
      }
    }
    if (this.fd === undefined) return cb(null, chunk);
    const fd = this.fd;
    let off = 0;
    const more = (err: Error | null, n: number) => {
      if (err) return cb(err);
      off += n;
      if (off < chunk.length) return write(fd, chunk, off, chunk.length - off, null, more);
      cb(null, chunk);
    };
    write(fd, chunk, 0, chunk.length, null, more);
  }
  override _flush(cb: TransformCallback): void {
    this.closeFile(cb);
  }
  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.closeFile(() => cb(err));
  }
  private closeFile(cb: (err?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return cb();
    close(fd, (err) => cb(err));
  }
}

/** Writes each chunk to every target, calling back once all have taken it. */
function tee(targets: Writable[]): Writable {
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      let waiting = 0;
      const done = () => {
        if (--waiting === 0) cb();
      };
      waiting++;
      for (const t of targets) {
        if (!t.write(chunk)) {
          waiting++;
          t.once('drain', done);
        }
      }
      done();
    },
    final(cb) {
      for (const t of targets) t.end();
      cb();
    },
    destroy(err, cb) {
      // After a clean finish the targets still drain what they were given.
      if (err) for (const t of targets) t.destroy(err);
      cb(err);
    },
  });
}

/**
 * Stores an uncompressed layer tar: the layer (unpacked, with its tar-split)
 * and its compressed blob, both verified by construction (named by the hashes
 * of the bytes as they flowed), or nothing.
 */
export async function storeLayerFromTar(a: StoreTarArgs): Promise<StoredTarLayer> {
  const p = a.store.paths;
  const { createHash } = await import('node:crypto');
  let dir: string;
  try {
    dir = makeTmpDir(p, 'layer');
  } catch (err) {
    a.source.destroy();
    throw err;
  }
  const blobTmp = tmpPath(p, 'blob');
  try {
    const diff = path.join(dir, LAYER_DIFF);
    mkdirSync(diff, 0o755);
    const tarMeter = new Meter(createHash);
    const compressor = createCompressor(a.compression);
    const blobMeter = new Meter(createHash);
    const unpackInput = new PassThrough({ highWaterMark: 1 << 20 });
    const record = new TarSplitRecorder();
    const streams = [a.source, tarMeter, compressor, blobMeter, unpackInput];
    let first: unknown;
    const stopAll = (err: unknown) => {
      first ??= err;
      for (const s of streams) s.destroy(err instanceof Error ? err : new Error(String(err)));
    };
    const tasks = [
      pipeline(a.source, tarMeter, tee([compressor, unpackInput])),
      pipeline(compressor, blobMeter, createWriteStream(blobTmp, { flags: 'wx', mode: 0o644 })),
      unpackLayer(unpackInput, diff, { chown: a.chown, record }),
    ];
    for (const t of tasks) t.catch(stopAll);
    const results = await Promise.allSettled(tasks);
    if (first !== undefined) throw first;
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const stats = (results[2] as PromiseFulfilledResult<Awaited<ReturnType<typeof unpackLayer>>>).value;

    const diffID = tarMeter.digest();
    if (a.diffID !== undefined && diffID !== a.diffID) {
      throw new SkiffError(`${a.what ?? 'the layer'} does not match its diffID: its content is ${diffID}, but the image config says ${a.diffID}`);
    }
    const materialised = await materialiseLayer(diff, stats, { canMknod: a.canMknod, chown: a.chown, whiteouts: whiteoutsOf(a.store) });
    const blob: CompressedBlob = { digest: blobMeter.digest(), size: blobMeter.bytes, mediaType: layerMediaType(a.compression) };
    const meta: LayerMeta = {
      diffID,
      size: stats.bytes,
      tarSize: tarMeter.bytes,
      entries: stats.entries,
      compressed: [blob],
      created: new Date().toISOString(),
      rootMode: stats.rootMode,
    };
    await writeTarSplit(dir, record);
    writeLayerMetaInto(dir, meta);
    // The blob first: a layer whose meta names a blob finds it there.
    renameSync(blobTmp, blobPath(p, blob.digest));
    const committed = commitLayer(p, dir, diffID);
    if (!committed) {
      // Another process stored the same layer first: ours goes, our blob stays listed with it.
      rmSync(dir, { recursive: true, force: true });
      addCompressedBlob(p, diffID, blob);
    }
    return { meta, committed, materialised, blob, empty: stats.entries === 0 };
  } catch (err) {
    a.source.destroy();
    rmSync(dir, { recursive: true, force: true });
    rmSync(blobTmp, { force: true });
    throw err;
  }
}
