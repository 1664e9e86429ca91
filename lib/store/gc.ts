// Garbage collection: layers and blobs that no image and no container uses
// are removed. Runs under the exclusive store lock only, so no
// pull is between finding a layer present and naming the image that uses it;
// for the same reason everything in tmp/ is junk then.
import { cleanTmp } from './atomic.js';
import { listBlobs, removeBlob } from './blobs.js';
import { listImageRecords, removeOrphanNamesHistories, type ImageRecord } from './images.js';
import { listLayers, readLayerMeta, removeLayer } from './layers.js';
import { listNames, removeName } from './names.js';
import type { StoreLock } from './lock.js';
import type { Store } from './store.js';
import { layersInUse } from './usage.js';

export interface GcResult {
  /** diffIDs removed. */
  layers: string[];
  blobs: string[];
  /** Bytes freed: unpacked layer contents and blob sizes. */
  reclaimed: number;
}

/** The blobs garbage collection keeps: each image's config, manifest and index, and the compressed forms its used layers keep. */
export function blobsInUse(store: Store, images: readonly ImageRecord[], usedLayers: Iterable<string>): Set<string> {
  const used = new Set<string>();
  for (const image of images) {
    used.add(image.id);
    used.add(image.manifest);
    if (image.index) used.add(image.index);
  }
  // The compressed blobs kept beside the layers (as pulled or loaded, or as skiff made them: commit, build, push).
  for (const diffID of usedLayers) for (const c of readLayerMeta(store.paths, diffID)?.compressed ?? []) used.add(c.digest);
  return used;
}

/** `containerLayers`: the layers containers use (see usage.ts). */
export function collectGarbage(store: Store, lock: StoreLock, containerLayers: Iterable<string> = []): GcResult {
  if (lock.mode !== 'exclusive') throw new Error('internal: garbage collection needs the exclusive store lock');
  const p = store.paths;
  cleanTmp(p, true);
  const result: GcResult = { layers: [], blobs: [], reclaimed: 0 };
  const images = listImageRecords(p);
  const ids = new Set(images.map((i) => i.id));
  for (const name of listNames(p)) if (!ids.has(name.image)) removeName(name);
  removeOrphanNamesHistories(p, ids);
  const usedLayers = layersInUse(store, containerLayers);
  for (const diffID of listLayers(p)) {
    if (usedLayers.has(diffID)) continue;
    result.reclaimed += removeLayer(p, diffID);
    result.layers.push(diffID);
  }
  const usedBlobs = blobsInUse(store, images, usedLayers);
  for (const digest of listBlobs(p)) {
    if (usedBlobs.has(digest)) continue;
    result.reclaimed += removeBlob(p, digest);
    result.blobs.push(digest);
  }
  return result;
}
