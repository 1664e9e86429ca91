// The bytes a volume takes.
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * The bytes of a volume's files, each inode once, never through a symlink.
 * By path, so only for a volume no container uses (prune): a running
 * container could swap a directory for a link to the host between two looks.
 */
export function unusedVolumeBytes(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const full = path.join(d, name);
      let st;
      try {
        st = lstatSync(full, { bigint: false });
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(full);
      else if (!st.isSymbolicLink()) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        total += st.size;
      }
    }
  };
  walk(dir);
  return total;
}
