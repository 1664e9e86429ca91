// `skiff buildx build`: Docker's Buildx spelling of build, where the flags agree.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { runSubcommand, type SubcommandTable } from '../subcommands.js';

export const spec: CommandSpec = {
  name: 'buildx',
  summary: 'Docker Buildx: buildx build is build',
  usage: 'build [OPTIONS] PATH | -',
  positionals: 'halt',
  minPositionals: 1,
  flags: [],
};

const SUBCOMMANDS: SubcommandTable = {
  build: () => import('./build.js'),
};

export function run(args: ParsedArgs): Promise<number> {
  return runSubcommand('buildx', SUBCOMMANDS, args);
}
