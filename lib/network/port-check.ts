// Published ports on this host: every host port known before anything
// starts (a missing one picked free), and a port that cannot be had refused
// by name: in use, or below net.ipv4.ip_unprivileged_port_start rootless.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { SkiffError } from '../errors.js';
import type { PortBinding, PortProtocol, PortRequest } from './ports.js';

/** The lowest port an unprivileged user may bind (the sysctl), 1024 when it cannot be read. */
export function unprivilegedPortStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  } catch {
    return 1024;
  }
}

interface Held {
  port: number;
  close(): Promise<void>;
}

/** Binds the port as the network program will (any address: IPv6 and IPv4 both); resolves with it held, or rejects with the errno. */
function hold(ip: string, port: number, protocol: PortProtocol): Promise<Held> {
  const host = ip === '' ? '::' : ip;
  if (protocol === 'tcp') {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', (err) => reject(err));
      server.listen({ host, port, ipv6Only: false, exclusive: true }, () => {
        const addr = server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : port;
        resolve({ port: bound, close: () => new Promise((r) => server.close(() => r())) });
      });
    });
  }
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: false });
    socket.once('error', (err) => reject(err));
    socket.bind({ address: host, port, exclusive: true }, () => {
      resolve({ port: socket.address().port, close: () => new Promise((r) => socket.close(() => r())) });
    });
  });
}

/** Without IPv6 on the host, "::" cannot be bound: the check falls back to IPv4's any address. */
async function holdAny(ip: string, port: number, protocol: PortProtocol): Promise<Held> {
  try {
    return await hold(ip, port, protocol);
  } catch (err) {
    if (ip === '' && (err as { code?: string }).code === 'EAFNOSUPPORT') return hold('0.0.0.0', port, protocol);
    throw err;
  }
}

function where(ip: string, port: number | string, protocol: PortProtocol): string {
  return `${ip === '' ? '' : ip.includes(':') ? `[${ip}]:` : `${ip}:`}${port}/${protocol}`;
}

function refuse(err: unknown, ip: string, port: number, protocol: PortProtocol): never {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE') throw new SkiffError(`cannot publish port ${where(ip, port, protocol)}: it is already in use on the host (free it, or publish another host port)`);
  if (code === 'EADDRNOTAVAIL') throw new SkiffError(`cannot publish port ${where(ip, port, protocol)}: ${ip} is not an address of this host`);
  if (code === 'EACCES') throw new SkiffError(`cannot publish port ${where(ip, port, protocol)}: permission denied`);
  throw new SkiffError(`cannot publish port ${where(ip, port, protocol)}: ${(err as Error).message}`);
}

/**
 * Every -p/-P request with its host port: those given are checked free,
 * those left out are picked (any free port, or the first free one of a
 * range). All ports are held until every one is known, so two picks never
 * meet; then released for the network program to bind.
 */
export async function resolvePublishedPorts(requests: PortRequest[], rootless: boolean): Promise<PortBinding[]> {
  if (requests.length === 0) return [];
  const start = rootless ? unprivilegedPortStart() : 0;
  const seen = new Set<string>();
  for (const r of requests) {
    if (r.hostPort === 0) continue;
    const key = `${r.hostIp}|${r.hostPort}|${r.protocol}`;
    if (seen.has(key)) throw new SkiffError(`cannot publish port ${where(r.hostIp, r.hostPort, r.protocol)} twice`);
    seen.add(key);
    if (r.hostPort < start) {
      throw new SkiffError(
        `cannot publish port ${where(r.hostIp, r.hostPort, r.protocol)}: rootless, ports below ${start} (net.ipv4.ip_unprivileged_port_start) need root: lower it with 'sudo sysctl net.ipv4.ip_unprivileged_port_start=${r.hostPort}', or publish a port of ${start} or more`,
      );
    }
  }
  const held: Held[] = [];
  const bindings: PortBinding[] = [];
  try {
    for (const r of requests) {
      if (r.hostRange) {
        let got: Held | undefined;
        const lo = Math.max(r.hostRange[0], start);
        for (let p = lo; p <= r.hostRange[1] && !got; p++) {
          try {
            got = await holdAny(r.hostIp, p, r.protocol);
          } catch {
            // taken: the next one
          }
        }
        if (!got) throw new SkiffError(`cannot publish port ${r.containerPort}/${r.protocol}: no port of ${r.hostRange[0]}-${r.hostRange[1]} is free${lo > r.hostRange[0] ? ` (rootless, ports below ${start} cannot be used)` : ''}`);
        held.push(got);
        bindings.push({ hostIp: r.hostIp, hostPort: got.port, containerPort: r.containerPort, protocol: r.protocol });
        continue;
      }
      let got: Held;
      try {
        got = await holdAny(r.hostIp, r.hostPort, r.protocol);
      } catch (err) {
        refuse(err, r.hostIp, r.hostPort, r.protocol);
      }
      held.push(got);
      bindings.push({ hostIp: r.hostIp, hostPort: got.port, containerPort: r.containerPort, protocol: r.protocol });
    }
  } finally {
    await Promise.all(held.map((h) => h.close()));
  }
  return bindings;
}
