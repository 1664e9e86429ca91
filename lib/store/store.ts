// Opening a store: its paths, and for writers the directories they need.
import { mkdirSync } from 'node:fs';
import { SkiffError, errnoCode } from '../errors.js';
import { currentStoreLocations, storePaths, type StorePaths } from './paths.js';
import { claimStorageDriver } from './driver.js';

export interface Store {
  paths: StorePaths;
}

/** The running process's store, read-only: nothing is created. */
export function openStore(root: string = currentStoreLocations().graphRoot): Store {
  return { paths: storePaths(root) };
}

/** The store, with every directory a writer needs created (0700 at the root, as Podman's). */
export function openStoreForWriting(root: string = currentStoreLocations().graphRoot): Store {
  const store = openStore(root);
  const p = store.paths;
  try {
    mkdirSync(p.root, { recursive: true, mode: 0o700 });
    for (const dir of [p.tmp, p.blobs, p.layers, p.images, p.names]) mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new SkiffError(`cannot create the image store in ${p.root}: ${errnoCode(err) ?? String(err)}`);
  }
  claimStorageDriver(p.root);
  return store;
}
