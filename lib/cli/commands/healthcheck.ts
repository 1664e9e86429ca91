// `skiff healthcheck SUBCOMMAND` (Podman's): run.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { runSubcommand, type SubcommandTable } from '../subcommands.js';

const SUBCOMMANDS: SubcommandTable = {
  run: () => import('./healthcheck-run.js'),
};

export const spec: CommandSpec = {
  name: 'healthcheck',
  summary: 'Manage healthchecks on containers',
  usage: `COMMAND (${Object.keys(SUBCOMMANDS).join(', ')})`,
  positionals: 'halt',
  minPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  return runSubcommand('healthcheck', SUBCOMMANDS, args);
}
