import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';
import { CREATE_FLAGS, CREATE_LIMIT_FLAGS, LIMIT_FLAGS, UNIT_FLAGS } from '../flags/create.js';
import { containerRequest } from './run.js';
import { createContainerFromRequest } from '../../containers/run.js';

export const spec: CommandSpec = {
  name: 'create',
  summary: 'Create a new container without starting it',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]  |  [OPTIONS] --rootfs DIR COMMAND [ARG...]',
  positionals: 'halt',
  flags: [{ name: 'rm', type: 'boolean', describe: 'Remove the container when it exits' }, ...CREATE_FLAGS, ...LIMIT_FLAGS, ...CREATE_LIMIT_FLAGS, ...UNIT_FLAGS],
};

export async function run(args: ParsedArgs): Promise<number> {
  const record = await createContainerFromRequest({ ...(await containerRequest({ ...args, command: 'create' })), autoRemove: flagBool(args, 'rm') });
  process.stdout.write(`${record.Id}\n`);
  return 0;
}
