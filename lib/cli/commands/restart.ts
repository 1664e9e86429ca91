import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';
import { containerRefs, forEachRef, missingExitCode } from '../each.js';
import { restartContainer } from '../../containers/lifecycle.js';
import { resolveContainer } from '../../containers/store.js';
import { parseSeconds } from './stop.js';

export const spec: CommandSpec = {
  name: 'restart',
  summary: 'Restart one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  flags: [
    { name: 'time', short: 't', aliases: ['timeout'], type: 'string', describe: 'Seconds to wait before killing (default 10)', placeholder: 'SECONDS', default: '10' },
    { name: 'all', short: 'a', type: 'boolean', describe: 'Restart every container (Podman)' },
    { name: 'running', type: 'boolean', describe: 'With --all: only the running ones (Podman)' },
    { name: 'filter', type: 'array', placeholder: 'KEY=VALUE', describe: 'With --all, or alone: only the containers ps --filter would show (name=, id=, status=, label=, ancestor=…)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const timeout = parseSeconds(flagString(args, 'time') ?? '10');
  const states = flagBool(args, 'running') ? ['running', 'paused'] : ['created', 'running', 'paused', 'exited'];
  const refs = await containerRefs('restart', args.positionals, flagBool(args, 'all'), flagList(args, 'filter'), states);
  return forEachRef(refs, async (ref) => {
    const record = resolveContainer(ref);
    await restartContainer(record, timeout);
    return ref;
  }, missingExitCode);
}
