import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';
import { SkiffError } from '../../errors.js';
import { forEachRef, removalExitCode } from '../each.js';
import { removeContainer } from '../../containers/lifecycle.js';
import { listContainerIds, readRecord, resolveContainer, type ContainerRecord } from '../../containers/store.js';
import { flagList } from '../args.js';
import { idsFromCidFiles, removeStaleCidFiles } from '../cidfile.js';

export const spec: CommandSpec = {
  name: 'rm',
  summary: 'Remove one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  flags: [
    { name: 'force', short: 'f', type: 'boolean', describe: 'Kill a running container (SIGKILL at once, as Docker) and remove it' },
    { name: 'volumes', short: 'v', type: 'boolean', describe: 'Remove the container\'s anonymous volumes too (named volumes stay)' },
    { name: 'all', short: 'a', type: 'boolean', describe: 'Remove all containers (Podman)' },
    { name: 'ignore', short: 'i', type: 'boolean', describe: 'Ignore errors when a container does not exist (Podman)' },
    { name: 'time', short: 't', type: 'string', describe: 'Seconds to wait for a stop before SIGKILL with --force (Podman; default 0)', placeholder: 'SECONDS' },
    { name: 'cidfile', type: 'array', describe: 'Remove the container whose id run --cidfile wrote to FILE, and the file (Podman)', placeholder: 'FILE' },
    { name: 'depend', type: 'boolean', describe: 'Remove first the containers that joined its namespaces (--network/--ipc/--pid container:), recursively (Podman)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const force = flagBool(args, 'force');
  const ignore = flagBool(args, 'ignore');
  const cidFiles = flagList(args, 'cidfile');
  const refs = flagBool(args, 'all') ? listContainerIds() : [...args.positionals, ...idsFromCidFiles(cidFiles, ignore)];
  if (refs.length === 0 && !flagBool(args, 'all') && cidFiles.length === 0) throw new SkiffError(`"skiff rm" requires at least 1 argument (see 'skiff rm --help')`);
  const time = args.flags['time'];
  const { stopContainer } = await import('../../containers/lifecycle.js');
  const { parseSeconds } = await import('./stop.js');
  const grace = typeof time === 'string' ? parseSeconds(time) : 0;
  const depend = flagBool(args, 'depend');
  const { withDependents } = depend ? await import('../../containers/dependents.js') : { withDependents: undefined };
  const removed = new Set<string>();
  const remove = async (record: ContainerRecord) => {
    if (removed.has(record.Id)) return;
    if (force && grace > 0) await stopContainer(record, grace);
    await removeContainer(record, force, flagBool(args, 'volumes'));
    removed.add(record.Id);
  };
  const code = await forEachRef(refs, async (ref) => {
    let record;
    try {
      record = resolveContainer(ref);
    } catch (err) {
      if (ignore && err instanceof SkiffError && err.reason === 'not-found') return undefined;
      throw err;
    }
    if (removed.has(record.Id)) return undefined;
    // --depend: the dependents first, each printed by its id; a failure stops before the container they joined.
    if (withDependents) {
      for (const d of withDependents(record).filter((r) => r.Id !== record.Id && !removed.has(r.Id))) {
        await remove(d);
        process.stdout.write(`${d.Id}\n`);
      }
    }
    await remove(record);
    return flagBool(args, 'all') ? record.Id : ref;
  }, removalExitCode);
  removeStaleCidFiles(cidFiles, (id) => readRecord(id) !== undefined);
  return code;
}
