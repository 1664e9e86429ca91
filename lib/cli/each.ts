// Docker's way with several containers in one command: do each, print its
// name on success, one error line per failure, exit 125 (or the given code) if any failed.
import { SkiffError, type SkiffErrorReason } from '../errors.js';
import { printErrorLine } from './error-line.js';

/**
 * Podman's exit codes for `rm` and `rmi`: 1 when a name does not exist, 2 for
 * a running container or an image in use; other failures keep their own.
 */
export function removalExitCode(err: SkiffError): number {
  const codes: Record<SkiffErrorReason, number> = { 'not-found': 1, conflict: 2 };
  return err.reason ? codes[err.reason] : err.exitCode;
}

/**
 * Docker's exit code for a name that does not exist on start, stop, kill,
 * restart, pause, unpause and inspect: 1 (Podman 4 gives 125 there and 1 only
 * on rm and rmi); other failures keep their own.
 */
export function missingExitCode(err: SkiffError): number {
  return err.reason === 'not-found' ? 1 : err.exitCode;
}

/**
 * The containers a command names, or with --all (Podman's) every one in
 * `states` that --filter lets through; names and --all together are refused.
 */
export async function containerRefs(command: string, positionals: string[], all: boolean, filters: string[], states: string[]): Promise<string[]> {
  if (!all && filters.length === 0) {
    if (positionals.length === 0) throw new SkiffError(`"skiff ${command}" requires at least 1 argument, or --all (see 'skiff ${command} --help')`);
    return positionals;
  }
  if (positionals.length > 0) throw new SkiffError(`${all ? '--all' : '--filter'}${all && filters.length > 0 ? ' and --filter' : ''} and container names cannot be combined: give one or the other`);
  const { containersWhere } = await import('../containers/filters.js');
  return containersWhere(new Set(states), filters);
}

export async function forEachRef(
  refs: string[],
  action: (ref: string) => Promise<string | undefined>,
  exitCode: (err: SkiffError) => number = (err) => err.exitCode,
): Promise<number> {
  let failed = 0;
  for (const ref of refs) {
    try {
      const shown = await action(ref);
      if (shown !== undefined) process.stdout.write(`${shown}\n`);
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      if (!err.reported) printErrorLine(err.message);
      failed = failed || exitCode(err);
    }
  }
  return failed;
}
