// System programs skiff runs (flock, zstd, rm): looked up in the system's
// own directories, never through $PATH, so a directory the user put first
// cannot stand in for them in a store or user-namespace operation.
import { accessSync, constants } from 'node:fs';

const SYSTEM_DIRS = ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin'];

/** The first executable `name` in the system directories, or undefined. */
export function findProgram(name: string): string | undefined {
  for (const dir of SYSTEM_DIRS) {
    const file = `${dir}/${name}`;
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return undefined;
}
