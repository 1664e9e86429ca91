// `system prune`: stopped containers, then the images nothing uses any more
// (dangling ones, or with -a every image no container uses), then the layers
// and blobs left over. Runs as root of the store's user namespace (rootless),
// holding the store lock exclusive for the images.
import { containerUsage } from '../containers/image-users.js';
import { pruneContainers, type ContainerPruneFilters } from '../containers/prune.js';
import type { PruneFilters } from '../store/image-filter.js';
import { lockStore } from '../store/lock.js';
import { pruneImages, type RemoveEvent } from '../store/remove.js';
import type { Store } from '../store/store.js';

export interface SystemPruneOptions {
  all: boolean;
  containerFilters?: ContainerPruneFilters;
  imageFilters?: PruneFilters;
  onWait?: () => void;
}

export interface SystemPruneResult {
  containers: string[];
  images: RemoveEvent[];
  reclaimed: number;
}

export async function systemPrune(store: Store, opts: SystemPruneOptions): Promise<SystemPruneResult> {
  const containers = await pruneContainers(opts.containerFilters);
  const lock = await lockStore(store.paths, 'exclusive', opts.onWait ? { onWait: opts.onWait } : {});
  try {
    const images = pruneImages(store, lock, { all: opts.all, ...(opts.imageFilters ? { filters: opts.imageFilters } : {}), ...containerUsage });
    return { containers: containers.removed, images: images.events, reclaimed: containers.bytes + images.reclaimed };
  } finally {
    lock.release();
  }
}
