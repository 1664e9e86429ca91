// What still needs a layer or an image. Garbage collection and rmi ask here and
// nowhere else, so that containers, when they exist, are added in one place:
// a container keeps its image's layers (its lower dirs) and its image.
import { listImageRecords } from './images.js';
import { listContainerIds, readRecord } from '../containers/store.js';
import { containerState } from '../containers/state.js';
import type { Store } from './store.js';

/** Every layer (diffID) something uses: the layers of every image and of every container (its lower dirs). */
export function layersInUse(store: Store): Set<string> {
  const used = new Set<string>();
  for (const image of listImageRecords(store.paths)) for (const layer of image.layers) used.add(layer);
  for (const id of listContainerIds()) for (const layer of readRecord(id)?.Layers ?? []) used.add(layer);
  return used;
}

export interface ImageUser {
  /** The container's id. */
  id: string;
  /** A running container's image cannot be removed even with -f (Docker's hard conflict). */
  running: boolean;
}

/** The containers that use an image, which rmi refuses to break without -f. */
export function containersUsingImage(_store: Store, imageId: string): ImageUser[] {
  const users: ImageUser[] = [];
  for (const id of listContainerIds()) {
    const record = readRecord(id);
    if (record?.ImageID === imageId) users.push({ id, running: containerState(record).Running });
  }
  return users;
}
