// The one way skiff finds a host program (flock, zstd, newuidmap,
// unshare, pasta…): an executable regular file in the system's own
// directories. What skiff runs on the store or to build a user namespace is
// looked up there only, never through $PATH, so a directory the user put
// first cannot stand in for it. doctor and the probes also look in the
// caller's $PATH first, to report what a shell would find (`env -i` and
// sudo's secure_path still find the system's).
import { statSync } from 'node:fs';
import path from 'node:path';

const SYSTEM_DIRS = ['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin', '/usr/local/sbin'];

/** The PATH handed to probes: fixed, so that their behaviour does not depend on the caller's. */
export const PROBE_PATH = SYSTEM_DIRS.join(':');

/**
 * The absolute path of the executable `name` in the system directories, or
 * undefined. `searchPath` (a PATH value) adds its absolute directories first.
 */
export function findProgram(name: string, searchPath?: string): string | undefined {
  const dirs = [...(searchPath ?? '').split(':').filter((d) => d.startsWith('/')), ...SYSTEM_DIRS];
  for (const dir of new Set(dirs)) {
    const file = path.join(dir, name);
    try {
      const st = statSync(file);
      if (st.isFile() && (st.mode & 0o111) !== 0) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}
