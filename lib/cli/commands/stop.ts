import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';
import { idsFromCidFiles } from '../cidfile.js';
import { SkiffError } from '../../errors.js';
import { containerRefs, forEachRef, missingExitCode } from '../each.js';
import { stopContainer } from '../../containers/lifecycle.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'stop',
  summary: 'Stop one or more running containers: the stop signal, then SIGKILL after the timeout',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  flags: [
    { name: 'time', short: 't', aliases: ['timeout'], type: 'string', describe: 'Seconds to wait before killing (default 10)', placeholder: 'SECONDS', default: '10' },
    { name: 'ignore', short: 'i', type: 'boolean', describe: 'Ignore errors when a container does not exist (Podman)' },
    { name: 'cidfile', type: 'array', describe: 'Stop the container whose id run --cidfile wrote to FILE (Podman)', placeholder: 'FILE' },
    { name: 'all', short: 'a', type: 'boolean', describe: 'Stop every running container (Podman)' },
    { name: 'filter', type: 'array', placeholder: 'KEY=VALUE', describe: 'With --all, or alone: only the containers ps --filter would show (name=, id=, status=, label=, ancestor=…)' },
  ],
};

export function parseSeconds(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new SkiffError(`invalid timeout "${text}": expected whole seconds`);
  return n;
}

export async function run(args: ParsedArgs): Promise<number> {
  const timeout = parseSeconds(flagString(args, 'time') ?? '10');
  const ignore = flagBool(args, 'ignore');
  const cidFiles = flagList(args, 'cidfile');
  const all = flagBool(args, 'all');
  const filters = flagList(args, 'filter');
  let refs: string[];
  if (all || filters.length > 0) {
    if (cidFiles.length > 0) throw new SkiffError('--all or --filter and --cidfile cannot be combined: give one or the other');
    refs = await containerRefs('stop', args.positionals, all, filters, ['running', 'paused']);
  } else {
    refs = [...args.positionals, ...idsFromCidFiles(cidFiles, ignore)];
    if (refs.length === 0 && cidFiles.length === 0) throw new SkiffError(`"skiff stop" requires at least 1 argument, or --all (see 'skiff stop --help')`);
  }
  return forEachRef(refs, async (ref) => {
    let record;
    try {
      record = resolveContainer(ref);
    } catch (err) {
      if (ignore && err instanceof SkiffError && err.reason === 'not-found') return undefined;
      throw err;
    }
    await stopContainer(record, timeout);
    return ref;
  }, missingExitCode);
}
