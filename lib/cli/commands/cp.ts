import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';
import { copyFiles } from '../../containers/copy.js';

export const spec: CommandSpec = {
  name: 'cp',
  summary: 'Copy files/folders between a container and the local filesystem',
  usage: "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n  or:  skiff cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n  or:  skiff cp [OPTIONS] CONTAINER:SRC_PATH CONTAINER:DEST_PATH",
  positionals: 'interspersed',
  minPositionals: 2,
  maxPositionals: 2,
  flags: [
    { name: 'archive', short: 'a', type: 'boolean', describe: 'Archive mode: files copied in keep their uid/gid (else 0:0) and set-ID bits' },
    { name: 'follow-link', short: 'L', type: 'boolean', describe: 'Always follow a symbolic link in SRC_PATH' },
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'Suppress the "Successfully copied" line (printed only to a terminal)' },
    { name: 'pause', type: 'boolean', describe: 'Freeze a running container while its files are copied (needs its cgroup)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  await copyFiles({
    source: args.positionals[0]!,
    destination: args.positionals[1]!,
    archive: flagBool(args, 'archive'),
    followLink: flagBool(args, 'follow-link'),
    quiet: flagBool(args, 'quiet'),
    pause: flagBool(args, 'pause'),
  });
  return 0;
}
