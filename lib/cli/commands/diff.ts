import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { containerChanges } from '../../containers/diff.js';
import { latestContainer, resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'diff',
  summary: "Inspect changes to files or directories on a container's filesystem",
  usage: '[OPTIONS] CONTAINER',
  positionals: 'interspersed',
  maxPositionals: 1,
  flags: [
    { name: 'format', type: 'string', describe: "Output format: 'json'", placeholder: 'FORMAT' },
    { name: 'latest', short: 'l', type: 'boolean', describe: 'The container created last (Podman)' },
  ],
};

const LETTER = ['C', 'A', 'D'] as const;

export async function run(args: ParsedArgs): Promise<number> {
  const latest = flagBool(args, 'latest');
  if (latest === (args.positionals.length === 1)) throw new SkiffError('give a container, or --latest (not both)');
  const record = latest ? latestContainer() : resolveContainer(args.positionals[0]!);
  const format = flagString(args, 'format');
  if (format !== undefined && format !== 'json') throw new SkiffError(`unsupported format "${format}": use json`);
  const changes = await containerChanges(record);
  if (format === 'json') process.stdout.write(`${JSON.stringify(changes)}\n`);
  else process.stdout.write(changes.map((c) => `${LETTER[c.Kind]} ${c.Path}\n`).join(''));
  return 0;
}
