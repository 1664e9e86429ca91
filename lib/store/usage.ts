// What still needs a layer or an image. Garbage collection and rmi ask here and
// nowhere else, so that containers, when they exist, are added in one place:
// a container keeps its image's layers (its lower dirs) and its image.
import { listImageRecords } from './images.js';
import type { Store } from './store.js';

/** Every layer (diffID) something uses: today the layers of every image. */
export function layersInUse(store: Store): Set<string> {
  const used = new Set<string>();
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
 * The containers that use an image, which rmi refuses to break without -f.
 * No container exists before the container lifecycle lands: this is where it
 * will report them.
 */
export function containersUsingImage(_store: Store, _imageId: string): ImageUser[] {
  return [];
}
