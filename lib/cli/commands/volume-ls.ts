// `skiff volume ls`: Docker's columns (DRIVER, VOLUME NAME), -q, --filter
// (name=, label=, dangling=, driver=), --format (json or a Go template).
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';

export const spec: CommandSpec = {
  name: 'volume ls',
  aliases: ['volume list'],
  summary: 'List volumes',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    { name: 'filter', short: 'f', type: 'array', placeholder: 'FILTER', describe: 'Filter: name=TEXT, label=KEY[=VALUE], dangling=true|false, driver=local' },
    { name: 'format', type: 'string', placeholder: 'FORMAT', describe: "Output format: 'json', or a Go template such as 'table {{.Name}}\\t{{.Mountpoint}}'" },
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'Only show volume names' },
    { name: 'noheading', type: 'boolean', describe: 'Do not print the header row of a table (Podman)' },
  ],
};

const HEADERS: Record<string, string> = { Name: 'VOLUME NAME' };

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const defaultTable = 'table {{.Driver}}\\t{{.Name}}';
  const template = format === undefined || format === 'table' ? defaultTable : format;
  const { parseFormat, renderParsedFormat } = await import('../format.js');
  const parsed = template !== 'json' ? parseFormat(template, { headers: HEADERS, defaultTable: defaultTable.slice(6) }) : undefined;
  const { listVolumes } = await import('../../volumes/store.js');
  const { parseVolumeFilters } = await import('../../volumes/filters.js');
  const { volumeUsers } = await import('../../containers/volume-users.js');
  const filter = parseVolumeFilters(flagList(args, 'filter'), ['name', 'label', 'dangling', 'driver']);
  const users = volumeUsers();
  const shown = listVolumes().filter((v) => filter(v, users.has(v.Name)));
  if (flagBool(args, 'quiet')) {
    process.stdout.write(shown.map((v) => `${v.Name}\n`).join(''));
    return 0;
  }
  // Docker's row: Labels as one "k=v,k=v" string; Links, the containers using it; Size only from system df.
  const rows = shown.map((v) => ({
    Driver: v.Driver,
    Labels: Object.entries(v.Labels).map(([k, val]) => `${k}=${val}`).join(','),
    Links: String(users.get(v.Name)?.length ?? 0),
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Scope: v.Scope,
    Size: 'N/A',
  }));
  if (template === 'json') process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  else process.stdout.write(renderParsedFormat(parsed!, rows, { headers: HEADERS, noHeading: flagBool(args, 'noheading') }));
  return 0;
}
