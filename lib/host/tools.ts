// Finding the host programs skiff relies on (util-linux, shadow's uidmap,
// pasta…) without a shell: PATH first, then the usual system directories, so
// that `env -i` and sudo's secure_path still find them.
import { statSync } from 'node:fs';
import path from 'node:path';

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The PATH handed to probes: fixed, so that their behaviour does not depend on the caller's. */
export const PROBE_PATH = SYSTEM_DIRS.join(':');

/** The absolute path of an executable regular file called `name`, or undefined. */
export function findExecutable(name: string, pathEnv: string | undefined = process.env['PATH']): string | undefined {
  const dirs = [...(pathEnv ?? '').split(':').filter((d) => d.startsWith('/')), ...SYSTEM_DIRS];
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
