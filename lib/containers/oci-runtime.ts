// --runtime: an OCI runtime other than skiff's helper (runc, crun), given by
// name or path, runs the very config.json skiff wrote for the container. It
// proves that file is a real runtime spec. Only a foreground `run` as root
// goes through it: skiff's monitor (run -d, start), exec and the rootless
// user namespace are the helper's, and those refuse another runtime in one line.
import { spawn } from 'node:child_process';
import { SkiffError } from '../errors.js';
import { debug } from '../log.js';
import { overlayOf } from '../oci/spec/runtime.js';
import type { OciRuntimeConfig } from '../oci/runtime-spec.js';
import { findProgram } from '../host/programs.js';
import { earlySignalForwarder } from '../namespaces/helper.js';

export interface OciRuntime {
  path: string;
  /** --runtime-flag, each given to the runtime as --FLAG before `run`. */
  flags: string[];
}

/** The runtime --runtime chose (SKIFF_RUNTIME, SKIFF_RUNTIME_FLAGS), or undefined for skiff's helper. */
export function ociRuntime(env: NodeJS.ProcessEnv = process.env): OciRuntime | undefined {
  const file = env['SKIFF_RUNTIME'];
  if (!file) return undefined;
  const flags = env['SKIFF_RUNTIME_FLAGS'] ? (JSON.parse(env['SKIFF_RUNTIME_FLAGS']) as string[]) : [];
  return { path: file, flags };
}

/** One line for what only the helper does, when --runtime names another runtime. */
export function refuseOtherRuntime(what: string): void {
  const rt = ociRuntime();
  if (rt) throw new SkiffError(`--runtime ${rt.path}: ${what} runs only through skiff's own helper; another OCI runtime runs a foreground \`skiff run\` as root (drop --runtime)`);
}

/** Checks that a foreground run can go through the chosen runtime here. */
export function checkOciRuntimeRun(rootless: boolean): void {
  const rt = ociRuntime();
  if (rt && rootless) {
    throw new SkiffError(`--runtime ${rt.path}: rootless, a container runs only through skiff's own helper, which makes its user namespace with your /etc/subuid range (drop --runtime, or run as root)`);
  }
}

/** Resolves --runtime's value: a path, or a name found in PATH and the system directories. */
export function resolveRuntime(value: string): string | undefined {
  if (value.includes('/')) return value;
  return findProgram(value, process.env['PATH']);
}

/**
 * Runs the container whose directory is `bundle` (it holds config.json) with
 * `runtime run --bundle`. An image's overlay is mounted first, as the helper
 * would, in a private mount namespace (unshare -m) so the mount goes away with it.
 */
export async function runWithOciRuntime(rt: OciRuntime, config: OciRuntimeConfig, bundle: string, id: string): Promise<number> {
  const runtimeArgs = [...rt.flags.map((f) => (f.startsWith('-') ? f : `--${f}`)), 'run', '--bundle', bundle, id];
  const overlay = overlayOf(config);
  let argv: string[];
  if (overlay && overlay.driver !== 'vfs') {
    const options = `userxattr,lowerdir=${overlay.lowerdirs.join(':')},upperdir=${overlay.upperdir},workdir=${overlay.workdir}`;
    if (options.length > 4000) throw new SkiffError(`--runtime ${rt.path}: the image's ${overlay.lowerdirs.length} layers do not fit in one overlay mount's options; flatten the image or drop --runtime`);
    argv = ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t overlay -o "$1" overlay "$2" && shift 2 && exec "$@"', 'sh', options, config.root.path, rt.path, ...runtimeArgs];
  } else {
    argv = [rt.path, ...runtimeArgs];
  }
  debug(() => `runtime: ${argv.join(' ')}`);
  // Listening before the spawn: see runForeground.
  const forwarder = earlySignalForwarder(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  forwarder.attach(child);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', (err) => reject(new SkiffError(`--runtime ${rt.path}: cannot start it: ${err.message}`)));
      child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 }) as Record<string, number>)[signal] ?? 1 : 0)));
    });
  } finally {
    forwarder.detach();
  }
}
