// User-defined networks on disk. This module owns every file below
// <GraphRoot>/networks:
//   networks/<name>.json    one network, in Podman's JSON (network inspect shows it)
//   networks/networks.lock  flock(2): held while a network is made or removed and
//                           while a container's address on one is chosen
//   networks/.tmp-<pid>-<id> a record being written (under the lock); a create
//                           killed midway leaves it: removeNetworkLeftovers
// A record is written whole and renamed into place, and made with a hard link
// (link(2) fails on an existing name), so two `network create` of one name
// make it once. Which containers use a network is the containers layer's to
// say: the commands pass it in.
import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import { networkEvent } from '../events/log.js';
import { urandomBytes } from '../ids.js';
import { currentStoreLocations, storePaths } from '../store/paths.js';
import { lockFile, type StoreLock } from '../store/lock.js';
import { pidAlive } from '../store/atomic.js';
import { formatAddress, formatSubnet, hostRoutes, isHostAddress, nextFreeSubnet, overlaps, parseAddress, parseSubnet, type Subnet } from './subnet.js';

/** A network as Podman's `network inspect` prints it (field names and order). */
export interface NetworkRecord {
  name: string;
  id: string;
  driver: 'bridge';
  /** The bridge's name inside the network namespace that holds it (see holder.ts). */
  network_interface: string;
  created: string;
  subnets: { subnet: string; gateway: string }[];
  ipv6_enabled: false;
  internal: boolean;
  /** Names resolve through /etc/hosts, not a DNS server (docs/how-it-works.md). */
  dns_enabled: false;
  labels?: Record<string, string>;
  ipam_options: { driver: 'host-local' };
}

/** Podman's rule for network names. */
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Names that mean a network mode of --network, never a user network. */
const RESERVED = new Set(['none', 'host', 'bridge', 'default', 'private', 'pasta', 'slirp4netns', 'podman']);

let cachedRoot: string | undefined;

export function networksRoot(): string {
  cachedRoot ??= storePaths(currentStoreLocations().graphRoot).networks;
  return cachedRoot;
}

function recordPath(name: string): string {
  return path.join(networksRoot(), `${name}.json`);
}

function readNetworkFile(name: string): NetworkRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(name), 'utf8')) as NetworkRecord;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

