import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { attachContainer } from '../../containers/attach.js';
import { waitContainer } from '../../containers/lifecycle.js';
import { containerState } from '../../containers/state.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'attach',
  summary: "Attach your terminal's input and output to a running container",
  usage: '[OPTIONS] CONTAINER',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [
    { name: 'detach-keys', type: 'string', describe: 'Key sequence that detaches (default ctrl-p,ctrl-q)', placeholder: 'KEYS' },
    { name: 'no-stdin', type: 'boolean', describe: 'Do not attach stdin' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const record = resolveContainer(args.positionals[0]!);
  if (!containerState(record).Running) throw new SkiffError(`you cannot attach to a stopped container, start it first`);
  return attachContainer(record, {
    stdin: !flagBool(args, 'no-stdin') && record.Config.OpenStdin,
    detachKeys: flagString(args, 'detach-keys') ?? 'ctrl-p,ctrl-q',
    waitExit: () => waitContainer(record),
  });
}
