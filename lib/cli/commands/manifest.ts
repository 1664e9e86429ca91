// `skiff manifest inspect REF`: the registry's manifest or index, as JSON.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { runSubcommand, type SubcommandTable } from '../subcommands.js';

export const inspectSpec: CommandSpec = {
  name: 'manifest inspect',
  summary: "Show a registry's manifest or manifest list (index) of an image, as JSON",
  usage: '[OPTIONS] IMAGE',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [
    { name: 'tls-verify', type: 'boolean', describe: 'Require HTTPS and verified certificates (--tls-verify=false allows plain HTTP and any certificate)' },
    { name: 'insecure', type: 'boolean', describe: "Docker's spelling of --tls-verify=false" },
    { name: 'authfile', type: 'string', placeholder: 'FILE', describe: 'Read registry credentials from this file (as written by login)' },
  ],
};

export async function runInspect(args: ParsedArgs): Promise<number> {
  const { inspectManifest } = await import('../../registry/manifest-inspect.js');
  const tlsVerify = args.flags['insecure'] === true ? false : args.flags['tls-verify'];
  const authFile = flagString(args, 'authfile');
  const bytes = await inspectManifest(args.positionals[0]!, {
    ...(typeof tlsVerify === 'boolean' ? { tlsVerify } : {}),
    ...(authFile !== undefined ? { authFile } : {}),
  });
  process.stdout.write(`${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 4)}\n`);
  return 0;
}

const SUBCOMMANDS: SubcommandTable = {
  inspect: async () => ({ spec: inspectSpec, run: runInspect }),
};

export const spec: CommandSpec = {
  name: 'manifest',
  summary: 'Inspect manifests and manifest lists in a registry',
  usage: `COMMAND (${Object.keys(SUBCOMMANDS).join(', ')})`,
  positionals: 'halt',
  minPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  return runSubcommand('manifest', SUBCOMMANDS, args);
}
