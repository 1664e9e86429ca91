// `skiff volume prune`: removes the volumes no container uses; anonymous ones
// only unless -a, as Docker (since 23.0). Rootless it runs in the user
// namespace with the containers' mapping, where every file of a volume can be
// measured and removed.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList } from '../args.js';
import { SkiffError } from '../../errors.js';
import { humanSize } from '../../humanize.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';
import { confirm } from '../confirm.js';

export const spec: CommandSpec = {
  name: 'volume prune',
  summary: 'Remove unused volumes: anonymous ones, or with -a every volume no container uses',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    { name: 'all', short: 'a', type: 'boolean', describe: 'Remove named volumes too, not just anonymous ones' },
    { name: 'filter', type: 'array', placeholder: 'FILTER', describe: 'Only volumes that match: label=KEY[=VALUE], label!=KEY[=VALUE]' },
    { name: 'force', short: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const all = flagBool(args, 'all');
  const { parseVolumeFilters } = await import('../../volumes/filters.js');
  const filter = parseVolumeFilters(flagList(args, 'filter'), ['label', 'label!']);
  if (!inStoreNamespace()) return reexecInUserNamespace(process.argv.slice(2));
  if (!flagBool(args, 'force')) {
    const what = all ? 'all local volumes' : 'anonymous local volumes';
    if (!confirm(`WARNING! This will remove ${what} not used by at least one container.\nAre you sure you want to continue?`)) {
      throw new SkiffError('volume prune has been cancelled');
    }
  }
  const { pruneVolumes } = await import('../../volumes/prune.js');
  const { volumeUsers } = await import('../../containers/volume-users.js');
  const { deleted, reclaimed } = await pruneVolumes(volumeUsers(), { all, filter });
  let out = '';
  if (deleted.length > 0) out += `Deleted Volumes:\n${deleted.map((n) => `${n}\n`).join('')}\n`;
  process.stdout.write(`${out}Total reclaimed space: ${humanSize(reclaimed)}\n`);
  return 0;
}
