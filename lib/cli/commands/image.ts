// `skiff image SUBCOMMAND`: Docker's management command for images,
// dispatching to the same modules as the top-level commands. `image prune`
// lives here, having no top-level twin.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { runSubcommand, type SubcommandTable } from '../subcommands.js';
import { confirm } from '../confirm.js';
import { flagBool, flagList } from '../args.js';
import { SkiffError } from '../../errors.js';
import { humanSize } from '../../humanize.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';

export const pruneSpec: CommandSpec = {
  name: 'image prune',
  summary: 'Remove unused images: dangling ones (no tag), or with -a every image no container uses',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    { name: 'all', short: 'a', type: 'boolean', describe: 'Remove all unused images, not just dangling ones' },
    { name: 'force', short: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' },
    { name: 'filter', type: 'array', placeholder: 'FILTER', describe: 'Only images created before until=TIME, or with (label=KEY[=VALUE]) or without (label!=KEY[=VALUE]) a label' },
  ],
};

export async function runPrune(args: ParsedArgs): Promise<number> {
  const store = await import('../../store/index.js');
  const filters = store.parsePruneFilters(flagList(args, 'filter')); // a bad filter fails before the prompt
  if (!inStoreNamespace()) return reexecInUserNamespace(process.argv.slice(2));
  const all = flagBool(args, 'all');
  if (!flagBool(args, 'force')) {
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!confirm(`${warning}\nAre you sure you want to continue?`)) throw new SkiffError('image prune has been cancelled');
  }
  const { containerUsage } = await import('../../containers/image-users.js');
  const s = store.openStoreForWriting();
  const lock = await store.lockStore(s.paths, 'exclusive', {
    onWait: () => process.stderr.write('Waiting for other skiff processes to finish with the image store...\n'),
  });
  try {
    const { events, reclaimed } = store.pruneImages(s, lock, { all, filters, ...containerUsage });
    let out = '';
    if (events.length > 0) out += `Deleted Images:\n${events.map((e) => `${e.kind}: ${e.value}\n`).join('')}\n`;
    process.stdout.write(`${out}Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  } finally {
    lock.release();
  }
}

const SUBCOMMANDS: SubcommandTable = {
  ls: () => import('./images.js'),
  list: () => import('./images.js'),
  rm: () => import('./rmi.js'),
  remove: () => import('./rmi.js'),
  inspect: () => import('./inspect.js'),
  tag: () => import('./tag.js'),
  untag: () => import('./untag.js'),
  history: () => import('./history.js'),
  pull: () => import('./pull.js'),
  push: () => import('./push.js'),
  save: () => import('./save.js'),
  load: () => import('./load.js'),
  import: () => import('./import.js'),
  exists: () => import('./image-exists.js'),
  build: () => import('./build.js'),
  prune: async () => ({ spec: pruneSpec, run: runPrune }),
};

export const spec: CommandSpec = {
  name: 'image',
  summary: 'Manage images',
  usage: `COMMAND (${Object.keys(SUBCOMMANDS).join(', ')})`,
  positionals: 'halt',
  minPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  return runSubcommand('image', SUBCOMMANDS, args);
}
