// A file of an image as its layers show it (the top layer that has it wins),
// read from the unpacked layers without following a symlink on the way: the
// image's own /etc/passwd and /etc/group, never the host's.
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { layerDiffDir } from './layers.js';
import type { StorePaths } from './paths.js';

export type ImageFile = { kind: 'file'; text: string } | { kind: 'missing' } | { kind: 'symlink'; path: string };

/** `layers`: diffIDs, bottom first; `file`: relative to the root ("etc/passwd"). */
export function readImageFile(paths: StorePaths, layers: string[], file: string): ImageFile {
  const parts = file.split('/').filter(Boolean);
  for (const layer of [...layers].reverse()) {
    let p = layerDiffDir(paths, layer);
    for (const [n, part] of parts.entries()) {
      p = path.join(p, part);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        break;
      }
      // A whiteout deletes it from the layers below; a symlink is not followed.
      if (st.isCharacterDevice() && st.rdev === 0) return { kind: 'missing' };
      if (st.isSymbolicLink()) return { kind: 'symlink', path: `/${parts.slice(0, n + 1).join('/')}` };
      if (n === parts.length - 1) return { kind: 'file', text: readFileSync(p, 'utf8') };
    }
  }
  return { kind: 'missing' };
}
