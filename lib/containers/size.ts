// `ps --size`: what a container wrote (its overlay upper dir) and that plus
// its image, as Docker's SIZE column shows them: "12B (virtual 4.3MB)".
import { lstatSync, readdirSync } from 'node:fs';
import { SkiffError, errnoCode } from '../errors.js';
import { overlayOf } from '../oci/spec/runtime.js';
import { readConfig, type ContainerRecord } from './store.js';

export interface ContainerSize {
  /** Bytes the container wrote (Docker's SizeRw), each inode counted once. */
  rw: number;
  /** rw plus the image's layers (Docker's SizeRootFs). */
  rootFs: number;
}

/** Bytes of the files below dir, each inode once. */
function treeBytes(dir: string, seen: Set<string>): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${entry.name}`;
    const st = lstatSync(p);
    const key = `${st.dev}:${st.ino}`;
    if (!seen.has(key)) {
      seen.add(key);
      if (!st.isDirectory()) total += st.size;
    }
    if (st.isDirectory()) total += treeBytes(p, seen);
  }
  return total;
}

/**
 * undefined for a --rootfs container: it writes into its directory directly,
 * so there is no layer of its own to measure. Rootless, call it where the
 * upper dir's sub-ID files are readable (the store's user namespace).
 */
export function containerSize(record: ContainerRecord, imageSize: (id: string) => number): ContainerSize | undefined {
  const config = readConfig(record.Id);
  const upperdir = config && overlayOf(config)?.upperdir;
  if (!upperdir) return undefined;
  let rw: number;
  try {
    rw = treeBytes(upperdir, new Set());
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') rw = 0; // removed meanwhile
    else throw new SkiffError(`cannot measure ${record.Name}'s files in ${upperdir}: ${code ?? String(err)}`);
  }
  const image = record.ImageSize ?? (record.ImageID ? imageSize(record.ImageID) : 0);
  return { rw, rootFs: rw + image };
}
