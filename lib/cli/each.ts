// Docker's way with several containers in one command: do each, print its
// name on success, one error line per failure, exit 125 (or the given code) if any failed.
import { SkiffError } from '../errors.js';

export async function forEachRef(refs: string[], action: (ref: string) => Promise<string | undefined>): Promise<number> {
  let failed = 0;
  for (const ref of refs) {
    try {
      const shown = await action(ref);
      if (shown !== undefined) process.stdout.write(`${shown}\n`);
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      process.stderr.write(`skiff: ${err.message}\n`);
      failed = failed || err.exitCode;
    }
  }
  return failed;
}
