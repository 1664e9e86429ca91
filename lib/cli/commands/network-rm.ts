// `skiff network rm [-f] NETWORK...`: refused while containers are on the
// network (exit 2, Podman's); -f removes them first. Exit 1 for a missing one.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { forEachRef, removalExitCode } from '../each.js';
import { SkiffError } from '../../errors.js';

export const spec: CommandSpec = {
  name: 'network rm',
  aliases: ['network remove'],
  summary: 'Remove one or more networks',
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [
    { name: 'force', short: 'f', type: 'boolean', describe: 'Remove the containers on the network too' },
    { name: 'time', short: 't', type: 'string', describe: 'Seconds to wait for a running container to stop before killing it (with -f)', placeholder: 'SECONDS' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const force = flagBool(args, 'force');
  const time = flagString(args, 'time');
  if (time !== undefined && !/^\d{1,6}$/.test(time)) throw new SkiffError(`invalid --time "${time}": expected a number of seconds`);
  const { removeNetwork } = await import('../../containers/network-users.js');
  return forEachRef(args.positionals, (ref) => removeNetwork(ref, { force, ...(time !== undefined ? { stopTimeout: Number(time) } : {}) }), removalExitCode);
}
