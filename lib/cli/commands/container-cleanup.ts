// `skiff container cleanup [--all] [--rm] CONTAINER…` (Podman's): release what
// a stopped container holds outside its directory (lib/containers/cleanup.ts).
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';
import { containerRefs, forEachRef } from '../each.js';
import { cleanupContainer } from '../../containers/cleanup.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'container cleanup',
  summary: 'Release the runtime files and cgroup of stopped containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  flags: [
    { name: 'all', short: 'a', type: 'boolean', describe: 'Clean up every stopped container' },
    { name: 'rm', type: 'boolean', describe: 'Remove the container after cleaning it up' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const refs = await containerRefs('container cleanup', args.positionals, flagBool(args, 'all'), [], ['created', 'exited']);
  return forEachRef(refs, async (ref) => {
    const record = resolveContainer(ref);
    await cleanupContainer(record, { remove: flagBool(args, 'rm') });
    return record.Id;
  });
}
