// `skiff commit [OPTIONS] CONTAINER [IMAGE]` (`container commit`): parse,
// enter the store's user namespace (the container's files and the new layer
// belong to sub-IDs), hand over to lib/build/commit.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';
import { applyConfigChanges } from '../../build/changes.js';
import { parseReference } from '../../oci/reference.js';

export const spec: CommandSpec = {
  name: 'commit',
  aliases: ['container commit'],
  summary: "Create a new image from a container's changes",
  usage: '[OPTIONS] CONTAINER [IMAGE]',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 2,
  flags: [
    { name: 'author', short: 'a', type: 'string', placeholder: 'AUTHOR', describe: 'Author (e.g. "Jane Doe <jane@example.com>")' },
    { name: 'message', short: 'm', type: 'string', placeholder: 'MESSAGE', describe: 'Commit message' },
    { name: 'change', short: 'c', type: 'array', placeholder: 'INSTRUCTION', describe: 'Apply a Dockerfile instruction to the image: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL' },
    { name: 'pause', short: 'p', type: 'boolean', describe: 'Freeze the container while it is committed (default: when it has a cgroup to freeze)' },
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'No progress, only the image id' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const [container, image] = args.positionals as [string, string | undefined];
  const changes = (args.flags['change'] as string[] | undefined) ?? [];
  // Bad input fails here, before any work.
  applyConfigChanges({}, changes);
  if (image !== undefined) parseReference(image);
  if (!inStoreNamespace()) return reexecInUserNamespace(process.argv.slice(2));

  const quiet = flagBool(args, 'quiet');
  const pause = args.flags['pause'];
  const author = flagString(args, 'author');
  const message = flagString(args, 'message');
  const { commitContainer } = await import('../../build/commit.js');
  const result = await commitContainer(container, {
    changes,
    pause: typeof pause === 'boolean' ? pause : 'if-possible',
    ...(author !== undefined ? { author } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(image !== undefined ? { name: image } : {}),
    ...(quiet ? {} : { progress: (line: string) => process.stderr.write(`${line}\n`) }),
    warn: (line) => process.stderr.write(`skiff: warning: ${line}\n`),
  });
  process.stdout.write(`${result.id}\n`);
  return 0;
}
