// Where the store and the runtime state live (design.md, decision 3), and the
// layout below the store's root. Nothing outside lib/store builds these paths
// except through this module.
//
//   GraphRoot/
//     store.lock                  flock(2): shared while writing, exclusive to collect garbage (lock.ts)
//     store.gen                   odd while an exclusive holder works: readers may skip the lock (lock.ts)
//     tmp/<pid>-<random>…         temp files and dirs, renamed into place (atomic.ts)
//     blobs/sha256/<hex>          manifests, indexes, configs, verified before named (blobs.ts)
//     layers/<diffID-hex>/diff/   an unpacked layer, shared by every image (layers.ts)
//     layers/<diffID-hex>/layer.json
//     images/<config-hex>.json    one record per image; the image id is its config digest (images.ts)
//     names/<sha256(name)>.json   "registry/repo:tag" or "registry/repo@digest" → image id (names.ts)
//     volumes/                    named and anonymous volumes: lib/volumes owns what is below
//     networks/                   user-defined networks: lib/network owns what is below
//     build-cache/steps/<key-hex> a build step's cache key → the image it made (build-cache.ts)
//     build-cache/mounts/<hex>/   RUN --mount=type=cache directories, kept between builds
//     build-cache/contexts/<hex>  per context directory: its files' digests by identity, for the next build
//     build-cache/dockerfiles/<hex> per Dockerfile path: its text's digest and the parsed instructions
import path from 'node:path';

// Where a user's store and runtime state are is a fact every layer needs (the
// event log sits below the store): lib/locations.ts keeps it.
export { currentStoreLocations, hostUid, storeLocations, type StoreLocations } from '../locations.js';

/** Every path of one store. */
export interface StorePaths {
  root: string;
  lockFile: string;
  tmp: string;
  blobs: string;
  layers: string;
  images: string;
  names: string;
  /** names-history/<config-hex>: the tags an image has had (images.ts: Podman's NamesHistory). */
  namesHistory: string;
  /** lib/volumes' directory. */
  volumes: string;
  /** lib/network's directory (user-defined networks). */
  networks: string;
  /** Build cache: step key -> the image it made (build-cache.ts), and RUN --mount=type=cache dirs. */
  buildCache: string;
}

export function storePaths(root: string): StorePaths {
  return {
    root,
    lockFile: path.join(root, 'store.lock'),
    tmp: path.join(root, 'tmp'),
    blobs: path.join(root, 'blobs', 'sha256'),
    layers: path.join(root, 'layers'),
    images: path.join(root, 'images'),
    names: path.join(root, 'names'),
    namesHistory: path.join(root, 'names-history'),
    volumes: path.join(root, 'volumes'),
    networks: path.join(root, 'networks'),
    buildCache: path.join(root, 'build-cache'),
  };
}
