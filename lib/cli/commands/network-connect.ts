// `skiff network connect [--alias A] [--ip IP] NETWORK CONTAINER`: Podman's;
// a running container gets its interface at once, a stopped one at its next start.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagList, flagString } from '../args.js';

export const spec: CommandSpec = {
  name: 'network connect',
  summary: 'Connect a container to a network',
  usage: '[OPTIONS] NETWORK CONTAINER',
  positionals: 'interspersed',
  minPositionals: 2,
  maxPositionals: 2,
  flags: [
    { name: 'alias', type: 'array', describe: 'Another name the containers on the network know it by', placeholder: 'NAME' },
    { name: 'ip', type: 'string', describe: 'Its IPv4 address on the network', placeholder: 'IP' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const [networkRef, containerRef] = args.positionals as [string, string];
  const { requireNetwork } = await import('../../network/networks.js');
  const network = requireNetwork(networkRef);
  const { resolveContainer } = await import('../../containers/store.js');
  const { connectContainer } = await import('../../containers/networks.js');
  const ip = flagString(args, 'ip');
  await connectContainer(network, resolveContainer(containerRef), { aliases: flagList(args, 'alias'), ...(ip !== undefined ? { ip } : {}) });
  return 0;
}
