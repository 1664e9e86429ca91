import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';

export const spec: CommandSpec = {
  name: 'logout',
  summary: 'Log out from a container registry',
  usage: '[OPTIONS] [REGISTRY]',
  positionals: 'interspersed',
  maxPositionals: 1,
  flags: [
    { name: 'all', short: 'a', type: 'boolean', describe: 'Remove the credentials of every registry' },
    { name: 'authfile', type: 'string', placeholder: 'FILE', describe: 'The credentials file (default: $XDG_CONFIG_HOME/skiff/auth.json)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const credentials = await import('../../registry/credentials.js');
  const authFile = flagString(args, 'authfile');
  const file = authFile ?? credentials.defaultAuthFile();
  if (flagBool(args, 'all')) {
    if (args.positionals.length > 0) throw new SkiffError('--all takes no registry');
    credentials.removeAllCredentials(file);
    process.stdout.write('Removed login credentials for all registries\n');
    return 0;
  }
  const registry = credentials.loginRegistry(args.positionals[0] ?? 'docker.io');
  if (credentials.removeCredentials(file, registry)) {
    process.stdout.write(`Removed login credentials for ${registry}\n`);
    return 0;
  }
  // Credentials skiff reads but did not write (Podman's or Docker's files) are not skiff's to remove.
  const elsewhere = authFile === undefined ? await credentials.lookupCredentials(registry) : undefined;
  if (elsewhere !== undefined) {
    throw new SkiffError(`not logged into ${registry} with skiff: the credentials skiff uses come from ${elsewhere.source}; remove them there`, 1);
  }
  throw new SkiffError(`not logged into ${registry}`, 1);
}
