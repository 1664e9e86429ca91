import type { CommandSpec, ParsedArgs } from '../args.js';
import { SkiffError } from '../../errors.js';
import { NAME_PATTERN } from '../../containers/names.js';
import { renameContainer, resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'rename',
  summary: 'Rename a container',
  usage: 'CONTAINER NEW_NAME',
  positionals: 'interspersed',
  minPositionals: 2,
  maxPositionals: 2,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  const [ref, newName] = args.positionals as [string, string];
  if (!NAME_PATTERN.test(newName)) throw new SkiffError(`invalid container name "${newName}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const record = resolveContainer(ref);
  if (record.Name === newName) throw new SkiffError(`renaming a container with the same name as its current name`);
  renameContainer(record, newName);
  return 0;
}
