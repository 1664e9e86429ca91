// Which containers are on which user-defined network, read from their
// records: what `network rm` and `network prune` must not break. lib/network
// cannot see containers; the commands pass this in.
import { EXIT_SKIFF_FAILED, SkiffError } from '../errors.js';
import { findNetwork, listNetworks, lockNetworks, removeNetworkLeftovers, removeNetworkRecord, type NetworkRecord } from '../network/networks.js';
import type { NetworkMember } from '../network/view.js';
import { containerState } from './state.js';
import { listContainerIds, readRecord, type ContainerRecord } from './store.js';

export interface NetworkUser {
  id: string;
  name: string;
  running: boolean;
  record: ContainerRecord;
}

/** Network id -> the containers on it. */
export function networkUsers(): Map<string, NetworkUser[]> {
  const users = new Map<string, NetworkUser[]>();
  for (const id of listContainerIds()) {
    const record = readRecord(id);
    if (!record?.Networks) continue;
    const user = { id: record.Id, name: record.Name, running: containerState(record).Running, record };
    for (const n of Object.values(record.Networks)) users.set(n.NetworkID, [...(users.get(n.NetworkID) ?? []), user]);
  }
  return users;
}

/** The containers on one network as `network inspect` lists them. */
export function networkMembers(networkId: string): NetworkMember[] {
  const out: NetworkMember[] = [];
  for (const user of networkUsers().get(networkId) ?? []) {
    for (const n of Object.values(user.record.Networks ?? {})) {
      if (n.NetworkID !== networkId) continue;
      out.push({ id: user.id, name: user.name, interfaceName: n.InterfaceName, ipAddress: n.IPAddress, prefixLen: n.IPPrefixLen, gateway: n.Gateway, macAddress: n.MacAddress });
    }
  }
  return out;
}

/**
 * network rm: refused while containers are on it (Podman's exit 2), unless
 * `force`, which removes them first (running ones stopped), as Podman's -f.
 * Returns the name removed.
 */
export async function removeNetwork(ref: string, opts: { force: boolean; stopTimeout?: number }): Promise<string> {
  const lock = await lockNetworks();
  let record: NetworkRecord;
  let users: NetworkUser[];
  try {
    const found = findNetwork(ref);
    if (!found) throw new SkiffError(`unable to find network with name or ID ${ref}: network not found`, EXIT_SKIFF_FAILED, 'not-found');
    record = found;
    users = networkUsers().get(record.id) ?? [];
    if (users.length === 0) {
      removeNetworkRecord(record);
      return record.name;
    }
    if (!opts.force) {
      throw new SkiffError(
        `"${record.name}" has associated containers with it (${users.map((u) => u.name).join(', ')}): use -f to remove them with the network: network is being used`,
        EXIT_SKIFF_FAILED,
        'conflict',
      );
    }
  } finally {
    lock.release();
  }
  // -f: the containers go first (rm takes the network lock itself to rewrite its peers' /etc/hosts).
  const { removeContainer, stopContainer } = await import('./lifecycle.js');
  for (const user of users) {
    if (user.running && opts.stopTimeout !== undefined) await stopContainer(user.record, opts.stopTimeout);
    await removeContainer(user.record, true);
  }
  const again = await lockNetworks();
  try {
    const left = networkUsers().get(record.id) ?? [];
    if (left.length > 0) throw new SkiffError(`network ${record.name}: containers joined it while it was being removed (${left.map((u) => u.name).join(', ')})`, EXIT_SKIFF_FAILED, 'conflict');
    removeNetworkRecord(record);
  } finally {
    again.release();
  }
  return record.name;
}

/** network prune: every network no container is on, that `keep` does not exclude. */
export async function pruneNetworks(keep: (record: NetworkRecord) => boolean): Promise<string[]> {
  const lock = await lockNetworks();
  try {
    const users = networkUsers();
    const removed: string[] = [];
    for (const record of listNetworks()) {
      if (users.has(record.id) || !keep(record)) continue;
      removeNetworkRecord(record);
      removed.push(record.name);
    }
    // And what a create killed midway left, which no listing shows.
    removeNetworkLeftovers();
    return removed;
  } finally {
    lock.release();
  }
}
