// Podman's global options, given before the command (`skiff --root DIR
// images`). Each becomes a SKIFF_* variable of this process's environment:
// the code below the CLI reads it from there, and so does every skiff process
// this one starts (the user-namespace re-execution, the monitor's `skiff rm`
// of a --rm container), which a module variable would not reach. The names
// are the contract with the layers that act on them:
//
//   SKIFF_ROOT            --root: the store (GraphRoot)           lib/store/paths.ts
//   SKIFF_RUNROOT         --runroot: runtime state (RunRoot)      lib/store/paths.ts
//   SKIFF_STORAGE_DRIVER  --storage-driver overlay|vfs           lib/store/driver.ts
//   SKIFF_LOG_LEVEL       --log-level                            lib/log.ts, the helper
//   SKIFF_EVENTS_BACKEND  --events-backend file|none             lib/events (the event log)
//   SKIFF_CGROUP_MANAGER  --cgroup-manager systemd|cgroupfs      lib/containers/run.ts
//   SKIFF_RUNTIME         --runtime: another OCI runtime's path   lib/containers/oci-runtime.ts
//   SKIFF_RUNTIME_FLAGS   --runtime-flag, a JSON array           lib/containers/oci-runtime.ts
//   TMPDIR                --tmpdir: skiff's temporary files outside the store (os.tmpdir())
//
// --noout makes fd 1 /dev/null for this process and everything it starts.
import { accessSync, closeSync, constants, existsSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { debug, isLogLevel, LOG_LEVELS } from '../log.js';
import { currentStoreLocations } from '../store/paths.js';
import { checkStorageDriver, type StorageDriver } from '../store/driver.js';
import { findProgram } from '../host/programs.js';
import { installRoot } from '../paths.js';

/** skiff's own helper (as lib/namespaces/helper.ts finds it; that module is not loaded here: it is off the start-up path). */
function helperFile(): string {
  return process.env['SKIFF_HELPER'] ?? path.join(installRoot(), 'helpers-c', 'skiff-helper');
}

/** Exit status of an invalid --log-level, as Podman's (a cobra flag error). */
export const EXIT_BAD_LOG_LEVEL = 1;

/** Where a systemd journal takes messages; no socket, no journal. */
const JOURNAL_SOCKET = '/run/systemd/journal/socket';

export interface GlobalParse {
  /** The index of the command's name in argv (argv.length when there is none). */
  next: number;
  /** --version / -v was given: print the version and stop. */
  version: boolean;
}

interface GlobalOption {
  name: string;
  short?: string;
  takesValue: boolean;
  apply(value: string): void;
}

function directory(flag: string, value: string): string {
  if (value === '') throw new SkiffError(`${flag} needs a directory`);
  return path.resolve(value);
}

function setEnv(name: string, value: string): void {
  process.env[name] = value;
}

function refuseRemote(flag: string): never {
  throw new SkiffError(`${flag}: skiff has no service to connect to; it runs every command itself, on this machine (run the command without ${flag}, or use podman --remote for a Podman service)`);
}

const OPTIONS: GlobalOption[] = [
  {
    name: 'root',
    takesValue: true,
    apply: (v) => setEnv('SKIFF_ROOT', directory('--root', v)),
  },
  {
    name: 'runroot',
    takesValue: true,
    apply: (v) => setEnv('SKIFF_RUNROOT', directory('--runroot', v)),
  },
  {
    name: 'storage-driver',
    takesValue: true,
    apply: (v) => {
      if (v === 'overlay' || v === 'overlay2') return setEnv('SKIFF_STORAGE_DRIVER', 'overlay');
      if (v === 'vfs') return setEnv('SKIFF_STORAGE_DRIVER', 'vfs');
      throw new SkiffError(`invalid --storage-driver "${v}": use overlay (the kernel's overlayfs, mounted in the container's user namespace) or vfs (a plain copy of the image per container)`);
    },
  },
  {
    // Podman's options of containers/storage's drivers (overlay.mount_program,
    // size, vfs.ignore_chown_errors…) have no counterpart in skiff's drivers,
    // which take none: "" (Podman's way of clearing the configured ones) is
    // accepted, anything else refused rather than silently dropped.
    name: 'storage-opt',
    takesValue: true,
    apply: (v) => {
      if (v === '') return;
      throw new SkiffError(`--storage-opt ${v}: skiff's storage drivers (overlay, vfs) take no options; run without --storage-opt`);
    },
  },
  {
    name: 'log-level',
    takesValue: true,
    apply: (v) => {
      if (!isLogLevel(v)) throw new SkiffError(`invalid --log-level "${v}": use one of ${LOG_LEVELS.join(', ')}`, EXIT_BAD_LOG_LEVEL);
      setEnv('SKIFF_LOG_LEVEL', v);
    },
  },
  {
    name: 'events-backend',
    takesValue: true,
    apply: (v) => {
      if (v === 'file' || v === 'none') return setEnv('SKIFF_EVENTS_BACKEND', v);
      if (v === 'journald') {
        if (!existsSync(JOURNAL_SOCKET)) {
          throw new SkiffError(`--events-backend journald is not supported: this host has no systemd journal (${JOURNAL_SOCKET} is missing); use --events-backend file (the default) or none`);
        }
        throw new SkiffError('--events-backend journald is not supported: skiff writes its events to a file under its runtime directory, not to the journal; use --events-backend file (the default) or none');
      }
      throw new SkiffError(`invalid --events-backend "${v}": use file or none`);
    },
  },
  {
    name: 'cgroup-manager',
    takesValue: true,
    apply: (v) => {
      if (v !== 'systemd' && v !== 'cgroupfs') throw new SkiffError(`invalid --cgroup-manager "${v}": use systemd or cgroupfs`);
      setEnv('SKIFF_CGROUP_MANAGER', v);
    },
  },
  {
    name: 'tmpdir',
    takesValue: true,
    apply: (v) => {
      const dir = directory('--tmpdir', v);
      let isDir = false;
      try {
        isDir = statSync(dir).isDirectory();
      } catch {
        // reported below
      }
      if (!isDir) throw new SkiffError(`--tmpdir ${dir}: no such directory; create it first`);
      setEnv('TMPDIR', dir);
    },
  },
  {
    name: 'noout',
    takesValue: false,
    apply: () => {
      // fd 1 becomes /dev/null: close it and open /dev/null, which takes the
      // lowest free descriptor. Nothing has touched process.stdout yet, so it
      // will be made on the new fd 1, and every child inherits it.
      closeSync(1);
      const fd = openSync('/dev/null', 'w');
      if (fd !== 1) throw new SkiffError(`--noout: /dev/null opened as fd ${fd}, not 1`);
    },
  },
  {
    name: 'runtime',
    takesValue: true,
    apply: (v) => {
      if (v === '') throw new SkiffError('--runtime needs a name or a path');
      const file = v === 'skiff-helper' ? helperFile() : v.includes('/') ? path.resolve(v) : findProgram(v, process.env['PATH']);
      if (file === undefined) throw new SkiffError(`--runtime ${v}: no such program in PATH or the system directories; give its path`);
      if (file === helperFile()) {
        delete process.env['SKIFF_RUNTIME'];
        return;
      }
      try {
        accessSync(file, constants.X_OK);
      } catch {
        throw new SkiffError(`--runtime ${file}: not an executable file`);
      }
      setEnv('SKIFF_RUNTIME', file);
    },
  },
  {
    name: 'runtime-flag',
    takesValue: true,
    apply: (v) => {
      if (v === '') throw new SkiffError('--runtime-flag needs a flag, such as --runtime-flag debug');
      const flags = process.env['SKIFF_RUNTIME_FLAGS'] ? (JSON.parse(process.env['SKIFF_RUNTIME_FLAGS']) as string[]) : [];
      setEnv('SKIFF_RUNTIME_FLAGS', JSON.stringify([...flags, v]));
    },
  },
  { name: 'url', takesValue: true, apply: () => refuseRemote('--url') },
  { name: 'connection', short: 'c', takesValue: true, apply: () => refuseRemote('--connection') },
  { name: 'remote', short: 'r', takesValue: false, apply: () => refuseRemote('--remote') },
  { name: 'identity', takesValue: true, apply: () => refuseRemote('--identity') },
];

/**
 * Parses the global options at the start of argv, applies each, and says
 * where the command begins. `--help`/`-h` stop here for main to handle.
 */
export function parseGlobalOptions(argv: readonly string[]): GlobalParse {
  let i = 0;
  let driverGiven = false;
  while (i < argv.length && argv[i]!.startsWith('-')) {
    const arg = argv[i]!;
    if (arg === '--version' || arg === '-v') return { next: i, version: true };
    if (arg === '--help' || arg === '-h') break;
    const long = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const option = long ? OPTIONS.find((o) => o.name === long[1]) : OPTIONS.find((o) => o.short !== undefined && arg === `-${o.short}`);
    if (!option) throw new SkiffError(`unknown flag: ${arg} (see 'skiff --help')`);
    let value = '';
    if (option.takesValue) {
      if (long?.[2] !== undefined) value = long[2];
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new SkiffError(`flag needs an argument: --${option.name}`);
    } else if (long?.[2] !== undefined && long[2] !== 'true') {
      if (long[2] === 'false') {
        i++;
        continue;
      }
      throw new SkiffError(`invalid value "${long[2]}" for flag --${option.name}: expected true or false`);
    }
    option.apply(value);
    if (option.name === 'storage-driver') driverGiven = true;
    i++;
  }
  // Once --root is known too: a store keeps the driver it was made with.
  if (driverGiven) checkStorageDriver(currentStoreLocations().graphRoot, process.env['SKIFF_STORAGE_DRIVER'] as StorageDriver);
  if (process.env['SKIFF_RUNTIME_FLAGS'] && !process.env['SKIFF_RUNTIME']) {
    throw new SkiffError("--runtime-flag: skiff's own helper takes no runtime flags; they are for another OCI runtime given with --runtime (runc, crun)");
  }
  return { next: i, version: false };
}

/** The global options as `skiff --help` lists them: name, short form, what it takes, what it does. */
export const GLOBAL_OPTIONS_HELP: { name: string; short?: string; type: 'string' | 'boolean'; describe: string }[] = [
  { name: 'root', type: 'string', describe: 'Where images, layers, containers and volumes are stored (default: $XDG_DATA_HOME/skiff; root: /var/lib/skiff)' },
  { name: 'runroot', type: 'string', describe: 'Where runtime state is kept: locks, sockets, PID files (default: $XDG_RUNTIME_DIR/skiff; root: /run/skiff)' },
  { name: 'storage-driver', type: 'string', describe: "The storage driver: overlay, or vfs (a plain copy of the image per container); a store keeps the one it was made with" },
  { name: 'storage-opt', type: 'string', describe: 'A storage driver option: skiff\'s drivers take none, so only "" (no options) is accepted' },
  { name: 'log-level', type: 'string', describe: `What skiff logs on stderr: ${LOG_LEVELS.join(', ')} (default: warn)` },
  { name: 'events-backend', type: 'string', describe: 'Where events go: file (under the runtime directory) or none' },
  { name: 'cgroup-manager', type: 'string', describe: 'How containers get their cgroups: cgroupfs or systemd' },
  { name: 'tmpdir', type: 'string', describe: "Where skiff's temporary files outside the store go (default: $TMPDIR, else /tmp)" },
  { name: 'noout', type: 'boolean', describe: 'Send standard output to /dev/null' },
  { name: 'runtime', type: 'string', describe: "The OCI runtime, by name or path (default: skiff's helper); runc or crun runs a foreground run as root" },
  { name: 'runtime-flag', type: 'string', describe: 'A flag for --runtime, as --runtime-flag debug (repeatable)' },
];

/** One debug line with the locations and choices this run works with. */
export function logGlobalChoices(): void {
  debug(() => {
    const e = process.env;
    const store = currentStoreLocations();
    return `global options: log-level=${e['SKIFF_LOG_LEVEL']} root=${store.graphRoot}${e['SKIFF_ROOT'] ? '' : ' (default)'} runroot=${store.runRoot}${e['SKIFF_RUNROOT'] ? '' : ' (default)'} storage-driver=${e['SKIFF_STORAGE_DRIVER'] ?? '(the store\'s)'} events-backend=${e['SKIFF_EVENTS_BACKEND'] ?? 'file'} cgroup-manager=${e['SKIFF_CGROUP_MANAGER'] ?? '(detected)'} tmpdir=${e['TMPDIR'] ?? '/tmp'} runtime=${e['SKIFF_RUNTIME'] ?? helperFile()}`;
  });
}
