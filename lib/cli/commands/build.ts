// `skiff build` (`image build`, `buildx build`): parse the flags, find the
// Dockerfile and the context, enter the store's user namespace (rootless),
// and hand over to lib/build (its own lazy bundle, with dockerfile-ast and
// @balena/dockerignore).
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { readContainersConf } from '../../host/containers-conf.js';
import { inStoreNamespace, isReexecuted } from '../../namespaces/userns-state.js';

export const spec: CommandSpec = {
  name: 'build',
  aliases: ['image build', 'buildx build'],
  summary: 'Build an image from a Dockerfile',
  usage: '[OPTIONS] PATH | -',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [
    { name: 'tag', short: 't', type: 'array', placeholder: 'NAME[:TAG]', describe: 'Name the image (several allowed)' },
    { name: 'file', short: 'f', type: 'string', placeholder: 'FILE', describe: "The Dockerfile (default: PATH/Dockerfile, else PATH/Containerfile; '-' reads it from stdin)" },
    { name: 'target', type: 'string', placeholder: 'STAGE', describe: 'Build up to this stage' },
    { name: 'build-arg', type: 'array', placeholder: 'KEY=VALUE', describe: 'Set a build argument (KEY alone: its value from the environment)' },
    { name: 'no-cache', type: 'boolean', describe: 'Run every step; use no cached one' },
    { name: 'pull', type: 'string', placeholder: 'POLICY', describe: 'Pull base images: always (also --pull alone), missing (default), never' },
    { name: 'label', type: 'array', placeholder: 'KEY=VALUE', describe: 'Set a label on the image' },
    { name: 'iidfile', type: 'string', placeholder: 'FILE', describe: 'Write the image id to FILE' },
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'Print only the image id' },
    { name: 'network', type: 'string', placeholder: 'MODE', describe: 'The network of RUN steps: default, none or host' },
    { name: 'secret', type: 'array', placeholder: 'id=ID,src=FILE', describe: 'A secret for RUN --mount=type=secret (never stored in the image)' },
    { name: 'platform', type: 'string', placeholder: 'OS/ARCH', describe: "The platform to build for (the host's only)" },
    { name: 'layers', type: 'boolean', default: true, describe: 'Cache each step as an image (--layers=false: one layer for the new steps, no cache)' },
    { name: 'squash', type: 'boolean', describe: "One layer for the new steps" },
    { name: 'timestamp', type: 'string', placeholder: 'SECONDS', describe: 'Created times (and file times) of the new image, in seconds since the epoch (also SOURCE_DATE_EPOCH)' },
    { name: 'format', type: 'string', placeholder: 'FORMAT', describe: "Podman's: oci (the only one; push --format v2s2 sends Docker's)" },
    { name: 'progress', type: 'string', placeholder: 'TYPE', describe: 'auto, plain and tty print the plain progress; quiet is -q (Docker BuildKit\'s flag)' },
    { name: 'rm', type: 'boolean', default: true, describe: "Remove each step's container (always: --rm=false is refused)" },
    { name: 'force-rm', type: 'boolean', describe: "Remove each step's container also when it fails (always)" },
    { name: 'load', type: 'boolean', describe: "Buildx's flag: the image is in skiff's store either way" },
  ],
};

/** Docker's bare --pull means always; Podman's --pull=true|false too. */
export function normalizeArgv(argv: string[]): string[] {
  return argv.map((a) => (a === '--pull' ? '--pull=always' : a === '--pull=true' ? '--pull=always' : a === '--pull=false' ? '--pull=missing' : a));
}

/** No --network: containers.conf's [containers] netns, where it names a mode RUN steps take. */
function buildNetworkFromConf(): string {
  const netns = readContainersConf().netns;
  if (!netns) return 'default';
  const head = netns.value.split(':')[0]!;
  if (netns.value === 'none' || netns.value === 'host') return netns.value;
  if (['private', 'bridge', 'pasta', 'slirp4netns'].includes(head)) return 'default';
  throw new SkiffError(`containers.conf ${netns.file}: [containers] netns "${netns.value}" is not a network build's RUN steps can use: set none, host or private, or pass --network`);
}

export async function run(args: ParsedArgs): Promise<number> {
  const pull = flagString(args, 'pull') ?? 'missing';
  if (!['always', 'missing', 'never', 'newer'].includes(pull)) throw new SkiffError(`invalid --pull "${pull}": use always, missing or never`);
  const network = flagString(args, 'network') ?? buildNetworkFromConf();
  if (!['default', 'none', 'host'].includes(network)) throw new SkiffError(`invalid --network "${network}": use default, none or host`);
  const format = flagString(args, 'format') ?? 'oci';
  if (format === 'docker') throw new SkiffError("--format docker: skiff build writes OCI images (their config keeps HEALTHCHECK, ONBUILD and SHELL); 'skiff push --format v2s2' sends one in Docker's format");
  if (format !== 'oci') throw new SkiffError(`invalid --format "${format}": use oci`);
  const progress = flagString(args, 'progress') ?? 'auto';
  if (!['auto', 'plain', 'tty', 'quiet'].includes(progress)) throw new SkiffError(`invalid --progress "${progress}": skiff prints plain progress (auto, plain, tty) or none (quiet)`);
  if (args.flags['rm'] === false) throw new SkiffError("--rm=false: skiff keeps no step's container; each is removed when its step ends");
  const { runBuild } = await import('../../build/index.js');
  const timestampText = flagString(args, 'timestamp') ?? process.env['SOURCE_DATE_EPOCH'];
  const options = {
    context: args.positionals[0]!,
    file: flagString(args, 'file'),
    tags: (args.flags['tag'] as string[] | undefined) ?? [],
    target: flagString(args, 'target'),
    buildArgs: (args.flags['build-arg'] as string[] | undefined) ?? [],
    noCache: flagBool(args, 'no-cache'),
    pull: pull === 'newer' ? 'always' : (pull as 'always' | 'missing' | 'never'),
    labels: (args.flags['label'] as string[] | undefined) ?? [],
    iidfile: flagString(args, 'iidfile'),
    quiet: flagBool(args, 'quiet') || progress === 'quiet',
    network: network as 'default' | 'none' | 'host',
    secrets: (args.flags['secret'] as string[] | undefined) ?? [],
    platform: flagString(args, 'platform'),
    squash: flagBool(args, 'squash') || args.flags['layers'] === false,
    timestamp: timestampText,
  };
  // A build whose every step is cached only reads the store and writes
  // names: it takes no store lock (no flock spawn) and, rootless, needs no
  // user namespace (the user owns what it writes). The first step that must
  // run sends a rootless build into the user namespace and makes a root one
  // take the lock; stdin cannot be read twice, so a build from it starts
  // there, as does one that cannot be cached (--no-cache, --squash, --pull).
  const rootless = !inStoreNamespace();
  const mayBeCached = !options.noCache && !options.squash && options.pull !== 'always';
  if (!isReexecuted() && mayBeCached && options.context !== '-' && options.file !== '-') {
    try {
      return await runBuild({ ...options, ...(rootless ? { cachedOnly: true } : { lockLazily: true }) });
    } catch (err) {
      if (!(err instanceof Error) || err.name !== 'NotFullyCached') throw err;
    }
  }
  if (rootless) {
    const { reexecInUserNamespace } = await import('../../namespaces/userns.js');
    return reexecInUserNamespace(process.argv.slice(2));
  }
  return runBuild(options);
}
