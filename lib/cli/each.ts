// Docker's way with several containers in one command: do each, print its
// name on success, one error line per failure, exit 125 (or the given code) if any failed.
import { SkiffError, type SkiffErrorReason } from '../errors.js';

/**
 * Podman's exit codes for `rm` and `rmi`: 1 when a name does not exist, 2 for
 * a running container or an image in use; other failures keep their own.
 */
export function removalExitCode(err: SkiffError): number {
  const codes: Record<SkiffErrorReason, number> = { 'not-found': 1, conflict: 2 };
  return err.reason ? codes[err.reason] : err.exitCode;
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
      process.stderr.write(`skiff: ${err.message}\n`);
      failed = failed || exitCode(err);
    }
  }
  return failed;
}
