// `skiff container exists CONTAINER`: Podman's test for scripts: exit 0 when
// the container exists (by name, id or unique id prefix), 1 when not.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { SkiffError } from '../../errors.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'container exists',
  summary: 'Check if a container exists (exit 0 if it does, 1 if not)',
  usage: 'CONTAINER',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  try {
    resolveContainer(args.positionals[0]!);
    return 0;
  } catch (err) {
    if (err instanceof SkiffError && err.reason === 'not-found') return 1;
    throw err;
  }
}
