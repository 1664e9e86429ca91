import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { parseFormat, renderParsedFormat } from '../format.js';
import { renderYaml } from '../yaml.js';
import { gatherInfo } from '../../system/info.js';

export const spec: CommandSpec = {
  name: 'info',
  summary: 'Display information about the host and skiff',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    {
      name: 'format',
      short: 'f',
      type: 'string',
      placeholder: 'FORMAT',
      describe: "Output format: 'json', or a Go template such as '{{.Host.Kernel}}' or 'table {{.Host.Arch}}\\t{{.Host.Kernel}}'",
    },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  // A bad template fails before the probes run.
  const parsed = format !== undefined && format !== 'json' ? parseFormat(format) : undefined;
  const info = await gatherInfo();
  if (format === 'json') process.stdout.write(`${JSON.stringify(info, null, 4)}\n`);
  else if (parsed) process.stdout.write(renderParsedFormat(parsed, [info]));
  else process.stdout.write(renderYaml(info));
  return 0;
}
