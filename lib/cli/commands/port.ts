import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';
import { SkiffError } from '../../errors.js';
import { publishedPortsNow, resolveContainer } from '../../containers/store.js';
import { portLines } from '../../network/ports.js';

export const spec: CommandSpec = {
  name: 'port',
  summary: "List a container's published ports, or the host address of one",
  usage: '[OPTIONS] CONTAINER [PRIVATE_PORT[/PROTO]]',
  positionals: 'interspersed',
  maxPositionals: 2,
  flags: [{ name: 'all', short: 'a', type: 'boolean', describe: "Every running container's published ports, each line after its short id (Podman)" }],
};

export async function run(args: ParsedArgs): Promise<number> {
  if (flagBool(args, 'all')) {
    if (args.positionals.length > 0) throw new SkiffError('--all and a container cannot be combined: give one or the other');
    const { containersWhere } = await import('../../containers/filters.js');
    for (const id of containersWhere(new Set(['running']), [])) {
      const record = resolveContainer(id);
      for (const line of portLines(publishedPortsNow(record), undefined)) process.stdout.write(`${id.slice(0, 12)}\t${line}\n`);
    }
    return 0;
  }
  if (args.positionals.length === 0) throw new SkiffError(`"skiff port" requires a container, or --all (see 'skiff port --help')`);
  const [ref, filter] = args.positionals as [string, string | undefined];
  const record = resolveContainer(ref);
  const lines = portLines(publishedPortsNow(record), filter);
  // Docker's message and status for a port that is not published.
  if (filter !== undefined && lines.length === 0) throw new SkiffError(`no public port '${filter.includes('/') ? filter : `${filter}/tcp`}' published for ${record.Name}`, 1);
  for (const line of lines) process.stdout.write(`${line}\n`);
  return 0;
}
