// `skiff rmi [-f] [--no-prune] IMAGE…` (`image rm`): untag or delete, as Docker
// does (with the deleted image's untagged parents), then remove the layers
// and blobs nothing uses any more.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';
import { removalExitCode } from '../each.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';

export const spec: CommandSpec = {
  name: 'rmi',
  aliases: ['image rm', 'image remove'],
  summary: 'Remove one or more images',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [
    { name: 'force', short: 'f', type: 'boolean', describe: 'Remove the image even when it has several names or a stopped container uses it' },
    { name: 'no-prune', type: 'boolean', describe: 'Do not delete untagged parents (the steps of a build)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  // Layers hold files owned by sub-IDs: only the user namespace can delete them.
  if (!inStoreNamespace()) return reexecInUserNamespace(process.argv.slice(2));
  const store = await import('../../store/index.js');
  const { containerUsage } = await import('../../containers/image-users.js');
  const s = store.openStoreForWriting();
  const lock = await store.lockStore(s.paths, 'exclusive', {
    onWait: () => process.stderr.write('Waiting for other skiff processes to finish with the image store...\n'),
  });
  try {
    const result = await store.removeImages(s, lock, args.positionals, { force: flagBool(args, 'force'), noPrune: flagBool(args, 'no-prune'), ...containerUsage });
    const label = { untagged: 'Untagged', deleted: 'Deleted' } as const;
    process.stdout.write(result.events.map((e) => `${label[e.kind]}: ${e.value}\n`).join(''));
    for (const err of result.errors) process.stderr.write(`skiff: ${err.message}\n`);
    return result.errors.length > 0 ? removalExitCode(result.errors[0]!) : 0;
  } finally {
    lock.release();
  }
}
