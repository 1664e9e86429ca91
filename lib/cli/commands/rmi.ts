// `skiff rmi [-f] [--no-prune] IMAGE…` (`image rm`): untag or delete, as Docker
// does (with the deleted image's untagged parents), then remove the layers
// and blobs nothing uses any more.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';
import { removalExitCode } from '../each.js';
import { SkiffError } from '../../errors.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';
import { printErrorLine } from '../error-line.js';

export const spec: CommandSpec = {
  name: 'rmi',
  aliases: ['image rm', 'image remove'],
  summary: 'Remove one or more images',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  positionals: 'interspersed',
  flags: [
    { name: 'force', short: 'f', type: 'boolean', describe: 'Remove the image even when it has several names or a stopped container uses it' },
    { name: 'no-prune', type: 'boolean', describe: 'Do not delete untagged parents (the steps of a build)' },
    { name: 'all', short: 'a', type: 'boolean', describe: 'Remove every image (with -f, those containers use too)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const all = flagBool(args, 'all');
  if (all && args.positionals.length > 0) throw new SkiffError('--all and image names cannot be combined: give one or the other');
  if (!all && args.positionals.length === 0) throw new SkiffError(`"skiff rmi" requires at least 1 argument, or --all (see 'skiff rmi --help')`);
  // Layers hold files owned by sub-IDs: only the user namespace can delete them.
  if (!inStoreNamespace()) return reexecInUserNamespace(process.argv.slice(2));
  const store = await import('../../store/index.js');
  const { containerUsage } = await import('../../containers/image-users.js');
  const s = store.openStoreForWriting();
  const lock = await store.lockStore(s.paths, 'exclusive', {
    onWait: () => process.stderr.write('Waiting for other skiff processes to finish with the image store...\n'),
  });
  try {
    // --all: every image, by id; one that went with an image before it (an unnamed parent) is no error.
    const refs = all ? store.listImageRecords(s.paths).map((r) => r.id) : args.positionals;
    const result = await store.removeImages(s, lock, refs, { force: flagBool(args, 'force'), noPrune: flagBool(args, 'no-prune'), everyName: all, ...containerUsage });
    if (all) result.errors = result.errors.filter((e) => e.reason !== 'not-found');
    const label = { untagged: 'Untagged', deleted: 'Deleted' } as const;
    process.stdout.write(result.events.map((e) => `${label[e.kind]}: ${e.value}\n`).join(''));
    for (const err of result.errors) printErrorLine(err.message);
    return result.errors.length > 0 ? removalExitCode(result.errors[0]!) : 0;
  } finally {
    lock.release();
  }
}
