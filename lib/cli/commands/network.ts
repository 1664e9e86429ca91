// `skiff network SUBCOMMAND`: Docker's and Podman's management command for user-defined networks.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { runSubcommand, type SubcommandTable } from '../subcommands.js';

const SUBCOMMANDS: SubcommandTable = {
  create: () => import('./network-create.js'),
  ls: () => import('./network-ls.js'),
  list: () => import('./network-ls.js'),
  inspect: () => import('./network-inspect.js'),
  rm: () => import('./network-rm.js'),
  remove: () => import('./network-rm.js'),
  prune: () => import('./network-prune.js'),
  exists: () => import('./network-exists.js'),
  connect: () => import('./network-connect.js'),
  disconnect: () => import('./network-disconnect.js'),
};

export const spec: CommandSpec = {
  name: 'network',
  summary: 'Manage networks',
  usage: `COMMAND (${Object.keys(SUBCOMMANDS).join(', ')})`,
  positionals: 'halt',
  minPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  return runSubcommand('network', SUBCOMMANDS, args);
}
