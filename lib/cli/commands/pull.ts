// `skiff pull`: parse, check what is cheap to check, then hand over to
// lib/images/pull (loaded lazily with the registry client, the decompressors
// and the progress bars). Rootless, the first process resolves the image and
// names it when every layer is stored already; only a pull that must write a
// layer re-executes in the store's user namespace (which resolves it again).
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { parseReference } from '../../oci/reference.js';
import { inStoreNamespace } from '../../namespaces/userns-state.js';
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

  const quiet = flagBool(args, 'quiet');
  const tlsVerify = args.flags['tls-verify'];
  const authFile = flagString(args, 'authfile');
  const { pullImage, createReporter, RecordingReporter } = await import('../../images/pull.js');
  const options = {
    ...(platform ? { platform } : {}),
    ...(typeof tlsVerify === 'boolean' ? { tlsVerify } : {}),
    ...(authFile !== undefined ? { authFile } : {}),
  };
  let result;
  if (inStoreNamespace()) {
    result = await pullImage(text, { ...options, reporter: await createReporter(quiet) });
  } else {
    // Shown once it is known that this process finishes the pull; a pull handed over shows its own.
    const recorded = new RecordingReporter();
    try {
      result = await pullImage(text, { ...options, reporter: recorded, canWriteLayers: false });
    } catch (err) {
      recorded.replay(await createReporter(quiet));
      throw err;
    }
    if (result === undefined) {
      // Loaded only now: the helper hand-off brings node:child_process and node:net, which a warm pull never needs.
      const { reexecInUserNamespace } = await import('../../namespaces/userns.js');
      return reexecInUserNamespace(process.argv.slice(2));
    }
    recorded.replay(await createReporter(quiet));
  }
  process.stdout.write(`${result.id.replace(/^sha256:/, '')}\n`);
  return 0;
}
