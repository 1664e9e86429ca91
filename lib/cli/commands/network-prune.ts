// `skiff network prune`: removes every network no container is on
// (--filter label=, label!=, until=), after a prompt unless -f.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList } from '../args.js';
import { SkiffError } from '../../errors.js';
import { confirm } from '../confirm.js';

export const spec: CommandSpec = {
  name: 'network prune',
  summary: 'Remove all networks no container uses',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    { name: 'force', short: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' },
    { name: 'filter', type: 'array', placeholder: 'FILTER', describe: 'Only networks that match: label=KEY[=VALUE], label!=KEY[=VALUE], until=TIME' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const { parseNetworkFilters } = await import('../../network/view.js');
  const filter = parseNetworkFilters(flagList(args, 'filter'), ['label', 'label!', 'until']);
  if (!flagBool(args, 'force')) {
    if (!confirm('WARNING! This will remove all networks not used by at least one container.\nAre you sure you want to continue?')) {
      throw new SkiffError('network prune has been cancelled');
    }
  }
  const { pruneNetworks } = await import('../../containers/network-users.js');
  const removed = await pruneNetworks((n) => filter(n, false));
  process.stdout.write(removed.map((n) => `${n}\n`).join(''));
  return 0;
}
