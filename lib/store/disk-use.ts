// What the store's images take on disk, for `system df`: each layer's
// unpacked files, its keep-id copies (mapped-layers.ts) and the compressed
// blobs it keeps for push and save (layer.json's forms present in blobs/);
// each image's config, manifest and index; and the blobs nothing keeps any
// more, which garbage collection (rmi, image prune, system prune) removes.
// Sizes are of the files (content bytes; blobs by stat), as prune counts
// what it frees.
import { blobSize, listBlobs } from './blobs.js';
import { blobsInUse } from './gc.js';
import type { ImageRecord } from './images.js';
import { layerContentBytes, readLayerMeta } from './layers.js';
import type { Store } from './store.js';

export interface StoreDiskUse {
  /** A layer's bytes: unpacked content, keep-id copies, kept compressed blobs. */
  layerBytes(diffID: string): number;
  /** Digests of an image's own blobs: config, manifest, index. */
  imageBlobs(record: ImageRecord): string[];
  blobBytes(digest: string): number;
  /** Bytes of the blobs no image and no used layer keeps. */
  unreferencedBytes: number;
}

export function storeDiskUse(store: Store, images: readonly ImageRecord[], usedLayers: Iterable<string>): StoreDiskUse {
  const p = store.paths;
  const blobs = new Map<string, number>();
  const blobBytes = (digest: string) => {
    let n = blobs.get(digest);
    if (n === undefined) {
      n = blobSize(p, digest);
      blobs.set(digest, n);
    }
    return n;
  };
  const layers = new Map<string, number>();
  const layerBytes = (diffID: string) => {
    let n = layers.get(diffID);
    if (n === undefined) {
      n = layerContentBytes(p, diffID);
      for (const c of readLayerMeta(p, diffID)?.compressed ?? []) n += blobBytes(c.digest);
      layers.set(diffID, n);
    }
    return n;
  };
  const kept = blobsInUse(store, images, usedLayers);
  let unreferencedBytes = 0;
  for (const digest of listBlobs(p)) if (!kept.has(digest)) unreferencedBytes += blobBytes(digest);
  return {
    layerBytes,
    imageBlobs: (r) => [r.id, r.manifest, ...(r.index ? [r.index] : [])],
    blobBytes,
    unreferencedBytes,
  };
}
