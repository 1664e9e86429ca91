// `skiff volume inspect VOLUME...`: Docker's JSON array, or a Go template per volume.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { printErrorLine } from '../error-line.js';

export const spec: CommandSpec = {
  name: 'volume inspect',
  summary: 'Display detailed information on one or more volumes',
  usage: '[OPTIONS] VOLUME [VOLUME...]  |  --all',
  positionals: 'interspersed',
  flags: [
    { name: 'format', short: 'f', type: 'string', describe: "Format the output: 'json' (default) or a Go template such as '{{.Mountpoint}}'", placeholder: 'FORMAT' },
    { name: 'all', short: 'a', type: 'boolean', describe: 'Inspect every volume (Podman)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const { parseFormat, executeFormat } = await import('../format.js');
  const parsed = format !== undefined && format !== 'json' ? parseFormat(format) : undefined;
  const all = flagBool(args, 'all');
  if (all && args.positionals.length > 0) throw new SkiffError('--all and volume names cannot be combined: give one or the other');
  if (!all && args.positionals.length === 0) throw new SkiffError(`"skiff volume inspect" requires at least 1 argument, or --all (see 'skiff volume inspect --help')`);
  const { getVolume, listVolumes } = await import('../../volumes/store.js');
  const found: unknown[] = [];
  const errors: SkiffError[] = [];
  for (const name of all ? listVolumes().map((v) => v.Name) : args.positionals) {
    const volume = getVolume(name);
    if (volume) found.push(volume);
    else errors.push(new SkiffError(`no such volume: ${name}`));
  }
  if (parsed) process.stdout.write(found.map((v) => `${executeFormat(parsed, v)}\n`).join(''));
  else process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
  for (const err of errors) printErrorLine(err.message);
  return errors.length > 0 ? errors[0]!.exitCode : 0;
}
