import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { exportContainer } from '../../containers/copy.js';

export const spec: CommandSpec = {
  name: 'export',
  summary: "Export a container's filesystem as a tar archive",
  usage: '[OPTIONS] CONTAINER',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [{ name: 'output', short: 'o', type: 'string', describe: 'Write to a file, instead of STDOUT', placeholder: 'FILE' }],
};

export async function run(args: ParsedArgs): Promise<number> {
  await exportContainer(args.positionals[0]!, flagString(args, 'output'));
  return 0;
}
