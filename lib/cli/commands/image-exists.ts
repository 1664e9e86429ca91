// `skiff image exists IMAGE`: Podman's test for scripts: exit 0 when the
// store has the image, 1 when it has not, nothing printed.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { SkiffError } from '../../errors.js';

export const spec: CommandSpec = {
  name: 'image exists',
  summary: 'Check if an image exists in local storage (exit 0 if it does, 1 if not)',
  usage: 'IMAGE',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  const store = await import('../../store/index.js');
  try {
    await store.findImage(store.openStore(), args.positionals[0]!);
    return 0;
  } catch (err) {
    if (err instanceof SkiffError && err.reason === 'not-found') return 1;
    throw err;
  }
}
