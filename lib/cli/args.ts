// The command-line parser of the hot path. yargs renders help (see help.ts),
// but loading it costs 80-140 ms per invocation (design.md, decision 8), so
// argv is parsed here from the same declarative flag tables. It also gets
// Docker's rule exactly right: for `run` and `exec` the first positional ends
// skiff's flags and everything after it is the container's argv.
import { SkiffError } from '../errors.js';

export type FlagType = 'boolean' | 'string' | 'array';

export interface FlagSpec {
  name: string;
  short?: string;
  aliases?: string[];
  type: FlagType;
  describe: string;
  /** Shown in help, e.g. "KEY=VALUE". */
  placeholder?: string;
  default?: string | boolean;
  hidden?: boolean;
}

export interface CommandSpec {
  name: string;
  aliases?: string[];
  summary: string;
  /** The part of the usage line after "skiff <name>". */
  usage: string;
  flags: FlagSpec[];
  /** 'halt': the first positional ends option parsing (run, exec). */
  positionals: 'halt' | 'interspersed';
  minPositionals?: number;
  maxPositionals?: number;
}

export type FlagValue = boolean | string | string[];

export interface ParsedArgs {
  flags: Record<string, FlagValue | undefined>;
  positionals: string[];
  help: boolean;
  /** The command's name, for messages, when a caller sets it. */
  command?: string;
}

export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'boolean', describe: 'Show help for this command' };

/** The command's flags plus --help, which gets -h only where the command leaves it free (run -h is --hostname, as in Docker). */
export function flagsWithHelp(spec: CommandSpec): FlagSpec[] {
  const shortTaken = spec.flags.some((f) => f.short === 'h');
  return [...spec.flags, shortTaken ? { ...HELP_FLAG, short: undefined } : HELP_FLAG];
}

function usageError(spec: CommandSpec, message: string): SkiffError {
  return new SkiffError(`${message} (see 'skiff ${spec.name} --help')`);
}

function parseBoolean(spec: CommandSpec, flag: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw usageError(spec, `invalid value "${value}" for flag ${flag}: expected true or false`);
}

export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const f of flagsWithHelp(spec)) {
    byLong.set(f.name, f);
    for (const a of f.aliases ?? []) byLong.set(a, f);
    if (f.short) byShort.set(f.short, f);
  }
  const flags: Record<string, FlagValue | undefined> = {};
  for (const f of spec.flags) if (f.default !== undefined) flags[f.name] = f.default;
  const positionals: string[] = [];

  const set = (f: FlagSpec, value: string | boolean): void => {
    if (f.type === 'array') {
      const prev = flags[f.name];
      flags[f.name] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else {
      flags[f.name] = value;
    }
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const f = byLong.get(name);
      if (!f) throw usageError(spec, `unknown flag: --${name}`);
      if (f.type === 'boolean') {
        set(f, eq === -1 ? true : parseBoolean(spec, `--${name}`, arg.slice(eq + 1)));
      } else if (eq !== -1) {
        set(f, arg.slice(eq + 1));
      } else {
        if (i + 1 >= argv.length) throw usageError(spec, `flag needs an argument: --${name}`);
        set(f, argv[++i]!);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // A cluster of short flags: -it, -e KEY=V, -eKEY=V, -p8080:80.
      for (let j = 1; j < arg.length; j++) {
        const ch = arg[j]!;
        const f = byShort.get(ch);
        if (!f) throw usageError(spec, `unknown shorthand flag: '${ch}' in ${arg}`);
        if (f.type === 'boolean') {
          if (arg[j + 1] === '=') {
            set(f, parseBoolean(spec, `-${ch}`, arg.slice(j + 2)));
            break;
          }
          set(f, true);
          continue;
        }
        const rest = arg.slice(j + 1);
        if (rest.length > 0) {
          set(f, rest.startsWith('=') ? rest.slice(1) : rest);
        } else {
          if (i + 1 >= argv.length) throw usageError(spec, `flag needs an argument: '${ch}' in ${arg}`);
          set(f, argv[++i]!);
        }
        break;
      }
      continue;
    }
    positionals.push(arg);
    if (spec.positionals === 'halt') {
      i++;
      break;
    }
  }
  positionals.push(...argv.slice(i));

  const help = flags['help'] === true;
  delete flags['help'];
  if (!help) {
    if (spec.minPositionals !== undefined && positionals.length < spec.minPositionals) {
      throw usageError(spec, `"skiff ${spec.name}" requires at least ${spec.minPositionals} argument${spec.minPositionals === 1 ? '' : 's'}`);
    }
    if (spec.maxPositionals !== undefined && positionals.length > spec.maxPositionals) {
      throw usageError(spec, `"skiff ${spec.name}" accepts at most ${spec.maxPositionals} argument${spec.maxPositionals === 1 ? '' : 's'}`);
    }
  }
  return { flags, positionals, help };
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function flagBool(args: ParsedArgs, name: string): boolean {
  return args.flags[name] === true;
}

export function flagList(args: ParsedArgs, name: string): string[] {
  const v = args.flags[name];
  return Array.isArray(v) ? v : [];
}
