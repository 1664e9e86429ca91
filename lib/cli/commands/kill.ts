import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { containerRefs, forEachRef, missingExitCode } from '../each.js';
import { killContainer } from '../../containers/lifecycle.js';
import { parseSignal } from '../../containers/signals.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'kill',
  summary: 'Send a signal (default SIGKILL) to one or more running containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  flags: [
    { name: 'signal', short: 's', type: 'string', describe: 'Signal to send', placeholder: 'SIGNAL', default: 'KILL' },
    { name: 'all', short: 'a', type: 'boolean', describe: 'Signal every running container (Podman)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const signal = parseSignal(flagString(args, 'signal') ?? 'KILL');
  const refs = await containerRefs('kill', args.positionals, flagBool(args, 'all'), [], ['running', 'paused']);
  return forEachRef(refs, async (ref) => {
    await killContainer(resolveContainer(ref), signal);
    return ref;
  }, missingExitCode);
}
