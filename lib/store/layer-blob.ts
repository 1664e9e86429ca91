// A stored layer as a registry blob, for push: the compressed forms the
// store knows of (those it keeps in blobs/, and those a registry served or
// was sent), and a new one made from the layer's exact tar when none fits.
import { createWriteStream, existsSync, rmSync } from 'node:fs';
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
  /** The file in blobs/, when the store keeps this form. */
  file?: string;
}

/** The compressed forms of a layer in `compression` the store knows of; the ones it keeps first. */
export function knownLayerBlobs(store: Store, diffID: string, compression: LayerCompression): KnownLayerBlob[] {
  const out: KnownLayerBlob[] = [];
  for (const c of readLayerMeta(store.paths, diffID)?.compressed ?? []) {
    let kind;
    try {
      kind = compressionOfMediaType(c.mediaType);
    } catch {
      continue;
    }
    if (kind !== compression) continue;
    const file = blobPath(store.paths, c.digest);
    out.push(existsSync(file) ? { ...c, file } : { ...c });
  }
  return out.sort((a, b) => Number(b.file !== undefined) - Number(a.file !== undefined));
}

export interface MadeLayerBlob {
  blob: CompressedBlob;
  /** A temp file under tmp/ holding it: the caller removes it (remove()). */
  file: string;
  remove(): void;
}

/**
 * Compresses the layer's exact tar (checked against its diffID as it flows)
 * into a temp file, and records the new form in the layer's metadata so the
 * next push can ask the registry for it by digest.
 */
export async function makeLayerBlob(store: Store, diffID: string, compression: LayerCompression, onTarBytes?: (n: number) => void): Promise<MadeLayerBlob> {
  const { createHash } = await import('node:crypto');
  const file = tmpPath(store.paths, 'blob');
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
  const remove = () => rmSync(file, { force: true });
  try {
    const tar = await openLayerTar(store.paths, diffID);
    if (onTarBytes) tar.on('data', (c: Buffer) => onTarBytes(c.length));
    await pipeline(tar, createCompressor(compression), meter, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    remove();
    throw err;
  }
  const blob: CompressedBlob = { digest: `sha256:${hash.digest('hex')}`, size, mediaType: layerMediaType(compression) };
  addCompressedBlob(store.paths, diffID, blob);
  return { blob, file, remove };
}
