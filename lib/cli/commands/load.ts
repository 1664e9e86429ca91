// `skiff load [-i FILE] [-q]` (`image load`): parse, enter the store's user
// namespace (layers get their owners there), hand over to lib/images/load.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';

export const spec: CommandSpec = {
  name: 'load',
  aliases: ['image load'],
  summary: 'Load images from a tar archive (docker-archive or oci-archive, compressed or not) or STDIN',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    { name: 'input', short: 'i', type: 'string', placeholder: 'FILE', describe: 'Read from a file, instead of STDIN' },
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'No progress, only the images loaded' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  if (!inStoreNamespace()) return reexecInUserNamespace(process.argv.slice(2));
  const { loadImages } = await import('../../images/load.js');
  const input = flagString(args, 'input');
  const loaded = await loadImages({
    ...(input !== undefined ? { input } : {}),
    ...(flagBool(args, 'quiet') ? {} : { progress: (line: string) => process.stderr.write(`${line}\n`) }),
  });
  let out = '';
  for (const image of loaded) {
    if (image.names.length === 0) out += `Loaded image ID: ${image.id}\n`;
    for (const name of image.names) out += `Loaded image: ${name}\n`;
  }
  process.stdout.write(out);
  return 0;
}
