// `skiff network create [OPTIONS] [NAME]`: a bridge network (Podman's flags);
// prints its name. Without a name: skiff1, skiff2… as Podman's podman1…
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';

export const spec: CommandSpec = {
  name: 'network create',
  summary: 'Create a network',
  usage: '[OPTIONS] [NAME]',
  positionals: 'interspersed',
  maxPositionals: 1,
  flags: [
    { name: 'driver', short: 'd', type: 'string', describe: 'Driver (only bridge)', placeholder: 'DRIVER', default: 'bridge' },
    { name: 'subnet', type: 'string', describe: 'IPv4 subnet in CIDR form (default: the next free /24 of 10.89.0.0/16)', placeholder: 'SUBNET' },
    { name: 'gateway', type: 'string', describe: "The subnet's gateway address (default: its first address)", placeholder: 'IP' },
    { name: 'internal', type: 'boolean', describe: 'No access to or from outside the network' },
    { name: 'label', type: 'array', describe: 'Set metadata on the network', placeholder: 'KEY=VALUE' },
    { name: 'ignore', type: 'boolean', describe: 'Do not fail when the network exists (its name is printed)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const labels: Record<string, string> = {};
  for (const item of flagList(args, 'label')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (key === '') throw new SkiffError(`invalid label "${item}": the key is empty`);
    labels[key] = eq < 0 ? '' : item.slice(eq + 1);
  }
  const name = args.positionals[0];
  const { createNetwork, findNetwork } = await import('../../network/networks.js');
  if (name !== undefined && flagBool(args, 'ignore') && findNetwork(name)?.name === name) {
    process.stdout.write(`${name}\n`);
    return 0;
  }
  const subnet = flagString(args, 'subnet');
  const gateway = flagString(args, 'gateway');
  const record = await createNetwork({
    ...(name !== undefined ? { name } : {}),
    driver: flagString(args, 'driver') ?? 'bridge',
    ...(subnet !== undefined ? { subnet } : {}),
    ...(gateway !== undefined ? { gateway } : {}),
    internal: flagBool(args, 'internal'),
    labels,
  });
  process.stdout.write(`${record.name}\n`);
  return 0;
}
