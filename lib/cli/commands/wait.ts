import type { CommandSpec, ParsedArgs } from '../args.js';
import { forEachRef } from '../each.js';
import { waitContainer } from '../../containers/lifecycle.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'wait',
  summary: 'Block until one or more containers stop, then print their exit codes',
  usage: 'CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  return forEachRef(args.positionals, async (ref) => String(await waitContainer(resolveContainer(ref), { createdIsDone: true })));
}
