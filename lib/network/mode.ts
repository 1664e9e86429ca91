// --network/--net as Podman spells it: none, host, pasta[:OPTIONS],
// slirp4netns[:OPTIONS], container:NAME|ID, ns:PATH, and the default (a
// private network through pasta, else slirp4netns). Pure: no I/O.
import { SkiffError } from '../errors.js';

/** slirp4netns's options, Podman's keys (`slirp4netns:allow_host_loopback=true,mtu=1500`). */
export interface SlirpOptions {
  allowHostLoopback: boolean;
  /** IPv4 network of the container, a /24 or wider (default 10.0.2.0/24). */
  cidr?: string;
  enableIpv6: boolean;
  mtu?: number;
  outboundAddr?: string;
  outboundAddr6?: string;
}

export type NetworkRequest =
  | { kind: 'none' }
  | { kind: 'host' }
  /** No mode given: pasta, else slirp4netns (with a warning). */
  | { kind: 'default' }
  /** pasta with its own options after the colon, passed to it as given (Podman). */
  | { kind: 'pasta'; options: string[] }
  | { kind: 'slirp4netns'; options: SlirpOptions }
  | { kind: 'container'; ref: string }
  | { kind: 'ns'; path: string }
  /** Any other word: user-defined networks by name (NAME or NAME,NAME…). */
  | { kind: 'named'; names: string[] };

const SLIRP_DEFAULTS: SlirpOptions = { allowHostLoopback: false, enableIpv6: false };

function parseBool(key: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new SkiffError(`invalid slirp4netns option ${key}=${value}: use true or false`);
}

/** IPv4 dotted quad, each part 0-255. */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function parseSlirpOptions(text: string): SlirpOptions {
  const options: SlirpOptions = { ...SLIRP_DEFAULTS };
  for (const item of text === '' ? [] : text.split(',')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    switch (key) {
      case 'allow_host_loopback':
        options.allowHostLoopback = parseBool(key, value);
        break;
      case 'enable_ipv6':
        options.enableIpv6 = parseBool(key, value);
        break;
      case 'cidr': {
        const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(value);
        if (!m || !isIPv4(m[1]!) || Number(m[2]) > 24 || Number(m[2]) < 8) throw new SkiffError(`invalid slirp4netns option cidr=${value}: use an IPv4 network of /24 or wider, e.g. 10.0.2.0/24`);
        options.cidr = value;
        break;
      }
      case 'mtu': {
        const n = Number(value);
        if (!/^\d+$/.test(value) || n < 68 || n > 65521) throw new SkiffError(`invalid slirp4netns option mtu=${value}: use a number from 68 to 65521`);
        options.mtu = n;
        break;
      }
      case 'outbound_addr':
        if (value === '') throw new SkiffError('invalid slirp4netns option outbound_addr: give an address or an interface');
        options.outboundAddr = value;
        break;
      case 'outbound_addr6':
        if (value === '') throw new SkiffError('invalid slirp4netns option outbound_addr6: give an address or an interface');
        options.outboundAddr6 = value;
        break;
      case 'port_handler':
        // Podman's default is rootlesskit, a user-space proxy skiff does not have; slirp4netns's own forwards are what skiff uses.
        if (value !== 'slirp4netns') throw new SkiffError(`invalid slirp4netns option port_handler=${value}: skiff publishes ports through slirp4netns itself (port_handler=slirp4netns)`);
        break;
      default:
        throw new SkiffError(`unknown slirp4netns option "${key}": use allow_host_loopback, cidr, enable_ipv6, mtu, outbound_addr, outbound_addr6 or port_handler`);
    }
  }
  return options;
}

/** Podman's pasta options after the colon: comma-separated, each word one argument ("-t,8080" or "--map-gw"). */
function parsePastaOptions(text: string): string[] {
  return text === '' ? [] : text.split(',');
}

export function parseNetworkMode(text: string | undefined): NetworkRequest {
  if (text === undefined || text === '' || text === 'default' || text === 'private') return { kind: 'default' };
  if (text === 'none') return { kind: 'none' };
  if (text === 'host') return { kind: 'host' };
  const colon = text.indexOf(':');
  const head = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  if (head === 'pasta') return { kind: 'pasta', options: parsePastaOptions(rest) };
  if (head === 'slirp4netns') return { kind: 'slirp4netns', options: parseSlirpOptions(rest) };
  if (head === 'container') {
    if (rest === '') throw new SkiffError('invalid network mode "container:": name the container (container:NAME or container:ID)');
    return { kind: 'container', ref: rest };
  }
  if (head === 'ns') {
    if (!rest.startsWith('/')) throw new SkiffError(`invalid network mode "${text}": ns: takes an absolute path to a network namespace (ns:/run/netns/NAME)`);
    return { kind: 'ns', path: rest };
  }
  if (head === 'bridge') throw new SkiffError('network mode "bridge" is not available: skiff gives each container a private network through pasta by default (omit --network), or use a network made with \'skiff network create\'');
  const names = text.split(',');
  if (!names.every((n) => /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(n))) throw new SkiffError(`invalid network mode "${text}": use none, host, pasta[:OPTIONS], slirp4netns[:OPTIONS], container:NAME, ns:PATH or a network's name`);
  return { kind: 'named', names };
}
