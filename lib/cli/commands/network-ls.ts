// `skiff network ls`: Podman's columns (NETWORK ID, NAME, DRIVER), -q,
// --filter (name=, id=, driver=, label=, label!=, dangling=, until=),
// --format (json: one object per line, as the other list commands; or a Go template), --no-trunc.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';

export const spec: CommandSpec = {
  name: 'network ls',
  aliases: ['network list'],
  summary: 'List networks',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    { name: 'filter', short: 'f', type: 'array', placeholder: 'FILTER', describe: 'Filter: name=REGEX, id=PREFIX, driver=bridge, label=KEY[=VALUE], label!=KEY[=VALUE], dangling=true|false, until=TIME' },
    { name: 'format', type: 'string', placeholder: 'FORMAT', describe: "Output format: 'json', or a Go template such as 'table {{.Name}}\\t{{.Subnets}}'" },
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'Only show network names' },
    { name: 'no-trunc', type: 'boolean', describe: 'Show full network IDs' },
  ],
};

const HEADERS: Record<string, string> = { ID: 'NETWORK ID' };

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const defaultTable = 'table {{.ID}}\\t{{.Name}}\\t{{.Driver}}';
  const template = format === undefined || format === 'table' ? defaultTable : format;
  const { parseFormat, renderParsedFormat } = await import('../format.js');
  const parsed = template !== 'json' ? parseFormat(template, { headers: HEADERS, defaultTable: defaultTable.slice(6) }) : undefined;
  const { listNetworks } = await import('../../network/networks.js');
  const { parseNetworkFilters, templateView } = await import('../../network/view.js');
  const filter = parseNetworkFilters(flagList(args, 'filter'), ['name', 'id', 'driver', 'label', 'label!', 'dangling', 'until']);
  const { networkUsers } = await import('../../containers/network-users.js');
  const users = networkUsers();
  const shown = listNetworks().filter((n) => filter(n, users.has(n.id)));
  if (flagBool(args, 'quiet')) {
    process.stdout.write(shown.map((n) => `${n.name}\n`).join(''));
    return 0;
  }
  // One object per line, as every other list command (user guide, "Docker and Podman differ").
  if (template === 'json') {
    process.stdout.write(shown.map((n) => `${JSON.stringify(n)}\n`).join(''));
    return 0;
  }
  const rows = shown.map((n) => templateView(n, { shortId: !flagBool(args, 'no-trunc') }));
  process.stdout.write(renderParsedFormat(parsed!, rows, { headers: HEADERS }));
  return 0;
}
