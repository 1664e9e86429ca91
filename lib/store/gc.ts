// Garbage collection: layers and blobs that no image and no container uses
// are removed. Runs under the exclusive store lock only, so no
// pull is between finding a layer present and naming the image that uses it;
// for the same reason everything in tmp/ is junk then.
import { cleanTmp } from './atomic.js';
import { listBlobs, removeBlob } from './blobs.js';
import { listImageRecords } from './images.js';
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

/** `containerLayers`: the layers containers use (see usage.ts). */
export function collectGarbage(store: Store, lock: StoreLock, containerLayers: Iterable<string> = []): GcResult {
  if (lock.mode !== 'exclusive') throw new Error('internal: garbage collection needs the exclusive store lock');
  const p = store.paths;
  cleanTmp(p, true);
  const result: GcResult = { layers: [], blobs: [], reclaimed: 0 };
  const images = listImageRecords(p);
  const ids = new Set(images.map((i) => i.id));
  for (const name of listNames(p)) if (!ids.has(name.image)) removeName(name);
  const usedLayers = layersInUse(store, containerLayers);
  for (const diffID of listLayers(p)) {
    if (usedLayers.has(diffID)) continue;
    result.reclaimed += removeLayer(p, diffID);
    result.layers.push(diffID);
  }
  const usedBlobs = new Set<string>();
  for (const image of images) {
    usedBlobs.add(image.id);
    usedBlobs.add(image.manifest);
    if (image.index) usedBlobs.add(image.index);
  }
  // The compressed blobs kept beside the layers skiff made (commit, build, load, import).
  for (const diffID of usedLayers) for (const c of readLayerMeta(p, diffID)?.compressed ?? []) usedBlobs.add(c.digest);
  for (const digest of listBlobs(p)) {
    if (usedBlobs.has(digest)) continue;
    result.reclaimed += removeBlob(p, digest);
    result.blobs.push(digest);
  }
  return result;
}
