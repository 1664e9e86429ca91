import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';
import { CREATE_FLAGS } from '../flags/create.js';
import { SkiffError } from '../../errors.js';
import { runContainer } from '../../runtime/run.js';

export const spec: CommandSpec = {
  name: 'run',
  summary: 'Run a command in a new container',
  usage: '[OPTIONS] --rootfs DIR COMMAND [ARG...]',
  positionals: 'halt',
  flags: [
    { name: 'rm', type: 'boolean', describe: 'Remove the container when it exits' },
    ...CREATE_FLAGS,
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const rootfs = flagString(args, 'rootfs');
  if (rootfs === undefined) {
    throw new SkiffError('images are not supported yet: give a root filesystem with --rootfs DIR');
  }
  return runContainer({
    rootfs,
    command: args.positionals,
    entrypoint: flagString(args, 'entrypoint'),
    env: flagList(args, 'env'),
    envFiles: flagList(args, 'env-file'),
    workdir: flagString(args, 'workdir'),
    user: flagString(args, 'user'),
    hostname: flagString(args, 'hostname'),
    network: flagString(args, 'network') ?? 'none',
    init: flagBool(args, 'init'),
    interactive: flagBool(args, 'interactive'),
    tty: flagBool(args, 'tty'),
  });
}
