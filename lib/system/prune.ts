// `system prune`: stopped containers, with --volumes the anonymous volumes
// nothing uses, then the images nothing uses any more (dangling ones, or with
// -a every image no container uses), then the layers and blobs left over. Runs as root of the store's user namespace (rootless),
// holding the store lock exclusive for the images.
import { containerUsage } from '../containers/image-users.js';
import { pruneContainers, type ContainerPruneFilters } from '../containers/prune.js';
import { volumeUsers } from '../containers/volume-users.js';
import { pruneVolumes } from '../volumes/prune.js';
import type { PruneFilters } from '../store/image-filter.js';
import { lockStore } from '../store/lock.js';
import { pruneImages, type RemoveEvent } from '../store/remove.js';
import type { Store } from '../store/store.js';

export interface SystemPruneOptions {
  all: boolean;
  /** --volumes: the anonymous volumes no container uses, too. */
  volumes?: boolean;
  containerFilters?: ContainerPruneFilters;
  imageFilters?: PruneFilters;
  onWait?: () => void;
}

export interface SystemPruneResult {
  containers: string[];
  volumes: string[];
  images: RemoveEvent[];
  reclaimed: number;
}

export async function systemPrune(store: Store, opts: SystemPruneOptions): Promise<SystemPruneResult> {
  const containers = await pruneContainers(opts.containerFilters);
  // Docker's system prune --volumes: anonymous volumes only.
  const volumes = opts.volumes ? await pruneVolumes(volumeUsers(), { all: false }) : { deleted: [], reclaimed: 0 };
  const lock = await lockStore(store.paths, 'exclusive', opts.onWait ? { onWait: opts.onWait } : {});
  try {
    const images = pruneImages(store, lock, { all: opts.all, ...(opts.imageFilters ? { filters: opts.imageFilters } : {}), ...containerUsage });
    return { containers: containers.removed, volumes: volumes.deleted, images: images.events, reclaimed: containers.bytes + volumes.reclaimed + images.reclaimed };
  } finally {
    lock.release();
  }
}
