// `skiff container SUBCOMMAND`: Docker's management command for containers,
// dispatching to the same modules as the top-level commands.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { runSubcommand, type SubcommandTable } from '../subcommands.js';

const SUBCOMMANDS: SubcommandTable = {
  ls: () => import('./ps.js'),
  list: () => import('./ps.js'),
  ps: () => import('./ps.js'),
  create: () => import('./create.js'),
  run: () => import('./run.js'),
  start: () => import('./start.js'),
  stop: () => import('./stop.js'),
  kill: () => import('./kill.js'),
  rm: () => import('./rm.js'),
  wait: () => import('./wait.js'),
  logs: () => import('./logs.js'),
  attach: () => import('./attach.js'),
  exec: () => import('./exec.js'),
  rename: () => import('./rename.js'),
  restart: () => import('./restart.js'),
  prune: () => import('./container-prune.js'),
  pause: () => import('./pause.js'),
  top: () => import('./top.js'),
  diff: () => import('./diff.js'),
  cp: () => import('./cp.js'),
  export: () => import('./export.js'),
  unpause: () => import('./unpause.js'),
  update: () => import('./update.js'),
  stats: () => import('./stats.js'),
  inspect: () => import('./container-inspect.js'),
  commit: () => import('./commit.js'),
  exists: () => import('./container-exists.js'),
  cleanup: () => import('./container-cleanup.js'),
};

export const spec: CommandSpec = {
  name: 'container',
  summary: 'Manage containers',
  usage: `COMMAND (${Object.keys(SUBCOMMANDS).join(', ')})`,
  positionals: 'halt',
  minPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  return runSubcommand('container', SUBCOMMANDS, args);
}
