import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { preservedFds } from '../flags/preserve-fds.js';
import { execInContainer } from '../../containers/exec.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'exec',
  summary: 'Run a command in a running container',
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  positionals: 'halt',
  minPositionals: 2,
  flags: [
    { name: 'interactive', short: 'i', type: 'boolean', describe: 'Keep stdin open' },
    { name: 'tty', short: 't', type: 'boolean', describe: 'Allocate a pseudo-TTY' },
    { name: 'env', short: 'e', type: 'array', describe: 'Set an environment variable', placeholder: 'KEY=VALUE' },
    { name: 'env-file', type: 'array', describe: 'Read environment variables from a file', placeholder: 'FILE' },
    { name: 'user', short: 'u', type: 'string', describe: 'User to run as: name|uid[:group|gid]', placeholder: 'USER' },
    { name: 'workdir', short: 'w', type: 'string', describe: 'Working directory inside the container', placeholder: 'DIR' },
    { name: 'detach', short: 'd', type: 'boolean', describe: 'Run the command in the background' },
    { name: 'privileged', type: 'boolean', describe: 'Give the command every capability (seccomp and the rest stay the container\'s)' },
    { name: 'preserve-fds', type: 'string', describe: 'Pass your file descriptors 3..3+N-1 to the command as the same numbers (Podman)', placeholder: 'N' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  // The first positional is the container: the command starts after it.
  const [ref, ...rest] = args.positionals;
  if (rest.length === 0) throw new SkiffError(`"skiff exec" requires at least 2 arguments (see 'skiff exec --help')`);
  const preserveFds = preservedFds(flagString(args, 'preserve-fds'));
  const record = resolveContainer(ref!);
  return execInContainer(record, {
    ...(preserveFds ? { preserveFds } : {}),
    detach: flagBool(args, 'detach'),
    command: rest,
    env: flagList(args, 'env'),
    envFiles: flagList(args, 'env-file'),
    user: flagString(args, 'user'),
    workdir: flagString(args, 'workdir'),
    tty: flagBool(args, 'tty'),
    interactive: flagBool(args, 'interactive'),
    privileged: flagBool(args, 'privileged'),
  });
}
