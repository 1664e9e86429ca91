import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { containerChanges } from '../../containers/diff.js';
import { resolveContainer } from '../../containers/store.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';

export const spec: CommandSpec = {
  name: 'diff',
  summary: "Inspect changes to files or directories on a container's filesystem",
  usage: '[OPTIONS] CONTAINER',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [{ name: 'format', type: 'string', describe: "Output format: 'json'", placeholder: 'FORMAT' }],
};

const LETTER = ['C', 'A', 'D'] as const;

export async function run(args: ParsedArgs): Promise<number> {
  const record = resolveContainer(args.positionals[0]!);
  const format = flagString(args, 'format');
  if (format !== undefined && format !== 'json') throw new SkiffError(`unsupported format "${format}": use json`);
  // The upper dir holds files of the user's sub-IDs: read it where they are the user's.
  if (!inStoreNamespace()) return reexecInUserNamespace(process.argv.slice(2));
  const changes = containerChanges(record);
  if (format === 'json') process.stdout.write(`${JSON.stringify(changes)}\n`);
  else process.stdout.write(changes.map((c) => `${LETTER[c.Kind]} ${c.Path}\n`).join(''));
  return 0;
}
