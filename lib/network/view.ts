// How networks are shown: Podman's JSON (network inspect, ls --format json),
// the Go-template fields of `network ls` and `network inspect --format`, and
// the filters of ls and prune.
import { SkiffError } from '../errors.js';
import type { NetworkRecord } from './networks.js';

/** A container on the network as Podman 5's inspect lists it. */
export interface NetworkMember {
  id: string;
  name: string;
  interfaceName: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
}

/** Podman 5's `network inspect` object: the record and its containers. */
export function inspectJson(record: NetworkRecord, members: NetworkMember[]) {
  const containers: Record<string, unknown> = {};
  for (const m of members) {
    containers[m.id] = {
      name: m.name,
      interfaces: {
        [m.interfaceName]: { subnets: [{ ipnet: `${m.ipAddress}/${m.prefixLen}`, gateway: m.gateway }], mac_address: m.macAddress },
      },
    };
  }
  return { ...record, containers };
}

function labelsText(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
}

/** The Go struct's field names (Podman's types.Network), for --format templates. */
export function templateView(record: NetworkRecord, opts: { shortId: boolean }) {
  return {
    Name: record.name,
    ID: opts.shortId ? record.id.slice(0, 12) : record.id,
    Driver: record.driver,
    NetworkInterface: record.network_interface,
    Created: record.created,
    Subnets: record.subnets.map((s) => ({ Subnet: s.subnet, Gateway: s.gateway })),
    IPv6Enabled: record.ipv6_enabled,
    Internal: record.internal,
    DNSEnabled: record.dns_enabled,
    Labels: opts.shortId ? labelsText(record.labels) : (record.labels ?? {}),
    Options: {},
    IPAMOptions: record.ipam_options,
  };
}

export type NetworkFilter = (record: NetworkRecord, inUse: boolean) => boolean;

function labelMatch(record: NetworkRecord, value: string): boolean {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  const labels = record.labels ?? {};
  return Object.hasOwn(labels, key) && (eq < 0 || labels[key] === value.slice(eq + 1));
}

function untilTime(value: string): number {
  const t = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(t)) {
    const m = /^(\d+)(s|m|h)$/.exec(value);
    if (!m) throw new SkiffError(`invalid filter 'until=${value}': use a timestamp, seconds since the epoch, or a duration such as 24h`);
    return Date.now() - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  }
  return t;
}

function parseOne(key: string, value: string, allowed: readonly string[]): NetworkFilter {
  if (!allowed.includes(key)) throw new SkiffError(`invalid filter '${key}': use ${allowed.map((k) => `${k}=`).join(', ')}`);
  switch (key) {
    case 'name': {
      let re: RegExp;
      try {
        re = new RegExp(value);
      } catch {
        throw new SkiffError(`invalid filter 'name=${value}': not a regular expression`);
      }
      return (n) => re.test(n.name);
    }
    case 'id':
      return (n) => n.id.startsWith(value);
    case 'driver':
      return (n) => n.driver === value;
    case 'label':
      return (n) => labelMatch(n, value);
    case 'label!':
      return (n) => !labelMatch(n, value);
    case 'until': {
      const t = untilTime(value);
      return (n) => Date.parse(n.created) < t;
    }
    case 'dangling': {
      if (!['true', 'false', '1', '0'].includes(value)) throw new SkiffError(`invalid filter 'dangling=${value}': use true or false`);
      const dangling = value === 'true' || value === '1';
      return (_n, inUse) => inUse !== dangling;
    }
  }
  throw new SkiffError(`invalid filter '${key}'`);
}

/** KEY=VALUE filters as one predicate: one key's filters match if any does; different keys must all match (label! all). */
export function parseNetworkFilters(texts: string[], allowed: readonly string[]): NetworkFilter {
  const byKey = new Map<string, NetworkFilter[]>();
  for (const text of texts) {
    const m = /^([a-z]+!?)=(.*)$/.exec(text);
    if (!m) throw new SkiffError(`bad format of filter "${text}": expected KEY=VALUE`);
    byKey.set(m[1]!, [...(byKey.get(m[1]!) ?? []), parseOne(m[1]!, m[2]!, allowed)]);
  }
  const groups = [...byKey.entries()];
  return (n, inUse) => groups.every(([key, fs]) => (key === 'label!' ? fs.every((f) => f(n, inUse)) : fs.some((f) => f(n, inUse))));
}
