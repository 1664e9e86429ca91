// `skiff network inspect NETWORK...`: Podman 5's JSON array (with the
// containers on each network), or a Go template per network.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { EXIT_SKIFF_FAILED, SkiffError } from '../../errors.js';
import { printErrorLine } from '../error-line.js';

export const spec: CommandSpec = {
  name: 'network inspect',
  summary: 'Display detailed information on one or more networks',
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [{ name: 'format', short: 'f', type: 'string', describe: "Format the output: 'json' (default) or a Go template such as '{{.Subnets}}'", placeholder: 'FORMAT' }],
};

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const { parseFormat, executeFormat } = await import('../format.js');
  const parsed = format !== undefined && format !== 'json' ? parseFormat(format) : undefined;
  const { findNetwork } = await import('../../network/networks.js');
  const { inspectJson, templateView } = await import('../../network/view.js');
  const { networkMembers } = await import('../../containers/network-users.js');
  const found: { json: unknown; view: unknown }[] = [];
  const errors: SkiffError[] = [];
  for (const ref of args.positionals) {
    const record = findNetwork(ref);
    if (!record) {
      errors.push(new SkiffError(`unable to find network with name or ID ${ref}: network not found`, EXIT_SKIFF_FAILED, 'not-found'));
      continue;
    }
    const members = networkMembers(record.id);
    found.push({ json: inspectJson(record, members), view: { ...templateView(record, { shortId: false }), Containers: inspectJson(record, members).containers } });
  }
  if (parsed) process.stdout.write(found.map((f) => `${executeFormat(parsed, f.view)}\n`).join(''));
  else process.stdout.write(`${JSON.stringify(found.map((f) => f.json), null, 4)}\n`);
  for (const err of errors) printErrorLine(err.message);
  return errors.length > 0 ? errors[0]!.exitCode : 0;
}
