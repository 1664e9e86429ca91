import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { forEachRef } from '../each.js';
import { restartContainer } from '../../containers/lifecycle.js';
import { resolveContainer } from '../../containers/store.js';
import { parseSeconds } from './stop.js';

export const spec: CommandSpec = {
  name: 'restart',
  summary: 'Restart one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [{ name: 'time', short: 't', aliases: ['timeout'], type: 'string', describe: 'Seconds to wait before killing (default 10)', placeholder: 'SECONDS', default: '10' }],
};

export async function run(args: ParsedArgs): Promise<number> {
  const timeout = parseSeconds(flagString(args, 'time') ?? '10');
  return forEachRef(args.positionals, async (ref) => {
    const record = resolveContainer(ref);
    await restartContainer(record, timeout);
    return ref;
  });
}
