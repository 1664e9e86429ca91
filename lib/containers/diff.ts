// `diff`: what a container changed, from its overlay upper dir: A (added),
// C (changed, and every directory above a change), D (deleted: a whiteout).
// The container owns every name in its upper dir and may swap one for a
// symlink to the host at any instant: the walk is the helper's, by fd
// (walk.h), never Node's by path.
import { SkiffError } from '../errors.js';
import { overlayOf } from '../oci/spec/runtime.js';
import { upperDirEntries } from '../namespaces/helper.js';
import { containerFileMappings, readConfig, type ContainerRecord } from './store.js';
import { byCodeUnit } from '../compare.js';

export interface Change {
  Path: string;
  /** Docker's kinds: 0 changed, 1 added, 2 deleted. */
  Kind: 0 | 1 | 2;
}

const KIND = { C: 0, A: 1, D: 2 } as const;

export async function containerChanges(record: ContainerRecord): Promise<Change[]> {
  const config = readConfig(record.Id);
  const overlay = config && overlayOf(config);
  if (!overlay) throw new SkiffError(`diff needs a container made from an image: ${record.Name} runs on --rootfs ${record.Rootfs} and writes there directly`);
  // Mount points are skiff's, not the container's changes: its own files (/etc/hosts…), volumes,
  // and /proc, /sys, /dev, which the helper makes when the image has none (Docker's init layer
  // hides them). commit leaves out the same paths.
  const mountPoints = (config.mounts ?? []).map((m) => m.destination);
  const isMountPoint = (p: string) => mountPoints.some((m) => p === m || p.startsWith(`${m}/`));
  const changes = new Map<string, Change['Kind']>();
  for (const entry of await upperDirEntries(overlay.upperdir, overlay.lowerdirs, containerFileMappings(config), overlay.driver === 'vfs')) {
    if (isMountPoint(entry.path)) continue;
    changes.set(entry.path, KIND[entry.kind]);
    // Every directory above a change is changed.
    for (let p = entry.path.slice(0, entry.path.lastIndexOf('/')); p !== ''; p = p.slice(0, p.lastIndexOf('/'))) if (!changes.has(p)) changes.set(p, 0);
  }
  return [...changes.entries()].sort(([a], [b]) => byCodeUnit(a, b)).map(([p, k]) => ({ Path: p, Kind: k }));
}
