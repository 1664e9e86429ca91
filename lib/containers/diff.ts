// `diff`: what a container changed, from its overlay upper dir: A (added),
// C (changed, and every directory above a change), D (deleted: a whiteout).
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { overlayOf } from '../oci/spec/runtime.js';
import { readConfig, type ContainerRecord } from './store.js';
import { byCodeUnit } from '../compare.js';

export interface Change {
  Path: string;
  /** Docker's kinds: 0 changed, 1 added, 2 deleted. */
  Kind: 0 | 1 | 2;
}

function existsInLowers(lowerdirs: string[], rel: string): boolean {
  return lowerdirs.some((dir) => {
    try {
      lstatSync(path.join(dir, rel));
      return true;
    } catch {
      return false;
    }
  });
}

export function containerChanges(record: ContainerRecord): Change[] {
  const config = readConfig(record.Id);
  const overlay = config && overlayOf(config);
  // The mount points of its own files (/etc/hosts…) are skiff's, not the container's changes.
  const mountPoints = new Set((config?.mounts ?? []).filter((m) => m.type === 'bind').map((m) => m.destination));
  if (!overlay) throw new SkiffError(`diff needs a container made from an image: ${record.Name} runs on --rootfs ${record.Rootfs} and writes there directly`);
  const { lowerdirs, upperdir } = overlay;
  const changes = new Map<string, Change['Kind']>();
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(upperdir, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (mountPoints.has(`/${child}`)) continue;
      const st = lstatSync(path.join(upperdir, child));
      const whiteout = st.isCharacterDevice() && st.rdev === 0;
      const kind: Change['Kind'] = whiteout ? 2 : existsInLowers(lowerdirs, child) ? 0 : 1;
      changes.set(`/${child}`, kind);
      // Every directory above a change is changed.
      for (let p = path.posix.dirname(`/${child}`); p !== '/'; p = path.posix.dirname(p)) if (!changes.has(p)) changes.set(p, 0);
      if (entry.isDirectory()) walk(child);
    }
  };
  walk('');
  return [...changes.entries()].sort(([a], [b]) => byCodeUnit(a, b)).map(([p, k]) => ({ Path: p, Kind: k }));
}
