// Docker's management commands (`container …`, `image …`): one dispatch for
// all of them, to the same modules as the top-level commands.
import type { CommandModule } from './command.js';
import { parseArgs, type ParsedArgs } from './args.js';
import { SkiffError } from '../errors.js';

export type SubcommandTable = Record<string, () => Promise<CommandModule>>;

export async function runSubcommand(group: string, table: SubcommandTable, args: ParsedArgs): Promise<number> {
  const [name, ...rest] = args.positionals;
  const load = Object.hasOwn(table, name!) ? table[name!] : undefined;
  if (!load) throw new SkiffError(`unknown command "${name}" for "skiff ${group}" (see 'skiff ${group} --help')`);
  const mod = await load();
  const named = { ...mod.spec, name: `${group} ${name}` };
  const sub = parseArgs(named, mod.normalizeArgv ? mod.normalizeArgv(rest) : rest);
  if (sub.help) {
    const { printCommandHelp } = await import('./help.js');
    await printCommandHelp(named);
    return 0;
  }
  return mod.run({ ...sub, command: `${group} ${name}` });
}
