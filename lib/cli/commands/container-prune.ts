import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList } from '../args.js';
import { SkiffError } from '../../errors.js';
import { humanSize } from '../../humanize.js';
import { parseContainerPruneFilters, pruneContainers } from '../../containers/prune.js';

export const spec: CommandSpec = {
  name: 'container prune',
  summary: 'Remove all stopped containers',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    { name: 'force', short: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' },
    { name: 'filter', type: 'array', placeholder: 'FILTER', describe: 'Only containers created before until=TIME, or with (label=KEY[=VALUE]) or without (label!=KEY[=VALUE]) a label' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const filters = parseContainerPruneFilters(flagList(args, 'filter'));
  if (!flagBool(args, 'force')) {
    if (!process.stdin.isTTY) throw new SkiffError('container prune asks for confirmation: use --force when stdin is not a terminal');
    process.stderr.write('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
    const answer = await new Promise<string>((resolve) => process.stdin.once('data', (d) => resolve(String(d).trim())));
    process.stdin.destroy();
    if (!/^y(es)?$/i.test(answer)) return 0;
  }
  const { removed, bytes } = await pruneContainers(filters);
  if (removed.length) process.stdout.write(`Deleted Containers:\n${removed.map((id) => `${id}\n`).join('')}\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(bytes)}\n`);
  return 0;
}
