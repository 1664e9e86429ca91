// -p/--publish and -P/--publish-all in Docker's syntax, and the forms
// Docker prints them in (inspect, ps, port). Pure: no I/O (bind checks and
// free ports are in port-check.ts).
import { SkiffError } from '../errors.js';
import { isIPv4 } from './mode.js';

export type PortProtocol = 'tcp' | 'udp';

/** One -p as written, ranges expanded: a host port of 0 is picked when the container is created. */
export interface PortRequest {
  hostIp: string;
  /** 0: any free port; with hostRange, one free port of that range. */
  hostPort: number;
  hostRange?: [number, number];
  containerPort: number;
  protocol: PortProtocol;
}

/** A published port as the container has it: every host port known. */
export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
}

function parsePort(text: string, spec: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new SkiffError(`invalid port "${text}" in -p ${spec}: ports are 1 to 65535`);
  return n;
}

function parseRange(text: string, spec: string): [number, number] {
  const dash = text.indexOf('-');
  if (dash < 0) {
    const p = parsePort(text, spec);
    return [p, p];
  }
  // "-1", "1-", "1--2": a range with an end missing (a negative number reads so too).
  if (dash === 0 || dash === text.length - 1 || text.indexOf('-', dash + 1) >= 0) throw new SkiffError(`invalid port range "${text}" in -p ${spec}: write START-END, each 1 to 65535`);
  const lo = parsePort(text.slice(0, dash), spec);
  const hi = parsePort(text.slice(dash + 1), spec);
  if (hi < lo) throw new SkiffError(`invalid port range "${text}" in -p ${spec}: the end is below the start`);
  return [lo, hi];
}

function isIPv6(text: string): boolean {
  return /^[0-9a-fA-F:.]+$/.test(text) && text.includes(':');
}

/** `[[IP:][HOSTPORT]:]CONTAINERPORT[/PROTOCOL]`, ranges as `8000-8003:80-83`; an IPv6 address in brackets. */
export function parsePublish(spec: string): PortRequest[] {
  let rest = spec;
  let protocol: PortProtocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const proto = rest.slice(slash + 1).toLowerCase();
    if (proto === 'sctp') throw new SkiffError(`cannot publish ${spec}: sctp is not supported (pasta and slirp4netns forward tcp and udp)`);
    if (proto !== 'tcp' && proto !== 'udp') throw new SkiffError(`invalid protocol "${rest.slice(slash + 1)}" in -p ${spec}: use tcp or udp`);
    protocol = proto;
    rest = rest.slice(0, slash);
  }
  let hostIp = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']:');
    if (close < 0) throw new SkiffError(`invalid -p ${spec}: an IPv6 address goes in brackets, followed by a colon: [::1]:8080:80`);
    hostIp = rest.slice(1, close);
    if (!isIPv6(hostIp)) throw new SkiffError(`invalid IP address "${hostIp}" in -p ${spec}`);
    rest = rest.slice(close + 2);
    if (!rest.includes(':')) rest = `:${rest}`;
  }
  const parts = rest.split(':');
  if (parts.length > 3 || parts.some((p, i) => p === '' && i === parts.length - 1)) throw new SkiffError(`invalid -p ${spec}: use [[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp]`);
  const containerText = parts[parts.length - 1]!;
  const hostText = parts.length >= 2 ? parts[parts.length - 2]! : '';
  if (parts.length === 3) {
    if (hostIp !== '') throw new SkiffError(`invalid -p ${spec}: use [[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp]`);
    hostIp = parts[0]!;
    if (!isIPv4(hostIp) && !isIPv6(hostIp)) throw new SkiffError(`invalid IP address "${hostIp}" in -p ${spec}`);
  }
  const [cLo, cHi] = parseRange(containerText, spec);
  const count = cHi - cLo + 1;
  if (hostText === '') {
    return Array.from({ length: count }, (_, i) => ({ hostIp, hostPort: 0, containerPort: cLo + i, protocol }));
  }
  const [hLo, hHi] = parseRange(hostText, spec);
  if (hHi - hLo + 1 === count) return Array.from({ length: count }, (_, i) => ({ hostIp, hostPort: hLo + i, containerPort: cLo + i, protocol }));
  // Docker: a host range with one container port publishes it on one free port of the range.
  if (count === 1) return [{ hostIp, hostPort: 0, hostRange: [hLo, hHi], containerPort: cLo, protocol }];
  throw new SkiffError(`invalid -p ${spec}: the host range has ${hHi - hLo + 1} ports and the container range ${count}`);
}

