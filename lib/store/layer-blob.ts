// A stored layer as a registry blob, for push: the compressed forms the
// store knows of (those it keeps in blobs/: as a pull or load got them, or as
// skiff compressed them; and those a registry served or was sent), and a new
// one made from the layer's exact tar when none fits, kept in blobs/ so that
// no later push compresses it again.
import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { tmpPath } from './atomic.js';
import { blobPath } from './blobs.js';
import { createCompressor, type LayerCompression } from './compress.js';
import { compressionOfMediaType } from './decompress.js';
import { openLayerTar } from './layer-read.js';
import { layerMediaType } from './layer-write.js';
import { addCompressedBlob, readLayerMeta, type CompressedBlob } from './layers.js';
import type { Store } from './store.js';

export interface KnownLayerBlob extends CompressedBlob {
  compression: LayerCompression;
  /** The file in blobs/, when the store keeps this form. */
  file?: string;
}

/**
 * The compressed forms of a layer the store knows of, in one of
 * `compressions` (the first preferred): the ones it keeps first.
 */
export function knownLayerBlobs(store: Store, diffID: string, compressions: readonly LayerCompression[]): KnownLayerBlob[] {
  const out: KnownLayerBlob[] = [];
  for (const c of readLayerMeta(store.paths, diffID)?.compressed ?? []) {
    let kind;
    try {
      kind = compressionOfMediaType(c.mediaType);
    } catch {
      continue;
    }
    if (kind === 'none' || !compressions.includes(kind)) continue;
    const file = blobPath(store.paths, c.digest);
    out.push(existsSync(file) ? { ...c, compression: kind, file } : { ...c, compression: kind });
  }
  const rank = (b: KnownLayerBlob) => (b.file !== undefined ? 0 : 2) + compressions.indexOf(b.compression) / compressions.length;
  return out.sort((a, b) => rank(a) - rank(b));
}

export interface MadeLayerBlob {
  blob: CompressedBlob;
  /** The blob, kept in blobs/. */
  file: string;
}

/**
 * Compresses the layer's exact tar (checked against its diffID as it flows)
 * into blobs/ (a temp file renamed whole), and records the new form in the
 * layer's metadata: the next push sends that file, or asks a registry for it
 * by digest.
 */
export async function makeLayerBlob(store: Store, diffID: string, compression: LayerCompression, onTarBytes?: (n: number) => void): Promise<MadeLayerBlob> {
  const { createHash } = await import('node:crypto');
  const tmp = tmpPath(store.paths, 'blob');
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  let blob: CompressedBlob;
  let file: string;
  try {
    const tar = await openLayerTar(store.paths, diffID);
    if (onTarBytes) tar.on('data', (c: Buffer) => onTarBytes(c.length));
    await pipeline(tar, createCompressor(compression), meter, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    blob = { digest: `sha256:${hash.digest('hex')}`, size, mediaType: layerMediaType(compression) };
    file = blobPath(store.paths, blob.digest);
    // Named by the hash of the bytes as they were written; the same tar always compresses to the same bytes.
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  addCompressedBlob(store.paths, diffID, blob);
  return { blob, file };
}
