// `skiff pull`: parse, check what is cheap to check, enter the store's user
// namespace, then hand over to lib/store/pull (loaded lazily with the registry
// client, the decompressors and the progress bars).
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { parseReference } from '../../oci/reference.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';
import { parsePlatform } from '../../images/platform.js';

export const spec: CommandSpec = {
  name: 'pull',
  summary: 'Pull an image from a registry',
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'Print only the image id, no progress' },
    { name: 'platform', type: 'string', placeholder: 'OS/ARCH[/VARIANT]', describe: "Choose this platform from a multi-platform image (default: the host's)" },
    { name: 'tls-verify', type: 'boolean', describe: 'Require HTTPS and verified certificates (--tls-verify=false allows plain HTTP and any certificate)' },
    { name: 'authfile', type: 'string', placeholder: 'FILE', describe: 'Read registry credentials from this file (as written by login)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const text = args.positionals[0]!;
  const platformText = flagString(args, 'platform');
  const platform = platformText !== undefined ? parsePlatform(platformText) : undefined;
  parseReference(text); // a malformed reference fails here, before any work
  if (!inStoreNamespace()) return reexecInUserNamespace(process.argv.slice(2));

  const quiet = flagBool(args, 'quiet');
  const tlsVerify = args.flags['tls-verify'];
  const authFile = flagString(args, 'authfile');
  const { pullImage, createReporter } = await import('../../images/pull.js');
  const result = await pullImage(text, {
    reporter: await createReporter(quiet),
    ...(platform ? { platform } : {}),
    ...(typeof tlsVerify === 'boolean' ? { tlsVerify } : {}),
    ...(authFile !== undefined ? { authFile } : {}),
  });
  process.stdout.write(`${result.id.replace(/^sha256:/, '')}\n`);
  return 0;
}
