// A file of an image as its layers show it (the top layer that has it wins),
// read from the unpacked layers without following a symlink on the way: the
// image's own /etc/passwd and /etc/group, never the host's.
import { lstatSync, readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { layerDiffDir } from './layers.js';
import type { StorePaths } from './paths.js';

/**
 * What a layer directory `dir` holds at `name` (lib/store/materialise.ts):
 * the node, a deletion (overlay's 0/0 device, or a vfs store's ".wh.NAME"
 * file), or nothing. Nothing is followed.
 */
export function layerEntry(dir: string, name: string): { kind: 'node'; stats: Stats } | { kind: 'deleted' } | { kind: 'absent' } {
  try {
    const stats = lstatSync(path.join(dir, name));
    return stats.isCharacterDevice() && stats.rdev === 0 ? { kind: 'deleted' } : { kind: 'node', stats };
  } catch {
    // not here: perhaps its whiteout, the tar's way
  }
  try {
    if (lstatSync(path.join(dir, `.wh.${name}`)).isFile()) return { kind: 'deleted' };
  } catch {
    // nothing at all
  }
  return { kind: 'absent' };
}

export type ImageFile = { kind: 'file'; text: string } | { kind: 'missing' } | { kind: 'symlink'; path: string } | { kind: 'special'; path: string };

/** `layers`: diffIDs, bottom first; `file`: relative to the root ("etc/passwd"). */
export function readImageFile(paths: StorePaths, layers: string[], file: string): ImageFile {
  const parts = file.split('/').filter(Boolean);
  for (const layer of [...layers].reverse()) {
    let p = layerDiffDir(paths, layer);
    for (const [n, part] of parts.entries()) {
      const entry = layerEntry(p, part);
      p = path.join(p, part);
      if (entry.kind === 'absent') break;
      // A whiteout deletes it from the layers below; a symlink is not followed.
      if (entry.kind === 'deleted') return { kind: 'missing' };
      const st = entry.stats;
      if (st.isSymbolicLink()) return { kind: 'symlink', path: `/${parts.slice(0, n + 1).join('/')}` };
      // A FIFO or device is never read: a read of one could block or never end.
      if (n === parts.length - 1) return st.isFile() ? { kind: 'file', text: readFileSync(p, 'utf8') } : { kind: 'special', path: `/${file}` };
    }
  }
  return { kind: 'missing' };
}
