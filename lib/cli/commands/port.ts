import type { CommandSpec, ParsedArgs } from '../args.js';
import { SkiffError } from '../../errors.js';
import { resolveContainer } from '../../containers/store.js';
import { portLines } from '../../network/ports.js';

export const spec: CommandSpec = {
  name: 'port',
  summary: "List a container's published ports, or the host address of one",
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 2,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  const [ref, filter] = args.positionals as [string, string | undefined];
  const record = resolveContainer(ref);
  const lines = portLines(record.Network?.Ports ?? [], filter);
  // Docker's message and status for a port that is not published.
  if (filter !== undefined && lines.length === 0) throw new SkiffError(`no public port '${filter.includes('/') ? filter : `${filter}/tcp`}' published for ${record.Name}`, 1);
  for (const line of lines) process.stdout.write(`${line}\n`);
  return 0;
}
