// `skiff save [-o FILE] [--format F] IMAGE…` (`image save`): parse, enter the
// store's user namespace when the layers hold files the user cannot read
// (they belong to sub-IDs), hand over to lib/images/save.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';

const FORMATS = ['docker-archive', 'oci-archive', 'oci-dir', 'docker-dir'] as const;

export const spec: CommandSpec = {
  name: 'save',
  aliases: ['image save'],
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [
    { name: 'output', short: 'o', type: 'string', placeholder: 'FILE', describe: 'Write to a file (a directory for oci-dir and docker-dir), instead of STDOUT' },
    { name: 'format', type: 'string', placeholder: 'FORMAT', describe: `One of ${FORMATS.join(', ')} (default docker-archive)` },
    { name: 'multi-image-archive', short: 'm', type: 'boolean', describe: "Podman's flag: several images in one archive, which skiff's archives always allow" },
    { name: 'compress', type: 'boolean', describe: 'gzip the layers of oci-dir and docker-dir' },
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'Accepted for Podman scripts: save prints no progress' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format') ?? 'docker-archive';
  if (!(FORMATS as readonly string[]).includes(format)) throw new SkiffError(`invalid --format "${format}": use ${FORMATS.join(', ')}`);
  const output = flagString(args, 'output');
  if (output === undefined && process.stdout.isTTY && !format.endsWith('-dir')) {
    throw new SkiffError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  }
  const { canSaveAsUser, saveImages } = await import('../../images/save.js');
  // Rootless, as the user when every file is the user's to read (most images: their root's files are the user's own).
  if (!inStoreNamespace() && !(await canSaveAsUser(args.positionals, { compress: flagBool(args, 'compress') }))) return reexecInUserNamespace(process.argv.slice(2));
  await saveImages(args.positionals, {
    format: format as (typeof FORMATS)[number],
    ...(output !== undefined ? { output } : {}),
    compress: flagBool(args, 'compress'),
  });
  return 0;
}
