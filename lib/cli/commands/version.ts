import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { VERSION } from '../../version.js';
import { SkiffError } from '../../errors.js';

export const spec: CommandSpec = {
  name: 'version',
  summary: 'Show the skiff version',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [{ name: 'format', short: 'f', type: 'string', describe: "Output format: 'json'" }],
};

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const info = { Version: VERSION, NodeVersion: process.versions.node, OsArch: `${process.platform}/${process.arch}` };
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify({ Client: info })}\n`);
  } else if (format !== undefined) {
    throw new SkiffError(`unsupported format "${format}": use json`);
  } else {
    process.stdout.write(`Version:      ${info.Version}\nNode version: ${info.NodeVersion}\nOS/Arch:      ${info.OsArch}\n`);
  }
  return 0;
}
