// IPv4 subnets of user-defined networks: parsing, overlap, the next free /24.
// Pure, so unit tests cover it; addresses are unsigned 32-bit numbers.
import { SkiffError } from '../errors.js';

export interface Subnet {
  /** The network address (host bits zero). */
  base: number;
  prefix: number;
}

export function parseAddress(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p, i) => p > 255 || (m[i + 1]!.length > 1 && m[i + 1]!.startsWith('0')))) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatAddress(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.89.0.0/24"; an address with host bits set is refused, as Podman refuses it. */
export function parseSubnet(text: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  const addr = m ? parseAddress(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (text.includes(':')) throw new SkiffError(`invalid subnet "${text}": skiff's networks are IPv4 only`);
  if (addr === undefined || !(prefix >= 8 && prefix <= 30)) throw new SkiffError(`invalid subnet "${text}": expected an IPv4 CIDR such as 10.89.0.0/24 (prefix /8 to /30)`);
  const base = (addr & mask(prefix)) >>> 0;
  if (base !== addr) throw new SkiffError(`invalid subnet "${text}": host bits are set, did you mean ${formatAddress(base)}/${prefix}?`);
  return { base, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${formatAddress(s.base)}/${s.prefix}`;
}

export function contains(s: Subnet, addr: number): boolean {
  return ((addr & mask(s.prefix)) >>> 0) === s.base;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(prefix)) >>> 0) === ((b.base & mask(prefix)) >>> 0);
}

/** The broadcast address. */
export function lastAddress(s: Subnet): number {
  return (s.base | ~mask(s.prefix)) >>> 0;
}

/** An address a container or gateway may take: inside, neither the network nor the broadcast address. */
export function isHostAddress(s: Subnet, addr: number): boolean {
  return contains(s, addr) && addr !== s.base && addr !== lastAddress(s);
}

/**
 * The first /24 of 10.89.0.0/16 (Podman's pool for new networks) that
 * overlaps none of `used` (other networks' subnets and the host's routes).
 */
export function nextFreeSubnet(used: Subnet[]): Subnet {
  for (let third = 0; third < 256; third++) {
    const candidate = { base: parseAddress(`10.89.${third}.0`)!, prefix: 24 };
    if (!used.some((u) => overlaps(u, candidate))) return candidate;
  }
  throw new SkiffError('no free subnet left in 10.89.0.0/16: remove unused networks (skiff network prune) or give --subnet');
}

/** The lowest host address of `s` not in `taken`. */
export function nextFreeAddress(s: Subnet, taken: Set<number>): number | undefined {
  for (let a = s.base + 1; a < lastAddress(s); a++) if (!taken.has(a)) return a >>> 0;
  return undefined;
}

/**
 * The host's IPv4 routes (/proc/net/route: little-endian hex), so a new
 * network's subnet does not hide a network the host reaches. The default
 * route (0.0.0.0/0) is left out.
 */
export function hostRoutes(text: string): Subnet[] {
  const out: Subnet[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = Number.parseInt(f[1]!, 16);
    const m = Number.parseInt(f[7]!, 16);
    if (!Number.isFinite(dest) || !Number.isFinite(m) || m === 0) continue;
    const le = (x: number) => (((x & 255) << 24) | (((x >>> 8) & 255) << 16) | (((x >>> 16) & 255) << 8) | (x >>> 24)) >>> 0;
    const maskBe = le(m);
    let prefix = 0;
    while (prefix < 32 && ((maskBe << prefix) & 0x80000000) !== 0) prefix++;
    out.push({ base: (le(dest) & mask(prefix)) >>> 0, prefix });
  }
  return out;
}
