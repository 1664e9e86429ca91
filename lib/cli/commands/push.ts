// `skiff push IMAGE [DEST]`: parse, enter the store's user namespace (a
// layer's files belong to sub-IDs), hand over to lib/images/push.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';

export const spec: CommandSpec = {
  name: 'push',
  aliases: ['image push'],
  summary: 'Push an image to a registry',
  usage: '[OPTIONS] IMAGE [DESTINATION]',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 2,
  flags: [
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'Print nothing: no progress, no digest line' },
    { name: 'tls-verify', type: 'boolean', describe: 'Require HTTPS and verified certificates (--tls-verify=false allows plain HTTP and any certificate)' },
    { name: 'authfile', type: 'string', placeholder: 'FILE', describe: 'Read registry credentials from this file (as written by login)' },
    { name: 'creds', type: 'string', placeholder: 'USER:PASSWORD', describe: 'Credentials for the registry, instead of the credential files' },
    { name: 'format', short: 'f', type: 'string', placeholder: 'oci|v2s2', describe: "Manifest format (default: the image's own; OCI for images made here)" },
    { name: 'compression-format', type: 'string', placeholder: 'gzip|zstd', describe: 'Compress layers the registry does not have with this (default gzip)' },
    {
      name: 'force-compression',
      type: 'boolean',
      describe: 'Send every layer in --compression-format, even one kept in another compression (default: true when --compression-format is given)',
    },
    { name: 'digestfile', type: 'string', placeholder: 'FILE', describe: "Write the pushed manifest's digest to FILE" },
    { name: 'remove-signatures', type: 'boolean', describe: 'Accepted for Podman scripts: skiff stores no signatures, so none are copied' },
  ],
};

function parseCreds(text: string): { username: string; password: string } {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new SkiffError('invalid --creds: give USER:PASSWORD');
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export async function run(args: ParsedArgs): Promise<number> {
  const [source, dest] = args.positionals as [string, string | undefined];
  const format = flagString(args, 'format');
  const normalisedFormat = format === undefined ? undefined : format === 'docker' ? 'v2s2' : format;
  if (normalisedFormat !== undefined && normalisedFormat !== 'oci' && normalisedFormat !== 'v2s2') {
    throw new SkiffError(`invalid --format "${format}": use oci or v2s2`);
  }
  const compression = flagString(args, 'compression-format');
  if (compression !== undefined && compression !== 'gzip' && compression !== 'zstd') {
    throw new SkiffError(`invalid --compression-format "${compression}": use gzip or zstd`);
  }
  const credsText = flagString(args, 'creds');
  const credentials = credsText !== undefined ? parseCreds(credsText) : undefined;
  const { parseDestination } = await import('../../images/push.js');
  if (dest !== undefined) parseDestination(dest); // a bad destination fails before any work

  const { pushImage, writeDigestFile, pushedLine, NeedsLayerFiles } = await import('../../images/push.js');
  const { createReporter, RecordingReporter } = await import('../../images/pull-progress.js');
  const tlsVerify = args.flags['tls-verify'];
  const authFile = flagString(args, 'authfile');
  const words = { start: (t: string) => `Pushing ${t}...`, skipped: 'Layer already exists', done: 'Pushed' };
  const options = {
    ...(normalisedFormat ? { format: normalisedFormat as 'oci' | 'v2s2' } : {}),
    ...(compression ? { compression: compression as 'gzip' | 'zstd' } : {}),
    ...(typeof args.flags['force-compression'] === 'boolean' ? { forceCompression: args.flags['force-compression'] } : {}),
    ...(typeof tlsVerify === 'boolean' ? { tlsVerify } : {}),
    ...(authFile !== undefined ? { authFile } : {}),
    ...(credentials ? { credentials } : {}),
  };
  const reporter = await createReporter(flagBool(args, 'quiet'), process.stderr.isTTY === true, words);
  const inNamespace = inStoreNamespace();
  let result;
  if (inNamespace) {
    result = await pushImage(source, dest, { ...options, reporter });
  } else {
    // Rootless, first as the user: when the registry or the store has every
    // layer's blob, no layer file is read and no user namespace is needed
    // (one Node start instead of two). Its progress is shown once it is done.
    const recorded = new RecordingReporter();
    try {
      result = await pushImage(source, dest, { ...options, reporter: recorded, readLayerFiles: false });
    } catch (err) {
      if (!(err instanceof NeedsLayerFiles)) throw err;
      return reexecInUserNamespace(process.argv.slice(2));
    }
    recorded.replay(reporter);
  }
  const digestFile = flagString(args, 'digestfile');
  if (digestFile !== undefined) writeDigestFile(digestFile, result.digest);
  // -q prints nothing, as Podman's (a script wanting the digest has --digestfile).
  if (!flagBool(args, 'quiet')) process.stdout.write(`${pushedLine(result)}\n`);
  return 0;
}
