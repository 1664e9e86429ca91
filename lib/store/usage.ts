// What still needs a layer or an image. Garbage collection and rmi ask here and
// nowhere else. The store cannot see containers (they sit above it): what they
// use comes in from the caller (lib/containers/image-users.ts gathers it), so a
// container keeps its image's layers (its lower dirs) and its image.
import { listImageRecords } from './images.js';
import type { Store } from './store.js';

/** Every layer (diffID) something uses: the layers of every image, and `containerLayers`. */
export function layersInUse(store: Store, containerLayers: Iterable<string> = []): Set<string> {
  const used = new Set<string>(containerLayers);
  for (const image of listImageRecords(store.paths)) for (const layer of image.layers) used.add(layer);
  return used;
}

export interface ImageUser {
  /** The container's id. */
  id: string;
  /** A running container's image cannot be removed even with -f (Docker's hard conflict). */
  running: boolean;
}

/**
 * What containers use, for rmi and image prune: which of them use an image
 * (refused without -f), and the layers they hold as lower dirs.
 */
export interface ContainerUsage {
  users: (store: Store, imageId: string) => ImageUser[];
  /** Asked again at each use: a container made meanwhile keeps its layers. */
  containerLayers: () => Iterable<string>;
}

/** No container at all (the store's tests). */
export const NO_CONTAINERS: ContainerUsage = { users: () => [], containerLayers: () => [] };
