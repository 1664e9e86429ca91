// `skiff container SUBCOMMAND`: Docker's management command for containers,
// dispatching to the same modules as the top-level commands.
import type { CommandModule } from '../command.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { parseArgs } from '../args.js';
import { SkiffError } from '../../errors.js';

const SUBCOMMANDS: Record<string, () => Promise<CommandModule>> = {
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
  unpause: () => import('./unpause.js'),
  inspect: () => import('./container-inspect.js'),
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
  const [name, ...rest] = args.positionals;
  const load = SUBCOMMANDS[name!];
  if (!load) throw new SkiffError(`unknown command "${name}" for "skiff container" (see 'skiff container --help')`);
  const mod = await load();
  const sub = parseArgs(mod.spec, rest);
  if (sub.help) {
    const { printCommandHelp } = await import('../help.js');
    await printCommandHelp({ ...mod.spec, name: `container ${name}` });
    return 0;
  }
  return mod.run(sub);
}
