import type { CommandSpec, ParsedArgs } from '../args.js';
import { forEachRef } from '../each.js';
import { setPaused } from '../../containers/lifecycle.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'unpause',
  summary: 'Unpause all processes within one or more containers (cgroup freezer)',
  usage: 'CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  return forEachRef(args.positionals, async (ref) => {
    await setPaused(resolveContainer(ref), false);
    return ref;
  });
}
