// `system df`: what images and containers take on disk and what a prune
// could give back, as Docker counts it. Images: what their distinct layers
// take (a layer shared by several images counted once: its unpacked files,
// its keep-id copies and the compressed blobs the store keeps for push and
// save), their configs and manifests, and the blobs nothing keeps any more
// (store/disk-use.ts); active ones are used by a container; reclaimable is
// what no active image or container holds, which is what prune frees. Containers: what each wrote (its upper dir, measured by
// the helper by fd), active ones running, reclaimable the stopped ones'.
// Volumes: what their files take; active ones are mounted by a container,
// reclaimable the others'. The build cache joins when skiff has one.
import { containerSizes } from '../containers/size.js';
import { containerState } from '../containers/state.js';
import { listContainerIds, readRecord, type ContainerRecord } from '../containers/store.js';
import { volumeUsers, volumesOf } from '../containers/volume-users.js';
import { listVolumes, volumeBytes } from '../volumes/store.js';
import { shortDigest } from '../store/digest.js';
import { imageSummaries, type ImageSummary } from '../store/image-list.js';
import { storeDiskUse } from '../store/disk-use.js';
import type { Store } from '../store/store.js';
import { familiarName } from '../oci/reference.js';

export interface UsageTotals {
  Type: 'Images' | 'Containers' | 'Local Volumes';
  TotalCount: number;
  Active: number;
  /** Bytes. */
  Size: number;
  Reclaimable: number;
}

export interface ImageUsage {
  summary: ImageSummary;
  /** Bytes of its layers that another image also has. */
  shared: number;
  /** Bytes of its layers no other image has. */
  unique: number;
  containers: number;
}

export interface ContainerUsageRow {
  record: ContainerRecord;
  /** Volumes it mounts. */
  volumes: number;
  running: boolean;
  status: string;
  /** Bytes it wrote. */
  size: number;
}

export interface VolumeUsageRow {
  name: string;
  /** Containers that mount it. */
  links: number;
  size: number;
}

export interface DiskUsage {
  totals: UsageTotals[];
  images: ImageUsage[];
  containers: ContainerUsageRow[];
  volumes: VolumeUsageRow[];
}

export async function diskUsage(store: Store): Promise<DiskUsage> {
  const images = imageSummaries(store);
  const records = listContainerIds()
    .map((id) => readRecord(id))
    .filter((r): r is ContainerRecord => r !== undefined);
  const states = records.map((r) => containerState(r));

  const imagesOfLayer = new Map<string, number>();
  for (const img of images) for (const l of new Set(img.record.layers)) imagesOfLayer.set(l, (imagesOfLayer.get(l) ?? 0) + 1);

  const usersOf = new Map<string, number>();
  const held = new Set<string>();
  for (const r of records) {
    if (r.ImageID) usersOf.set(r.ImageID, (usersOf.get(r.ImageID) ?? 0) + 1);
    for (const l of r.Layers ?? []) held.add(l);
  }
  const disk = storeDiskUse(
    store,
    images.map((i) => i.record),
    new Set([...imagesOfLayer.keys(), ...held]),
  );
  const sizeOf = disk.layerBytes;
  const ownBytes = (img: ImageSummary) => disk.imageBlobs(img.record).reduce((n, d) => n + disk.blobBytes(d), 0);
  const imageRows: ImageUsage[] = images.map((img) => {
    let shared = 0;
    let unique = ownBytes(img);
    for (const l of new Set(img.record.layers)) {
      if ((imagesOfLayer.get(l) ?? 0) > 1) shared += sizeOf(l);
      else unique += sizeOf(l);
    }
    return { summary: img, shared, unique, containers: usersOf.get(img.record.id) ?? 0 };
  });
  // Each blob once (an index may be several images').
  const ownBlobs = new Set(images.flatMap((img) => disk.imageBlobs(img.record)));
  let total = disk.unreferencedBytes;
  for (const l of imagesOfLayer.keys()) total += sizeOf(l);
  for (const d of ownBlobs) total += disk.blobBytes(d);
  let inUse = 0;
  const active = new Set<string>(held);
  const activeBlobs = new Set<string>();
  for (const img of images) {
    if ((usersOf.get(img.record.id) ?? 0) === 0) continue;
    for (const l of img.record.layers) active.add(l);
    for (const d of disk.imageBlobs(img.record)) activeBlobs.add(d);
  }
  for (const l of active) if (imagesOfLayer.has(l)) inUse += sizeOf(l);
  for (const d of activeBlobs) inUse += disk.blobBytes(d);

  const sizes = await containerSizes(records, () => 0);
  const containerRows: ContainerUsageRow[] = records.map((record, i) => ({
    record,
    volumes: volumesOf(record).length,
    running: states[i]!.Running,
    status: states[i]!.Status,
    size: sizes[i]?.rw ?? 0,
  }));
  const sum = (rows: { size: number }[]) => rows.reduce((n, r) => n + r.size, 0);
  const volumes = listVolumes();
  const users = volumeUsers();
  const volumeSizes = await volumeBytes(volumes.map((v) => v.Mountpoint));
  const volumeRows: VolumeUsageRow[] = volumes.map((v, i) => ({ name: v.Name, links: users.get(v.Name)?.length ?? 0, size: volumeSizes[i] ?? 0 }));
  return {
    totals: [
      {
        Type: 'Images',
        TotalCount: images.length,
        Active: imageRows.filter((r) => r.containers > 0).length,
        Size: total,
        Reclaimable: Math.max(0, total - inUse),
      },
      {
        Type: 'Containers',
        TotalCount: records.length,
        Active: containerRows.filter((r) => r.running).length,
        Size: sum(containerRows),
        Reclaimable: sum(containerRows.filter((r) => !r.running)),
      },
      {
        Type: 'Local Volumes',
        TotalCount: volumeRows.length,
        Active: volumeRows.filter((r) => r.links > 0).length,
        Size: sum(volumeRows),
        Reclaimable: sum(volumeRows.filter((r) => r.links === 0)),
      },
    ],
    images: imageRows,
    containers: containerRows,
    volumes: volumeRows,
  };
}

/** A name for an image row: its first tag, else <none>. */
export function imageRepoTag(u: ImageUsage): { Repository: string; Tag: string; ID: string } {
  const tag = u.summary.tags[0];
  return {
    Repository: tag ? familiarName({ registry: tag.ref.registry, repository: tag.ref.repository }) : '<none>',
    Tag: tag?.ref.tag ?? '<none>',
    ID: shortDigest(u.summary.record.id),
  };
}
