// A container's /etc/hosts and /etc/resolv.conf, as Docker and Podman
// write them: pure functions of the container's network and the flags
// (--add-host, --dns, --dns-search, --dns-option); the host's resolv.conf
// is read by the caller.
import { SkiffError } from '../errors.js';
import { isIPv4 } from './mode.js';

export interface HostsInput {
  hostname: string;
  /** The container's name (an alias of its address, as Podman writes it). */
  name?: string;
  /** Its address on a private network; none: the hostname goes on 127.0.1.1. */
  ip?: string;
  /** What host.containers.internal and host.docker.internal name, when the network reaches the host. */
  hostAddress?: string;
  /** --add-host, as given. */
  extraHosts: string[];
}

function isIPv6(text: string): boolean {
  return /^[0-9a-fA-F:.]+$/.test(text) && text.includes(':');
}

/** --add-host NAME:IP (or NAME=IP; IP may be host-gateway, or an IPv6 address, in brackets or not). */
export function parseAddHost(spec: string, hostAddress: string | undefined): { name: string; ip: string } {
  const m = /^([^:=\s]+)[:=](.+)$/.exec(spec);
  if (!m) throw new SkiffError(`invalid --add-host "${spec}": use NAME:IP`);
  const name = m[1]!;
  let ip = m[2]!;
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip === 'host-gateway') {
    if (hostAddress === undefined) throw new SkiffError(`--add-host ${spec}: this network has no address for the host`);
    ip = hostAddress;
  }
  if (!isIPv4(ip) && !isIPv6(ip)) throw new SkiffError(`invalid --add-host "${spec}": "${ip}" is not an IP address`);
  if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*)$/.test(name)) throw new SkiffError(`invalid --add-host "${spec}": "${name}" is not a host name`);
  return { name, ip };
}

export function hostsFile(input: HostsInput): string {
  const lines = ['127.0.0.1\tlocalhost localhost.localdomain', '::1\tlocalhost localhost.localdomain ip6-localhost ip6-loopback'];
  for (const spec of input.extraHosts) {
    const { name, ip } = parseAddHost(spec, input.hostAddress);
    lines.push(`${ip}\t${name}`);
  }
  const names = [input.hostname, ...(input.name && input.name !== input.hostname ? [input.name] : [])].join(' ');
  lines.push(`${input.ip ?? '127.0.1.1'}\t${names}`);
  if (input.hostAddress !== undefined) lines.push(`${input.hostAddress}\thost.containers.internal host.docker.internal`);
  return `${lines.join('\n')}\n`;
}

export interface ResolvInput {
  /** The host's /etc/resolv.conf ("" when it has none). */
  hostResolv: string;
  /** The address the container's DNS forwarder answers on; absent: no private network (host: the host's resolvers as they are). */
  forwarder?: string;
  dns: string[];
  search: string[];
  options: string[];
}

function isLoopbackResolver(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/**
 * The host's resolv.conf with each resolver on the host's loopback (a
 * systemd-resolved or dnsmasq stub on 127.0.0.53), which a container on its
 * own network cannot reach, replaced by the network's forwarder; then
 * --dns, --dns-search and --dns-option replace their kind of line.
 */
export function resolvConf(input: ResolvInput): string {
  const servers: string[] = [];
  let search: string[] = [];
  let options: string[] = [];
  for (const raw of input.hostResolv.split('\n')) {
    const line = raw.trim();
    const [word, ...rest] = line.split(/\s+/);
    if (word === 'nameserver' && rest[0]) {
      const ip = rest[0];
      if (input.forwarder !== undefined && isLoopbackResolver(ip)) {
        if (!servers.includes(input.forwarder)) servers.push(input.forwarder);
      } else servers.push(ip);
    } else if (word === 'search' || word === 'domain') search = rest;
    else if (word === 'options') options = rest;
  }
  for (const d of input.dns) if (!isIPv4(d) && !isIPv6(d)) throw new SkiffError(`invalid --dns "${d}": not an IP address`);
  const chosen = input.dns.length > 0 ? input.dns : servers.length > 0 ? servers : input.forwarder !== undefined ? [input.forwarder] : [];
  if (input.search.length > 0) search = input.search.filter((s) => s !== '.');
  if (input.options.length > 0) options = input.options;
  const lines: string[] = [];
  if (search.length > 0) lines.push(`search ${search.join(' ')}`);
  for (const s of chosen) lines.push(`nameserver ${s}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
