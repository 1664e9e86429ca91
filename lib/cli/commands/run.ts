import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';
import { CREATE_FLAGS } from '../flags/create.js';
import { SkiffError } from '../../errors.js';
import type { ContainerRequest } from '../../runtime/run.js';

export const spec: CommandSpec = {
  name: 'run',
  summary: 'Run a command in a new container',
  usage: '[OPTIONS] --rootfs DIR COMMAND [ARG...]',
  positionals: 'halt',
  flags: [
    { name: 'detach', short: 'd', type: 'boolean', describe: 'Run the container in the background and print its id' },
    { name: 'rm', type: 'boolean', describe: 'Remove the container when it exits' },
    ...CREATE_FLAGS,
  ],
};

/** The flags shared with `create`, as a request. */
export function containerRequest(args: ParsedArgs): ContainerRequest {
  const rootfs = flagString(args, 'rootfs');
  if (rootfs === undefined) {
    throw new SkiffError('images are not supported yet: give a root filesystem with --rootfs DIR');
  }
  return {
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
    name: flagString(args, 'name'),
    restart: flagString(args, 'restart') ?? 'no',
    autoRemove: flagBool(args, 'rm'),
  };
}

export async function run(args: ParsedArgs): Promise<number> {
  const req = containerRequest(args);
  if (flagBool(args, 'detach')) {
    const { createContainerFromRequest } = await import('../../runtime/run.js');
    const { startContainer } = await import('../../containers/lifecycle.js');
    const record = createContainerFromRequest(req);
    await startContainer(record);
    process.stdout.write(`${record.Id}\n`);
    return 0;
  }
  if (req.restart !== 'no') throw new SkiffError('--restart applies to detached containers: add -d');
  const { runContainer } = await import('../../runtime/run.js');
  return runContainer(req);
}
