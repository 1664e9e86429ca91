// Issue 16: --help on every command and subcommand, and -h wherever the
// command does not use -h for something else (run -h is --hostname, as in
// Docker), read from the same tables the CLI parses with; and the global
// option parser's rules.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { CommandModule } from '../../lib/cli/command.js';
import { flagsWithHelp, parseArgs, type CommandSpec } from '../../lib/cli/args.js';
import { COMMANDS } from '../../lib/cli/commands.js';
import { parseGlobalOptions } from '../../lib/cli/global-options.js';

/** Every command module's spec: the top-level commands and every group's subcommands (one file each). */
async function allSpecs(): Promise<CommandSpec[]> {
  const dir = path.resolve(import.meta.dirname, '../../lib/cli/commands');
  const specs: CommandSpec[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    const mod = (await import(path.join(dir, file))) as CommandModule;
    specs.push(mod.spec);
  }
  return specs;
}

describe('--help and -h everywhere', () => {
  test('every command parses --help, and -h unless it has a -h of its own', async () => {
    const specs = await allSpecs();
    expect(specs.length).toBeGreaterThan(50);
    for (const spec of specs) {
      expect(parseArgs(spec, ['--help']).help, spec.name).toBe(true);
      const own = spec.flags.find((f) => f.short === 'h');
      if (own) expect(flagsWithHelp(spec).find((f) => f.name === 'help')?.short).toBeUndefined();
      else expect(parseArgs(spec, ['-h']).help, spec.name).toBe(true);
    }
  });

  test('every top-level command is one of those modules', async () => {
    for (const entry of COMMANDS) expect(parseArgs((await entry.load()).spec, ['--help']).help, entry.name).toBe(true);
  });
});

describe('global options', () => {
  test('stop at the command and at --help; --version stops at once', () => {
    expect(parseGlobalOptions(['ps', '--root', 'x'])).toEqual({ next: 0, version: false });
    expect(parseGlobalOptions(['--help', 'ps'])).toEqual({ next: 0, version: false });
    expect(parseGlobalOptions(['--version'])).toEqual({ next: 0, version: true });
  });

  test('--log-level: an unknown level is exit 1, as Podman', () => {
    let code: number | undefined;
    try {
      parseGlobalOptions(['--log-level', 'trace', 'ps']);
    } catch (err) {
      code = (err as { exitCode: number }).exitCode;
    }
    expect(code).toBe(1);
  });
});
