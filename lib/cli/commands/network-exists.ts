// `skiff network exists NETWORK` (Podman): exit 0 if it exists, 1 if not.
import type { CommandSpec, ParsedArgs } from '../args.js';

export const spec: CommandSpec = {
  name: 'network exists',
  summary: 'Check whether a network exists (exit 0) or not (exit 1)',
  usage: 'NETWORK',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  const { findNetwork } = await import('../../network/networks.js');
  return findNetwork(args.positionals[0]!) ? 0 : 1;
}
