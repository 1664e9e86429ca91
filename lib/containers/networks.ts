// Containers on user-defined networks (docs/how-it-works.md, "Networks"):
// addresses chosen when a container joins (create, connect) and kept until
// it leaves (disconnect, rm), names served by every member's /etc/hosts, and
// the holder joined at each start.
import { useCodePart } from '../code-parts.js';
import { SkiffError } from '../errors.js';
import { networkEvent } from '../events/log.js';
import { findNetwork, lockNetworks, networkAddressing, NETWORK_NAME, requireNetwork, type NetworkRecord } from '../network/networks.js';
import { hostsFile } from '../network/etc-files.js';
import { formatAddress, isHostAddress, nextFreeAddress, parseAddress } from '../network/subnet.js';
import type { NetworkAttachment, NetworkStart } from '../namespaces/helper.js';
import type { OciRuntimeConfig } from '../oci/runtime-spec.js';
import type { StoreLock } from '../store/lock.js';
import { containerState } from './state.js';
import { addHostsFile, listContainerIds, readHostsFile, readRecord, rewriteHostsFile, writeRecord, type ContainerNetwork, type ContainerRecord } from './store.js';

/** The user-defined networks --network NAME[,NAME…] names; a name that is no network is an error. */
export function userNetworksNamed(names: string[]): NetworkRecord[] {
  const records = names.map((n) => requireNetwork(n));
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.id)) throw new SkiffError(`network ${r.name} is given twice`);
    seen.add(r.id);
  }
  return records;
}

