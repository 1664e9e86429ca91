// Help text, rendered by yargs from the same flag tables that args.ts parses.
// Loaded only when help is asked for, so yargs costs nothing on the hot path.
import type { CommandSpec } from './args.js';
import { flagsWithHelp } from './args.js';
import type { CommandEntry } from './command.js';
import { GLOBAL_OPTIONS_HELP } from './global-options.js';

async function loadYargs() {
  const { default: yargs } = await import('yargs');
  return yargs;
}

export async function printCommandHelp(spec: CommandSpec): Promise<void> {
  const yargs = await loadYargs();
  const y = yargs([])
    .scriptName('skiff')
    .usage(`Usage: skiff ${spec.name} ${spec.usage}\n\n${spec.summary}`)
    .version(false)
    .help(false)
    .wrap(Math.min(100, process.stdout.columns ?? 100));
  if (spec.aliases?.length) y.epilogue(`Aliases: ${[spec.name, ...spec.aliases].join(', ')}`);
  for (const f of flagsWithHelp(spec)) {
    if (f.hidden) continue;
    y.option(f.name, {
      alias: [...(f.short ? [f.short] : []), ...(f.aliases ?? [])],
      type: f.type === 'array' ? 'array' : f.type,
      describe: f.describe,
      requiresArg: f.type !== 'boolean',
      ...(f.placeholder ? { defaultDescription: undefined } : {}),
    });
  }
  process.stdout.write(`${await y.getHelp()}\n`);
}

export async function printMainHelp(commands: CommandEntry[]): Promise<void> {
  const yargs = await loadYargs();
  const y = yargs([])
    .scriptName('skiff')
    .usage('Usage: skiff [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARG...]\n\nA daemonless, rootless container engine')
    .version(false)
    .help(false)
    .wrap(Math.min(100, process.stdout.columns ?? 100));
  for (const c of commands) y.command(c.name, c.summary);
  for (const o of GLOBAL_OPTIONS_HELP) y.option(o.name, { type: o.type, describe: o.describe, requiresArg: o.type !== 'boolean' });
  y.option('version', { alias: 'v', type: 'boolean', describe: 'Print the version and exit' });
  y.option('help', { alias: 'h', type: 'boolean', describe: 'Show help' });
  y.epilogue("Run 'skiff COMMAND --help' for more information on a command.");
  process.stdout.write(`${await y.getHelp()}\n`);
}
