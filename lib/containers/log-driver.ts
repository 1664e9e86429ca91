// --log-driver and --log-opt (Podman's): where a container's output is kept.
// k8s-file (the default; json-file is Docker's name, taken as the same, as
// Podman does) is the monitor's log that `logs` reads, at --log-opt path= and
// rotated to PATH.1 past max-size=; none keeps nothing; passthrough gives a
// foreground container skiff's own stdio. journald is refused: skiff writes
// no journal (and this kind of host has none).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { parseBytes } from '../oci/spec/resources.js';

export type LogDriver = 'k8s-file' | 'none' | 'passthrough';

/** What the record keeps (Docker's HostConfig.LogConfig). */
export interface LogConfig {
  Type: LogDriver;
  Config: Record<string, string>;
}

const JOURNAL_SOCKET = '/run/systemd/journal/socket';

/** The smallest max-size: a log of a few records, rotated at every write, would lose what `logs` shows. */
const MIN_MAX_SIZE = 4096;

export function parseLogConfig(driver: string, opts: string[], use: { detach: boolean; create: boolean; tty: boolean; cwd: string }): LogConfig {
  const type = driverOf(driver);
  const config: Record<string, string> = {};
  for (const opt of opts) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (type !== 'k8s-file') throw new SkiffError(`--log-opt ${opt}: the ${type} log driver takes no options (they are k8s-file's)`);
    if (key === 'path') {
      if (value === '') throw new SkiffError('--log-opt path= needs a file name');
      const file = path.resolve(use.cwd, value);
      const dir = path.dirname(file);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new SkiffError(`--log-opt path=${value}: ${dir} is not a directory; create it first`);
      config['path'] = file;
    } else if (key === 'max-size') {
      const bytes = parseBytes(value, '--log-opt max-size');
      if (bytes < MIN_MAX_SIZE) throw new SkiffError(`--log-opt max-size=${value}: at least ${MIN_MAX_SIZE} bytes (4k)`);
      config['max-size'] = String(bytes);
    } else if (key === 'max-file') {
      throw new SkiffError(`--log-opt max-file is not supported: skiff keeps the log and one rotated file (PATH.1) past max-size, as Podman's k8s-file keeps one; drop max-file`);
    } else if (key === 'tag') {
      throw new SkiffError(`--log-opt tag is not supported: a tag names a container's lines in the journal (journald), which skiff does not write; drop tag`);
    } else {
      throw new SkiffError(`unknown --log-opt "${key}": k8s-file takes path= and max-size=`);
    }
  }
  if (type === 'passthrough') {
    if (use.detach || use.create) throw new SkiffError("--log-driver passthrough gives the container skiff's own stdio: only a foreground run has it (drop -d, or use run instead of create)");
    if (use.tty) throw new SkiffError('--log-driver passthrough cannot be used with -t: a terminal passed to the container would let it type into yours (TIOCSTI), as Podman refuses');
  }
  return { Type: type, Config: config };
}

function driverOf(driver: string): LogDriver {
  if (driver === '' || driver === 'k8s-file' || driver === 'json-file') return 'k8s-file';
  if (driver === 'none' || driver === 'passthrough') return driver;
  if (driver === 'journald') {
    if (!existsSync(JOURNAL_SOCKET)) throw new SkiffError(`--log-driver journald is not supported: this host has no systemd journal (${JOURNAL_SOCKET} is missing); use k8s-file (the default), none or passthrough`);
    throw new SkiffError('--log-driver journald is not supported: skiff writes container logs to a file that `logs` reads; use k8s-file (the default), none or passthrough');
  }
  throw new SkiffError(`invalid --log-driver "${driver}": use k8s-file (json-file), none, passthrough`);
}
