import { describe, expect, test } from 'vitest';
import { parseArgs, type CommandSpec } from '../../lib/cli/args.js';
import { spec as runSpec } from '../../lib/cli/commands/run.js';
import { SkiffError } from '../../lib/errors.js';

const parseRun = (argv: string[]) => parseArgs(runSpec, argv);

describe('the hot-path parser with run flags', () => {
  test('the first positional ends skiff flags: the rest is the container argv', () => {
    const a = parseRun(['--rootfs', 'R', 'ls', '-la', '/']);
    expect(a.flags['rootfs']).toBe('R');
    expect(a.positionals).toEqual(['ls', '-la', '/']);
  });

  test('flags after the command stay the command’s, even skiff’s own names', () => {
    const a = parseRun(['--rootfs=R', 'echo', '--rm', '-it', '--rootfs', 'x']);
    expect(a.flags['rm']).toBeUndefined();
    expect(a.positionals).toEqual(['echo', '--rm', '-it', '--rootfs', 'x']);
  });

  test('clustered short flags and attached values', () => {
    const a = parseRun(['-it', '-eA=1', '-e', 'B=2', '-uapp', '--rootfs', 'R', 'sh']);
    expect(a.flags['interactive']).toBe(true);
    expect(a.flags['tty']).toBe(true);
    expect(a.flags['env']).toEqual(['A=1', 'B=2']);
    expect(a.flags['user']).toBe('app');
  });

  test('-h is --hostname for run, and --help is help', () => {
    expect(parseRun(['-h', 'box', '--rootfs', 'R', 'true']).flags['hostname']).toBe('box');
    expect(parseRun(['--help']).help).toBe(true);
  });

  test('boolean values and --', () => {
    expect(parseRun(['--rm=false', '--rootfs', 'R', 'true']).flags['rm']).toBe(false);
    expect(parseRun(['--rootfs', 'R', '--', '-weird']).positionals).toEqual(['-weird']);
  });

  test('no --network means the default (private) network', () => {
    expect(parseRun(['--rootfs', 'R', 'true']).flags['network']).toBeUndefined();
  });

  test.each([
    [['--bogus'], "unknown flag: --bogus (see 'skiff run --help')"],
    [['-Z'], "unknown shorthand flag: 'Z' in -Z (see 'skiff run --help')"],
    [['--rootfs'], "flag needs an argument: --rootfs (see 'skiff run --help')"],
    [['-e'], "flag needs an argument: 'e' in -e (see 'skiff run --help')"],
    [['--rm=maybe'], `invalid value "maybe" for flag --rm: expected true or false (see 'skiff run --help')`],
  ])('%j is one clear error', (argv, message) => {
    expect(() => parseRun(argv)).toThrow(new SkiffError(message));
  });
});

describe('interspersed commands', () => {
  const spec: CommandSpec = {
    name: 'rm',
    summary: '',
    usage: '',
    positionals: 'interspersed',
    minPositionals: 1,
    maxPositionals: 2,
    flags: [{ name: 'force', short: 'f', type: 'boolean', describe: '' }],
  };
  test('flags anywhere', () => {
    const a = parseArgs(spec, ['a', '-f', 'b']);
    expect(a.flags['force']).toBe(true);
    expect(a.positionals).toEqual(['a', 'b']);
  });
  test('positional counts', () => {
    expect(() => parseArgs(spec, [])).toThrow('"skiff rm" requires at least 1 argument');
    expect(() => parseArgs(spec, ['a', 'b', 'c'])).toThrow('"skiff rm" accepts at most 2 arguments');
  });
});
