// `skiff import [-c INSTRUCTION…] [-m MSG] FILE|URL|- [REFERENCE]` (`image
// import`): parse, enter the store's user namespace (files get their owners
// there), hand over to lib/images/import.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { parsePlatform } from '../../images/platform.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';
import { applyConfigChanges } from '../../build/changes.js';
import { parseReference } from '../../oci/reference.js';

export const spec: CommandSpec = {
  name: 'import',
  aliases: ['image import'],
  summary: 'Import the contents from a tarball to create a filesystem image',
  usage: '[OPTIONS] FILE|URL|- [REPOSITORY[:TAG]]',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 2,
  flags: [
    { name: 'change', short: 'c', type: 'array', placeholder: 'INSTRUCTION', describe: 'Apply a Dockerfile instruction to the image: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL' },
    { name: 'message', short: 'm', type: 'string', placeholder: 'MESSAGE', describe: 'Set a commit message for the imported image' },
    { name: 'platform', type: 'string', placeholder: 'OS/ARCH[/VARIANT]', describe: "The image's platform (default: the host's)" },
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'Accepted for Podman scripts: import prints only the image id' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const [source, name] = args.positionals as [string, string | undefined];
  const changes = (args.flags['change'] as string[] | undefined) ?? [];
  const config = applyConfigChanges({}, changes); // bad input fails before any work
  if (name !== undefined) parseReference(name);
  const platformText = flagString(args, 'platform');
  const platform = platformText !== undefined ? parsePlatform(platformText) : undefined;
  if (!inStoreNamespace()) return reexecInUserNamespace(process.argv.slice(2));
  const { importImage } = await import('../../images/import.js');
  const message = flagString(args, 'message');
  const result = await importImage({
    source,
    config,
    ...(name !== undefined ? { name } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(platform ? { platform } : {}),
    warn: (line) => process.stderr.write(`skiff: warning: ${line}\n`),
  });
  process.stdout.write(`${result.id}\n`);
  return 0;
}
