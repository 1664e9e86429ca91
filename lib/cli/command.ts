import type { CommandSpec, ParsedArgs } from './args.js';

/** What every file in lib/cli/commands exports. */
export interface CommandModule {
  spec: CommandSpec;
  /** Runs the command; resolves to the process exit code. */
  run(args: ParsedArgs): Promise<number>;
  /** Rewrites the command's argv before parsing (build's bare --pull, an optional value). */
  normalizeArgv?(argv: string[]): string[];
}

export interface CommandEntry {
  name: string;
  aliases?: string[];
  summary: string;
  load(): Promise<CommandModule>;
}
