// `skiff volume rm [-f] VOLUME...`: refused while a container uses the
// volume, as Docker's; -f removes one that only stopped containers use
// (they fail to start until it is made again), never one a running
// container has mounted. Exit 1 for a missing volume, 2 for one in use (Podman's).
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';
import { forEachRef, removalExitCode } from '../each.js';
import { EXIT_SKIFF_FAILED, SkiffError } from '../../errors.js';

export const spec: CommandSpec = {
  name: 'volume rm',
  aliases: ['volume remove'],
  summary: 'Remove one or more volumes',
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [{ name: 'force', short: 'f', type: 'boolean', describe: 'Remove a volume stopped containers use; no error for a missing one' }],
};

export async function run(args: ParsedArgs): Promise<number> {
  const force = flagBool(args, 'force');
  const { getVolume, removeVolumeFiles } = await import('../../volumes/store.js');
  const { volumeUsers } = await import('../../containers/volume-users.js');
  const users = volumeUsers();
  return forEachRef(args.positionals, async (name) => {
    if (!getVolume(name)) {
      if (force) return undefined;
      throw new SkiffError(`no such volume: ${name}`, EXIT_SKIFF_FAILED, 'not-found');
    }
    const using = users.get(name) ?? [];
    if (using.length > 0 && (!force || using.some((u) => u.running))) {
      const why = force ? 'a running container uses it' : 'volume is in use';
      throw new SkiffError(`remove ${name}: ${why} - [${using.map((u) => u.id).join(', ')}]`, EXIT_SKIFF_FAILED, 'conflict');
    }
    await removeVolumeFiles(name);
    return name;
  }, removalExitCode);
}