/** -P: every port the image exposes ("80/tcp", "53/udp", "8000-8002/tcp"), each on a free host port. */
export function publishAllRequests(exposed: Record<string, unknown> | undefined, published: PortRequest[]): PortRequest[] {
  const out: PortRequest[] = [];
  for (const key of Object.keys(exposed ?? {})) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(key);
    if (!m) continue;
    const protocol = (m[3]?.toLowerCase() ?? 'tcp') as PortProtocol | 'sctp';
    if (protocol === 'sctp') continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let p = lo; p <= hi; p++) {
      if (published.some((r) => r.containerPort === p && r.protocol === protocol)) continue;
      out.push({ hostIp: '', hostPort: 0, containerPort: p, protocol });
    }
  }
  return out;
}

/** --expose PORT[/PROTO] and ranges: the keys of Config.ExposedPorts. */
export function parseExpose(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/i.exec(spec);
  if (!m) throw new SkiffError(`invalid --expose ${spec}: use PORT[-PORT][/tcp|udp]`);
  const [lo, hi] = parseRange(m[2] === undefined ? m[1]! : `${m[1]}-${m[2]}`, spec);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  return Array.from({ length: hi - lo + 1 }, (_, i) => `${lo + i}/${proto}`);
}

/** Docker's HostConfig.PortBindings: as asked, "" for a port to pick. */
export function portBindingsConfig(requests: PortRequest[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const r of requests) {
    const key = `${r.containerPort}/${r.protocol}`;
    const hostPort = r.hostRange ? `${r.hostRange[0]}-${r.hostRange[1]}` : r.hostPort === 0 ? '' : String(r.hostPort);
    (out[key] ??= []).push({ HostIp: r.hostIp, HostPort: hostPort });
  }
  return out;
}

function shownIp(ip: string): string {
  return ip === '' ? '0.0.0.0' : ip;
}

/** Docker's NetworkSettings.Ports: every exposed port, null when it is not published. */
export function networkSettingsPorts(bindings: PortBinding[], exposed: Record<string, unknown> | undefined): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of Object.keys(exposed ?? {})) out[key.includes('/') ? key : `${key}/tcp`] = null;
  for (const b of bindings) {
    const key = `${b.containerPort}/${b.protocol}`;
    (out[key] ??= []);
    out[key]!.push({ HostIp: shownIp(b.hostIp), HostPort: String(b.hostPort) });
  }
  return out;
}

function hostAddress(ip: string, port: number | string): string {
  const shown = shownIp(ip);
  return shown.includes(':') ? `[${shown}]:${port}` : `${shown}:${port}`;
}

/** `skiff port CTR [PORT[/PROTO]]`: "80/tcp -> 0.0.0.0:8080" lines, or the addresses of one port. */
export function portLines(bindings: PortBinding[], filter?: string): string[] {
  if (filter === undefined) return bindings.map((b) => `${b.containerPort}/${b.protocol} -> ${hostAddress(b.hostIp, b.hostPort)}`);
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(filter);
  if (!m) throw new SkiffError(`invalid port "${filter}": use PORT[/tcp|udp]`);
  const port = Number(m[1]);
  const proto = (m[2] ?? 'tcp').toLowerCase();
  return bindings.filter((b) => b.containerPort === port && b.protocol === proto).map((b) => hostAddress(b.hostIp, b.hostPort));
}

/** The PORTS column of ps, as Docker prints it: consecutive ports joined into ranges, exposed-only ports as "80/tcp". */
export function portsColumn(bindings: PortBinding[], exposed: Record<string, unknown> | undefined): string {
  const sorted = [...bindings].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.hostIp.localeCompare(b.hostIp) || a.containerPort - b.containerPort || a.hostPort - b.hostPort);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const first = sorted[i]!;
    let j = i;
    while (j + 1 < sorted.length) {
      const next = sorted[j + 1]!;
      const cur = sorted[j]!;
      if (next.protocol !== first.protocol || next.hostIp !== first.hostIp || next.containerPort !== cur.containerPort + 1 || next.hostPort !== cur.hostPort + 1) break;
      j++;
    }
    const last = sorted[j]!;
    const host = first === last ? String(first.hostPort) : `${first.hostPort}-${last.hostPort}`;
    const ctr = first === last ? String(first.containerPort) : `${first.containerPort}-${last.containerPort}`;
    parts.push(`${hostAddress(first.hostIp, host)}->${ctr}/${first.protocol}`);
    i = j + 1;
  }
  const published = new Set(bindings.map((b) => `${b.containerPort}/${b.protocol}`));
  for (const key of Object.keys(exposed ?? {}).sort()) {
    const full = key.includes('/') ? key : `${key}/tcp`;
    if (!published.has(full)) parts.push(full);
  }
  return parts.join(', ');
}
