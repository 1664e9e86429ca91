// The store as the image commands use it (pull is lib/images/pull.ts). Loaded
// lazily: it is dist/lazy/store.cjs, never part of the hot path's bundle.
export { openStore, openStoreForWriting, type Store } from './store.js';
export { lockPullOf, lockStore, sharedWithoutLock, type StoreLock } from './lock.js';
export { cleanTmp } from './atomic.js';
export { findImage, type FoundImage } from './lookup.js';
export { imageSummaries, imageRows, isIntermediate, type ImageRow, type ImageSummary } from './image-list.js';
export { parseImageFilters, filterImages, parsePruneFilters, type PruneFilters } from './image-filter.js';
export { inspectImage, imageHistory, readImageConfig, summaryOf, type HistoryRow } from './image-inspect.js';
export { removeImages, pruneImages, type RemoveEvent } from './remove.js';
export { tagImage, untagImage } from './tag.js';
export { layersInUse, type ContainerUsage, type ImageUser } from './usage.js';
export { readBlob } from './blobs.js';
export { listImageRecords, readImageRecord } from './images.js';
export { hasLayer, imageRootMode, layerDiffDir } from './layers.js';
export { layersForShift, type LayerShift } from './mapped-layers.js';
export { readImageFile, type ImageFile } from './image-files.js';
export { claimStorageDriver, recordedStorageDriver, storageDriver, type StorageDriver } from './driver.js';
