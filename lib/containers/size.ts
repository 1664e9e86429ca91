// `ps --size`: what a container wrote (its overlay upper dir) and that plus
// its image, as Docker's SIZE column shows them: "12B (virtual 4.3MB)". The
// upper dirs are measured by the helper, by fd (walk.h): a name the container
// swapped for a symlink to the host is counted as a link, never followed.
import { overlayOf } from '../oci/spec/runtime.js';
import { fullCopySize, treeSizes } from '../namespaces/helper.js';
import { containerFileMappings, readConfig, type ContainerRecord } from './store.js';

export interface ContainerSize {
  /** Bytes the container wrote (Docker's SizeRw), each inode counted once. */
  rw: number;
  /** rw plus the image's layers (Docker's SizeRootFs). */
  rootFs: number;
}

/**
 * The sizes of several containers, in order, with one helper run per user
 * namespace they need (one, in practice). undefined for a --rootfs container:
 * it writes into its directory directly, so there is no layer of its own to
 * measure.
 */
export async function containerSizes(records: ContainerRecord[], imageSize: (id: string) => number): Promise<(ContainerSize | undefined)[]> {
  const uppers = records.map((record) => {
    const config = readConfig(record.Id);
    const overlay = config ? overlayOf(config) : undefined;
    return overlay ? { upperdir: overlay.upperdir, lowerdirs: overlay.lowerdirs, vfs: overlay.driver === 'vfs', mappings: containerFileMappings(config!) } : undefined;
  });
  const byMappings = new Map<string, number[]>();
  const rw: number[] = [];
  for (const [i, u] of uppers.entries()) {
    // A vfs copy holds the whole image: what it wrote is what differs from the layers, one walk each.
    if (u?.vfs) rw[i] = await fullCopySize(u.upperdir, u.lowerdirs, u.mappings);
  }
  uppers.forEach((u, i) => {
    if (!u || u.vfs) return;
    const key = JSON.stringify(u.mappings ?? null);
    byMappings.set(key, [...(byMappings.get(key) ?? []), i]);
  });
  for (const indexes of byMappings.values()) {
    const sizes = await treeSizes(indexes.map((i) => uppers[i]!.upperdir), uppers[indexes[0]!]!.mappings);
    indexes.forEach((i, n) => (rw[i] = sizes[n]!));
  }
  return records.map((record, i) => {
    if (!uppers[i]) return undefined;
    const image = record.ImageSize ?? (record.ImageID ? imageSize(record.ImageID) : 0);
    return { rw: rw[i]!, rootFs: rw[i]! + image };
  });
}