export function listNetworks(): NetworkRecord[] {
  let names: string[];
  try {
    names = readdirSync(networksRoot());
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: NetworkRecord[] = [];
  for (const file of names.sort()) {
    if (!file.endsWith('.json') || file.startsWith('.')) continue;
    const record = readNetworkFile(file.slice(0, -5));
    if (record) out.push(record);
  }
  return out;
}

/** By name, full id or unique id prefix (as Podman finds networks). */
export function findNetwork(ref: string): NetworkRecord | undefined {
  if (NETWORK_NAME.test(ref)) {
    const byName = readNetworkFile(ref);
    if (byName) return byName;
  }
  if (!/^[0-9a-f]{1,64}$/.test(ref)) return undefined;
  const matches = listNetworks().filter((n) => n.id.startsWith(ref));
  if (matches.length > 1) throw new SkiffError(`network id prefix ${ref} is ambiguous: ${matches.map((n) => n.name).join(', ')}`);
  return matches[0];
}

export function requireNetwork(ref: string): NetworkRecord {
  const n = findNetwork(ref);
  if (!n) throw new SkiffError(`unable to find network with name or ID ${ref}: network not found`);
  return n;
}

/** The lock every change of networks and of containers' addresses on them takes. */
export async function lockNetworks(): Promise<StoreLock> {
  mkdirSync(networksRoot(), { recursive: true, mode: 0o755 });
  return lockFile(path.join(networksRoot(), 'networks.lock'), 'exclusive');
}

export interface NewNetwork {
  name?: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  internal: boolean;
  labels: Record<string, string>;
}

function readHostRoutes(): Subnet[] {
  try {
    return hostRoutes(readFileSync('/proc/net/route', 'utf8'));
  } catch {
    return [];
  }
}

/** Checks `spec` (nothing is written before every check passed), then makes the network. */
export async function createNetwork(spec: NewNetwork): Promise<NetworkRecord> {
  const driver = spec.driver ?? 'bridge';
  if (driver !== 'bridge') throw new SkiffError(`unsupported network driver "${driver}": skiff makes bridge networks only`);
  if (spec.name !== undefined) {
    if (!NETWORK_NAME.test(spec.name) || spec.name.length > 200) throw new SkiffError(`invalid network name "${spec.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (RESERVED.has(spec.name)) throw new SkiffError(`network name "${spec.name}" is reserved for the --network mode of that name: choose another`);
  }
  if (spec.gateway !== undefined && spec.subnet === undefined) throw new SkiffError('--gateway needs --subnet');
  const wanted = spec.subnet !== undefined ? parseSubnet(spec.subnet) : undefined;
  let gatewayAddr: number | undefined;
  if (spec.gateway !== undefined) {
    gatewayAddr = parseAddress(spec.gateway);
    if (gatewayAddr === undefined) throw new SkiffError(`invalid gateway "${spec.gateway}": expected an IPv4 address`);
    if (!isHostAddress(wanted!, gatewayAddr)) throw new SkiffError(`gateway ${spec.gateway} is not a host address of subnet ${spec.subnet}`);
  }
  const lock = await lockNetworks();
  try {
    const existing = listNetworks();
    const id = urandomBytes(32).toString('hex');
    const name = spec.name ?? `skiff${nextNumber(existing)}`;
    if (existing.some((n) => n.name === name)) throw new SkiffError(`network name ${name} already used: network already exists`);
    const used = existing.map((n) => parseSubnet(n.subnets[0]!.subnet));
    let subnet: Subnet;
    if (wanted) {
      const clash = existing.find((n) => overlaps(parseSubnet(n.subnets[0]!.subnet), wanted));
      if (clash) throw new SkiffError(`subnet ${formatSubnet(wanted)} is already used by network ${clash.name}`);
      subnet = wanted;
    } else {
      subnet = nextFreeSubnet([...used, ...readHostRoutes()]);
    }
    const record: NetworkRecord = {
      name,
      id,
      driver: 'bridge',
      network_interface: `skbr-${id.slice(0, 10)}`,
      created: new Date().toISOString(),
      subnets: [{ subnet: formatSubnet(subnet), gateway: formatAddress(gatewayAddr ?? subnet.base + 1) }],
      ipv6_enabled: false,
      internal: spec.internal,
      dns_enabled: false,
      ...(Object.keys(spec.labels).length > 0 ? { labels: spec.labels } : {}),
      ipam_options: { driver: 'host-local' },
    };
    const tmp = path.join(networksRoot(), `.tmp-${process.pid}-${id.slice(0, 8)}`);
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
    try {
      linkSync(tmp, recordPath(name));
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw new SkiffError(`network name ${name} already used: network already exists`);
      throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
    networkEvent('create', record);
    return record;
  } finally {
    lock.release();
  }
}

/** Podman names unnamed networks podman1, podman2…; skiff's are skiff1, skiff2… */
function nextNumber(existing: NetworkRecord[]): number {
  let n = 1;
  while (existing.some((e) => e.name === `skiff${n}`)) n++;
  return n;
}

/** Removes the record (the caller checked that no container uses it, under lockNetworks). */
export function removeNetworkRecord(record: NetworkRecord): void {
  try {
    unlinkSync(recordPath(record.name));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    return;
  }
  networkEvent('remove', record);
}

/**
 * The records a `network create` killed midway left (`.tmp-<pid>-<id>`),
 * which no listing shows; never one whose maker is alive. The caller holds
 * lockNetworks, which every create writes its record under. Returns the
 * names removed.
 */
export function removeNetworkLeftovers(): string[] {
  let names: string[];
  try {
    names = readdirSync(networksRoot());
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = /^\.tmp-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    rmSync(path.join(networksRoot(), name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** The network's one subnet and gateway as numbers. */
export function networkAddressing(record: NetworkRecord): { subnet: Subnet; gateway: number } {
  const first = record.subnets[0]!;
  return { subnet: parseSubnet(first.subnet), gateway: parseAddress(first.gateway)! };
}
