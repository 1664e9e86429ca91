import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { forEachRef } from '../each.js';
import { killContainer } from '../../containers/lifecycle.js';
import { parseSignal } from '../../containers/signals.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'kill',
  summary: 'Send a signal (default SIGKILL) to one or more running containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [{ name: 'signal', short: 's', type: 'string', describe: 'Signal to send', placeholder: 'SIGNAL', default: 'KILL' }],
};

export async function run(args: ParsedArgs): Promise<number> {
  const signal = parseSignal(flagString(args, 'signal') ?? 'KILL');
  return forEachRef(args.positionals, async (ref) => {
    await killContainer(resolveContainer(ref), signal);
    return ref;
  });
}
