import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { forEachRef } from '../each.js';
import { stopContainer } from '../../containers/lifecycle.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'stop',
  summary: 'Stop one or more running containers: the stop signal, then SIGKILL after the timeout',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [{ name: 'time', short: 't', aliases: ['timeout'], type: 'string', describe: 'Seconds to wait before killing (default 10)', placeholder: 'SECONDS', default: '10' }],
};

export function parseSeconds(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new SkiffError(`invalid timeout "${text}": expected whole seconds`);
  return n;
}

export async function run(args: ParsedArgs): Promise<number> {
  const timeout = parseSeconds(flagString(args, 'time') ?? '10');
  return forEachRef(args.positionals, async (ref) => {
    await stopContainer(resolveContainer(ref), timeout);
    return ref;
  });
}
