// One layer from a compressed blob stream into layers/<diffID>, streamed
// once: the blob (whose digest and size a pull's registry client checks as it
// flows) → decompress → sha256 of the tar (the diffID) → unpack into a new
// directory under tmp/ → whiteouts, devices and xattrs → layer.json → rename
// into place. A wrong digest, size or diffID, or any failure, removes the temp
// directory: nothing is named. The store never talks to a registry: the
// caller (lib/images) opens the stream.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SkiffError } from '../errors.js';
import type { Descriptor } from '../oci/image-spec.js';
import { makeTmpDir } from './atomic.js';
import { LayerDecoder } from './decompress.js';
import { commitLayer, LAYER_DIFF, writeLayerMetaInto, type LayerMeta } from './layers.js';
import { materialiseLayer, type MaterialiseResult } from './materialise.js';
import type { Store } from './store.js';
import { unpackLayer } from './unpack.js';

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
function naming(digest: string, err: unknown): unknown {
  if (!(err instanceof Error) || err.name !== 'SkiffError' || err.message.includes(digest)) return err;
  return new SkiffError(`layer ${digest}: ${err.message}`, (err as SkiffError).exitCode);
}

/** Stores the layer `source` carries as `diffID`, verified, or nothing. */
export async function storeLayer(a: StoreLayerArgs): Promise<StoredLayer> {
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
    const decoder = new LayerDecoder(a.blob.digest);
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
    const onAbort = () => stop(a.signal?.reason instanceof Error ? a.signal.reason : new SkiffError('pull aborted'));
    if (a.signal?.aborted) onAbort();
    a.signal?.addEventListener('abort', onAbort, { once: true });
    const piped = pipeline(source, decoder);
    const unpacked = unpackLayer(decoder, diff, { chown: a.chown });
    // An unpack that refuses the tar stops reading: end the transfer too.
    unpacked.catch((err: unknown) => stop(err instanceof Error ? err : new Error(String(err))));
    const [pr, ur] = await Promise.allSettled([piped, unpacked]);
    a.signal?.removeEventListener('abort', onAbort);
    if (streamError !== undefined) throw streamError;
    if (ur.status === 'rejected') throw naming(a.blob.digest, ur.reason);
    if (pr.status === 'rejected') throw pr.reason;
    const stats = ur.value;

    const actual = decoder.diffID();
    if (actual !== a.diffID) {
      throw new SkiffError(
        `layer ${a.blob.digest} does not match the image: its uncompressed content is ${actual}, but the image config says ${a.diffID}`,
      );
    }
    const materialised = await materialiseLayer(diff, stats, { canMknod: a.canMknod, chown: a.chown });
    const meta: LayerMeta = {
      diffID: a.diffID,
      size: stats.bytes,
      tarSize: decoder.size(),
      entries: stats.entries,
      compressed: [{ digest: a.blob.digest, size: a.blob.size, mediaType: a.blob.mediaType }],
      created: new Date().toISOString(),
    };
    writeLayerMetaInto(dir, meta);
    const committed = commitLayer(p, dir, a.diffID);
    if (!committed) rmSync(dir, { recursive: true, force: true });
    return { meta, committed, materialised };
  } catch (err) {
    source.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
