// `skiff network disconnect NETWORK CONTAINER`: Podman's; a running container
// loses its interface at once, and the others on the network its name.
import type { CommandSpec, ParsedArgs } from '../args.js';

export const spec: CommandSpec = {
  name: 'network disconnect',
  summary: 'Disconnect a container from a network',
  usage: '[OPTIONS] NETWORK CONTAINER',
  positionals: 'interspersed',
  minPositionals: 2,
  maxPositionals: 2,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  const [networkRef, containerRef] = args.positionals as [string, string];
  const { requireNetwork } = await import('../../network/networks.js');
  const network = requireNetwork(networkRef);
  const { resolveContainer } = await import('../../containers/store.js');
  const { disconnectContainer } = await import('../../containers/networks.js');
  await disconnectContainer(network, resolveContainer(containerRef));
  return 0;
}
