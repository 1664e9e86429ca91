// What containers hold in the image store, for rmi and image prune (the store
// cannot see containers: the command passes this in). A container keeps its
// image, and its image's layers as its lower dirs, even after the image's
// names are gone.
import type { ContainerUsage, ImageUser } from '../store/usage.js';
import { containerState } from './state.js';
import { listContainerIds, readRecord } from './store.js';

/** The containers that use an image, which rmi refuses to break without -f. */
function containersUsingImage(imageId: string): ImageUser[] {
  const users: ImageUser[] = [];
  for (const id of listContainerIds()) {
    const record = readRecord(id);
    if (record?.ImageID === imageId) users.push({ id, running: containerState(record).Running });
  }
  return users;
}

/** Every layer (diffID) a container uses as a lower dir. */
function containerLayers(): string[] {
  const layers: string[] = [];
  for (const id of listContainerIds()) layers.push(...(readRecord(id)?.Layers ?? []));
  return layers;
}

export const containerUsage: ContainerUsage = {
  users: (_store, imageId) => containersUsingImage(imageId),
  containerLayers,
};
