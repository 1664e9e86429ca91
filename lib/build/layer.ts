// A container's changes (or any overlay upper dir's) as one layer of the
// store: the helper writes the upper dir as a layer tar by fd (whiteouts as
// ".wh." entries, opaque directories marked, owners as the container saw
// them, xattrs, hard links, times), and the store unpacks it, keeps its
// tar-split and a compressed blob, all from one pass (store/layer-write.ts).
// commit uses it; so does build, for each step that changes files.
import { canCreateDevices } from '../host/privilege.js';
import { upperDirLayerTar, type WalkMappings } from '../namespaces/helper.js';
import type { OciIdMapping } from '../oci/runtime-spec.js';
import type { LayerCompression } from '../store/compress.js';
import { storeLayerFromTar } from '../store/layer-write.js';
import type { CompressedBlob } from '../store/layers.js';
import type { Store } from '../store/store.js';

export interface UpperDirLayerRequest {
  store: Store;
  upperdir: string;
  /** The image's layers below it, uppermost first (as overlay's lowerdir): lets the walk leave out image directories that hold nothing changed. */
  lowerdirs?: string[];
  /**
   * Container paths left out with all below them: bind-mount targets (/etc/hosts…), and
   * RUNTIME_MOUNT_POINTS (mounts.ts) where a container ran (commit, RUN); a COPY's upper dir keeps the
   * /proc, /sys and /dev its sources hold (a root filesystem copied FROM scratch).
   */
  exclude?: string[];
  /** No file newer than this (seconds since the epoch), for reproducible builds (--timestamp, SOURCE_DATE_EPOCH). */
  timestamp?: number;
  /** The blob the store keeps beside the layer (default gzip). */
  compression?: LayerCompression;
  /**
   * Rootless, when the caller is not already root of the store's user
   * namespace: the walk runs in one with these maps. The unpacking side must
   * run there in any case (the layer's files belong to sub-IDs).
   */
  mappings?: WalkMappings;
  /** Owners as a container with its own mapping saw them (--userns keep-id): the store's ID → the container's. */
  ownerShift?: { uids: OciIdMapping[]; gids: OciIdMapping[] };
  /** upperdir is a full copy of the image (the vfs driver's root): its changes are found by comparing it with lowerdirs. */
  full?: boolean;
}

export interface NewLayer {
  diffID: string;
  /** The compressed blob kept in the store (its digest is what a manifest names). */
  blob: CompressedBlob;
  /** Nothing changed: build records such a step as empty_layer and need not use the layer. */
  empty: boolean;
  /** Bytes of file content. */
  size: number;
}

/** Stores the upper dir's changes as a layer (and its blob); nothing is left behind on failure. */
export async function storeUpperDirLayer(req: UpperDirLayerRequest): Promise<NewLayer> {
  const source = upperDirLayerTar(req.upperdir, {
    exclude: req.exclude ?? [],
    lowerdirs: req.lowerdirs ?? [],
    ...(req.timestamp !== undefined ? { mtimeMax: req.timestamp } : {}),
    ...(req.mappings ? { mappings: req.mappings } : {}),
    ...(req.ownerShift ? { ownerShift: req.ownerShift } : {}),
    ...(req.full ? { full: true } : {}),
  });
  const stored = await storeLayerFromTar({
    store: req.store,
    source,
    compression: req.compression ?? 'gzip',
    chown: true,
    canMknod: canCreateDevices(),
    what: `the changes in ${req.upperdir}`,
  });
  return { diffID: stored.meta.diffID, blob: stored.blob, empty: stored.empty, size: stored.meta.size };
}
