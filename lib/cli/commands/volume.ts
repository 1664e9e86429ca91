// `skiff volume SUBCOMMAND`: Docker's management command for volumes.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { runSubcommand, type SubcommandTable } from '../subcommands.js';

const SUBCOMMANDS: SubcommandTable = {
  create: () => import('./volume-create.js'),
  ls: () => import('./volume-ls.js'),
  list: () => import('./volume-ls.js'),
  inspect: () => import('./volume-inspect.js'),
  rm: () => import('./volume-rm.js'),
  remove: () => import('./volume-rm.js'),
  prune: () => import('./volume-prune.js'),
  exists: () => import('./volume-exists.js'),
};

export const spec: CommandSpec = {
  name: 'volume',
  summary: 'Manage volumes',
  usage: `COMMAND (${Object.keys(SUBCOMMANDS).join(', ')})`,
  positionals: 'halt',
  minPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  return runSubcommand('volume', SUBCOMMANDS, args);
}