/** Docker's MAC for an address on its bridge: 02:42 and the four bytes of the address. */
function macFor(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

function allRecords(): ContainerRecord[] {
  const out: ContainerRecord[] = [];
  for (const id of listContainerIds()) {
    const r = readRecord(id);
    if (r) out.push(r);
  }
  return out;
}

/** The addresses containers hold on a network (under lockNetworks). */
function takenAddresses(network: NetworkRecord, records: ContainerRecord[]): Set<number> {
  const taken = new Set<number>([networkAddressing(network).gateway]);
  for (const r of records) {
    for (const n of Object.values(r.Networks ?? {})) if (n.NetworkID === network.id) taken.add(parseAddress(n.IPAddress)!);
  }
  return taken;
}

function nextInterface(existing: Record<string, ContainerNetwork>): string {
  const used = new Set(Object.values(existing).map((n) => n.InterfaceName));
  for (let i = 0; ; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
}

/** One address on `network` for a container, `ip` when given (--ip), else the lowest free one. */
function chooseEndpoint(network: NetworkRecord, records: ContainerRecord[], opts: { ip?: string; aliases: string[]; existing: Record<string, ContainerNetwork> }): ContainerNetwork {
  const { subnet, gateway } = networkAddressing(network);
  const taken = takenAddresses(network, records);
  let ip: number | undefined;
  if (opts.ip !== undefined) {
    ip = parseAddress(opts.ip);
    if (ip === undefined) throw new SkiffError(`invalid --ip "${opts.ip}": expected an IPv4 address`);
    if (!isHostAddress(subnet, ip)) throw new SkiffError(`--ip ${opts.ip} is not a host address of network ${network.name}'s subnet ${network.subnets[0]!.subnet}`);
    if (ip === gateway) throw new SkiffError(`--ip ${opts.ip} is network ${network.name}'s gateway`);
    if (taken.has(ip)) throw new SkiffError(`--ip ${opts.ip} is already used on network ${network.name}`);
  } else {
    ip = nextFreeAddress(subnet, taken);
    if (ip === undefined) throw new SkiffError(`network ${network.name} has no free address left in ${network.subnets[0]!.subnet}: remove containers from it or make a larger network`);
  }
  for (const a of opts.aliases) {
    if (!NETWORK_NAME.test(a)) throw new SkiffError(`invalid --network-alias "${a}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return {
    NetworkID: network.id,
    Aliases: opts.aliases,
    IPAddress: formatAddress(ip),
    IPPrefixLen: subnet.prefix,
    Gateway: formatAddress(gateway),
    MacAddress: macFor(ip),
    InterfaceName: nextInterface(opts.existing),
  };
}

export interface NetworkClaim {
  networks: Record<string, ContainerNetwork>;
  /** Call once the container's record is written (or was not): others may then choose addresses. */
  release(): void;
}

/**
 * create and run: the container's address on each network, held under the
 * networks' lock until its record is written (two creates never take one
 * address). --ip applies to the first network, --network-alias to each.
 */
export async function claimNetworks(networks: NetworkRecord[], opts: { ip?: string; aliases: string[] }): Promise<NetworkClaim> {
  const lock = await lockNetworks();
  try {
    const records = allRecords();
    const out: Record<string, ContainerNetwork> = {};
    networks.forEach((n, i) => {
      out[n.name] = chooseEndpoint(n, records, { ...(i === 0 && opts.ip !== undefined ? { ip: opts.ip } : {}), aliases: opts.aliases, existing: out });
    });
    return { networks: out, release: () => lock.release() };
  } catch (err) {
    lock.release();
    throw err;
  }
}

// --- Names: /etc/hosts

const HOSTS_MARK = '# skiff: containers on the same networks (rewritten as they join and leave)\n';

/** Every member's entries, by network id. */
function membersByNetwork(records: ContainerRecord[]): Map<string, { record: ContainerRecord; endpoint: ContainerNetwork }[]> {
  const out = new Map<string, { record: ContainerRecord; endpoint: ContainerNetwork }[]>();
  for (const r of records) {
    for (const e of Object.values(r.Networks ?? {})) out.set(e.NetworkID, [...(out.get(e.NetworkID) ?? []), { record: r, endpoint: e }]);
  }
  return out;
}

function hostsBlock(record: ContainerRecord, members: Map<string, { record: ContainerRecord; endpoint: ContainerNetwork }[]>): string {
  const lines: string[] = [];
  for (const own of Object.values(record.Networks ?? {})) {
    for (const m of members.get(own.NetworkID) ?? []) {
      const names = [m.record.Name, ...m.endpoint.Aliases];
      if (m.record.Id === record.Id && record.Config.Hostname !== record.Name) names.push(record.Config.Hostname);
      lines.push(`${m.endpoint.IPAddress}\t${[...new Set(names)].join(' ')}\n`);
    }
  }
  return lines.length > 0 ? HOSTS_MARK + lines.join('') : '';
}

function withBlock(current: string, block: string): string {
  const at = current.indexOf(HOSTS_MARK);
  return (at < 0 ? current : current.slice(0, at)) + block;
}

/**
 * Rewrites the /etc/hosts of every container on the networks `networkIds`
 * (running or not: a stopped one starts with it current) from the records,
 * so entries of containers killed or removed meanwhile go too. Under
 * lockNetworks, which the caller holds or this takes.
 */
export async function refreshHosts(networkIds: Iterable<string>, held?: StoreLock): Promise<void> {
  const ids = new Set(networkIds);
  if (ids.size === 0) return;
  const lock = held ?? (await lockNetworks());
  try {
    const records = allRecords();
    const members = membersByNetwork(records);
    for (const r of records) {
      if (!Object.values(r.Networks ?? {}).some((e) => ids.has(e.NetworkID))) continue;
      const current = readHostsFile(r.Id);
      if (current === undefined) continue;
      const next = withBlock(current, hostsBlock(r, members));
      if (next !== current) rewriteHostsFile(r.Id, next);
    }
  } finally {
    if (!held) lock.release();
  }
}

/** After rm: the others on its networks forget it. */
export async function leaveNetworks(record: ContainerRecord): Promise<void> {
  await refreshHosts(Object.values(record.Networks ?? {}).map((e) => e.NetworkID));
}

// --- Start: the holder and the interfaces

function attachmentsOf(record: ContainerRecord): NetworkAttachment[] {
  return Object.entries(record.Networks ?? {}).map(([name, e]) => {
    const network = findNetwork(name);
    if (!network || network.id !== e.NetworkID) throw new SkiffError(`cannot start ${record.Name}: its network ${name} was removed; disconnect it (skiff network disconnect ${name} ${record.Name})`);
    return { bridge: network.network_interface, gateway: e.Gateway, prefix: e.IPPrefixLen, ifname: e.InterfaceName, ip: e.IPAddress, mac: e.MacAddress };
  });
}

/**
 * What a start on user-defined networks needs: the holder joined (started
 * when none runs), the interfaces, and rootless the config changed to join
 * the holder's user namespace instead of making one (same mapping).
 */
export async function networkStart(record: ContainerRecord, config: OciRuntimeConfig): Promise<{ config: OciRuntimeConfig; network?: NetworkStart }> {
  if (!record.Networks || Object.keys(record.Networks).length === 0) return { config };
  useCodePart('userNetworks'); // code-parts.ts
  const attachments = attachmentsOf(record);
  await refreshHosts(Object.values(record.Networks).map((e) => e.NetworkID));
  const userNs = config.linux.namespaces.find((n) => n.type === 'user');
  const rootless = userNs !== undefined;
  if (userNs?.path) throw new SkiffError(`cannot start ${record.Name}: a rootless container on a user-defined network cannot also join another container's namespaces`);
  const mappings = rootless && config.linux.uidMappings && config.linux.gidMappings ? { uid: config.linux.uidMappings, gid: config.linux.gidMappings } : null;
  const { joinHolder } = await import('../network/holder.js');
  const holder = await joinHolder(mappings);
  const patched: OciRuntimeConfig = rootless
    ? { ...config, linux: { ...config.linux, namespaces: config.linux.namespaces.map((n) => (n.type === 'user' ? { type: 'user', path: `/proc/${holder.pid}/ns/user` } : n)) } }
    : config;
  return { config: patched, network: { holderPid: holder.pid, attachments, member: holder.connection } };
}

// --- connect and disconnect

/** network connect: a new address on `network`; a running container gets its interface at once. */
export async function connectContainer(network: NetworkRecord, record: ContainerRecord, opts: { ip?: string; aliases: string[] }): Promise<void> {
  if (record.Networks?.[network.name]?.NetworkID === network.id) throw new SkiffError(`container ${record.Name} is already connected to network ${network.name}`);
  const state = containerState(record);
  const onNetworks = Object.keys(record.Networks ?? {}).length > 0;
  if (!onNetworks && record.HostConfig.NetworkMode !== 'none') {
    throw new SkiffError(`container ${record.Name} uses --network ${record.HostConfig.NetworkMode}: only a container with its own network namespace (none, or user-defined networks) can be connected`);
  }
  const lock = await lockNetworks();
  let endpoint: ContainerNetwork;
  try {
    const fresh = readRecord(record.Id) ?? record;
    endpoint = chooseEndpoint(network, allRecords(), { ...(opts.ip !== undefined ? { ip: opts.ip } : {}), aliases: opts.aliases, existing: fresh.Networks ?? {} });
    if (state.Running) {
      const rootless = (process.geteuid?.() ?? 0) !== 0;
      if (rootless && !onNetworks) throw new SkiffError(`container ${record.Name} is running without a user-defined network: rootless, its network namespace cannot reach the network's bridge; stop it, connect it, start it`);
      const { runningHolderPid } = await import('../network/holder.js');
      const holderPid = await runningHolderPid();
      if (holderPid === undefined) throw new SkiffError(`the network holder is gone (killed?): restart container ${record.Name} to connect it`);
      const { attachRunning } = await import('../namespaces/network.js');
      await attachRunning(state.Pid, holderPid, rootless, [
        { bridge: network.network_interface, gateway: endpoint.Gateway, prefix: endpoint.IPPrefixLen, ifname: endpoint.InterfaceName, ip: endpoint.IPAddress, mac: endpoint.MacAddress },
      ]);
    }
    const updated: ContainerRecord = { ...fresh, Networks: { ...fresh.Networks, [network.name]: endpoint } };
    if (!onNetworks) updated.HostConfig = { ...updated.HostConfig, NetworkMode: network.name };
    writeRecord(updated);
    // A --rootfs container that kept its directory's /etc files gets skiff's hosts, which the block below fills (Podman manages every container's).
    if (!onNetworks) addHostsFile(record.Id, hostsFile({ hostname: fresh.Config.Hostname, name: fresh.Name, extraHosts: fresh.HostConfig.ExtraHosts ?? [] }));
    await refreshHosts([network.id], lock);
  } finally {
    lock.release();
  }
  networkEvent('connect', network, { id: record.Id, name: record.Name });
}

/** network disconnect: the address given back; a running container loses its interface at once. */
export async function disconnectContainer(network: NetworkRecord, record: ContainerRecord): Promise<void> {
  const endpoint = record.Networks?.[network.name];
  if (!endpoint || endpoint.NetworkID !== network.id) throw new SkiffError(`container ${record.Name} is not connected to network ${network.name}`);
  const lock = await lockNetworks();
  try {
    const state = containerState(record);
    if (state.Running) {
      const rootless = (process.geteuid?.() ?? 0) !== 0;
      const { runningHolderPid } = await import('../network/holder.js');
      const { detachRunning } = await import('../namespaces/network.js');
      await detachRunning(state.Pid, await runningHolderPid(), rootless, [endpoint.InterfaceName]);
    }
    const fresh = readRecord(record.Id) ?? record;
    const networks = { ...fresh.Networks };
    delete networks[network.name];
    const left = Object.keys(networks);
    const updated: ContainerRecord = { ...fresh, HostConfig: { ...fresh.HostConfig, NetworkMode: left[0] ?? 'none' } };
    if (left.length > 0) updated.Networks = networks;
    else delete updated.Networks;
    writeRecord(updated);
    await refreshHosts([network.id], lock);
    // Its own hosts file loses the block when it left its last network.
    const own = readHostsFile(record.Id);
    if (own !== undefined && left.length === 0) rewriteHostsFile(record.Id, withBlock(own, ''));
  } finally {
    lock.release();
  }
  networkEvent('disconnect', network, { id: record.Id, name: record.Name });
}
