// A container's private network: which program (pasta, else slirp4netns),
// its command line as the helper runs it (helpers-c/src/net.h: the
// container's network namespace on fd 3, its user namespace on fd 4, the
// ready pipe on fd 5, the exit pipe on fd 6), its addresses, and the
// host's faults that stop it, each named with its fix.
import { accessSync, closeSync, constants, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { networkInterfaces, userInfo } from 'node:os';
import { SkiffError } from '../errors.js';
import type { HelperNetworkProgram } from '../oci/spec/options.js';
import { findProgram } from '../host/programs.js';
import type { NetworkRequest, SlirpOptions } from './mode.js';
import type { PortBinding } from './ports.js';

/** The MTU of the container's interface: as Podman's, large, so a loopback-speed path is not cut into 1500-byte frames. */
export const NETWORK_MTU = 65520;

/**
 * What the helper gets (config.json annotation io.skiff.net, read by
 * lib/namespaces/helper.ts): pasta's argv, tried first; slirp4netns's,
 * alone or the fallback when pasta fails at start; where their messages
 * go; slirp4netns's API socket and the port forwards made through it.
 */
export type NetworkProgram = HelperNetworkProgram;

export interface PrivateNetwork {
  /** What inspect and ps call the mode: pasta or slirp4netns. */
  label: 'pasta' | 'slirp4netns';
  program: NetworkProgram;
  /** The container's address, its gateway and its DNS forwarder. */
  ip: string;
  prefixLength: number;
  gateway: string;
  dns: string;
  /** host.containers.internal is the gateway (it leads to the host's loopback), else the host's own address: hostAddressOf. */
  gatewayIsHost: boolean;
  /** The warning to print once (a fallback), if any. */
  warning?: string;
}

export interface NetworkContext {
  /** The container's id, in the program's environment. */
  owner: string;
  rootless: boolean;
  /** Where the program's messages go (the container's directory). */
  logPath: string;
  /** slirp4netns's API socket (short: a unix socket path holds 107 bytes). */
  apiSocket: string;
  macAddress?: string;
  /**
   * Rootless, the container joins a user namespace that exists (another
   * container's, or the user networks' holder's): the helper has joined it,
   * the program inherits it, and must not be told to enter it again.
   */
  joinsUserNamespace?: boolean;
  /** The interface pasta makes in the container (default eth0; tap0 beside user-defined networks' eth0…). */
  ifname?: string;
  /**
   * The container sets net.ipv4.tcp_fwmark_accept itself (--sysctl), after
   * skiff-forward has set it to 1 for its wildcard ports' replies: those
   * ports stay pasta's.
   */
  setsFwmarkAccept?: boolean;
}

const PASTA_SUBNET = { ip: '10.0.2.100', prefixLength: 24, gateway: '10.0.2.2', dns: '10.0.2.3' };

/** The host's first non-loopback IPv4 address: what the container reaches the host at without the loopback mapping. */
export function hostNonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/**
 * What pasta execs first thing when the CPU has AVX2 (passt's arch.c): the
 * file it runs from, /proc/self/exe, with ".avx2" added (Debian and Fedora
 * ship passt.avx2 beside passt), unless it is that build already. Only when
 * `pasta` is that binary itself (ELF), not a wrapper script of the user's:
 * the helper checks the CPU (net.c) and execs it directly, with pasta's argv.
 */
export function pastaAvx2Build(pasta: string): string | undefined {
  try {
    const real = realpathSync.native(pasta);
    if (real.endsWith('.avx2')) return undefined;
    const head = Buffer.alloc(4);
    const fd = openSync(real, 'r');
    try {
      if (readSync(fd, head, 0, 4, 0) !== 4 || !head.equals(ELF_MAGIC)) return undefined;
    } finally {
      closeSync(fd);
    }
    const st = statSync(`${real}.avx2`);
    return st.isFile() && (st.mode & 0o111) !== 0 ? `${real}.avx2` : undefined;
  } catch {
    return undefined;
  }
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** Rootless private networking needs the tun device; root opens it whatever its mode. */
function checkTun(): void {
  const dev = '/dev/net/tun';
  try {
    accessSync(dev, constants.R_OK | constants.W_OK);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new SkiffError(`private networking needs ${dev}, which is missing: load the tun module (sudo modprobe tun), or run with --network none or host`);
    throw new SkiffError(`private networking needs ${dev}, which ${userInfo().username} cannot open: make it usable (sudo chmod 666 ${dev}; see 'skiff doctor'), or run with --network none or host`);
  }
}

/** A host address on the loopback (127.0.0.0/8, ::1): its clients are the host's own. */
function isLoopbackAddress(ip: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(ip) || ip === '::1';
}

/** A binding on every address of the host: none given, 0.0.0.0 or ::. */
function isWildcardAddress(ip: string): boolean {
  return ip === '' || ip === '0.0.0.0' || ip === '::';
}

/**
 * The bindings skiff's own forwarder serves (helpers-c/src/net_forward.h)
 * rather than pasta: TCP on a loopback address, and, when `wildcard` (the
 * container's address is skiff's: pasta without options of the user's),
 * TCP on every address. Debian 12's pasta polls a host socket it cannot
 * read from while the container is slower than the sender (a CPU spinning
 * for the whole transfer). A client on the host's loopback is 127.0.0.1
 * to the container through pasta's splice as through the forwarder; any
 * other client of a wildcard port keeps its own address: the forwarder
 * connects from it (IP_TRANSPARENT) to the container's address, as pasta's
 * tap path delivers it.
 */
export function splicedBindings(bindings: PortBinding[], wildcard = false): PortBinding[] {
  const picked = bindings.filter((b) => b.protocol === 'tcp' && (isLoopbackAddress(b.hostIp) || (wildcard && isWildcardAddress(b.hostIp))));
  // More than the forwarder takes (a large range): all of them pasta's, which has no such limit.
  return picked.length > FORWARD_MAX_PORTS ? [] : picked;
}

/** The most ports skiff-forward serves (FWD_MAX_PORTS in helpers-c/src/net_forward.c). */
export const FORWARD_MAX_PORTS = 512;

/** The helper's net_splice entry: HOST_ADDR (* for every address, both families) TAB HOST_PORT TAB GUEST_PORT [TAB the container's IPv4 address, for a wildcard port's other clients]. */
export function spliceEntry(b: PortBinding, guestIp: string): string {
  if (isLoopbackAddress(b.hostIp)) return `${b.hostIp}\t${b.hostPort}\t${b.containerPort}`;
  return `${b.hostIp === '' ? '*' : b.hostIp}\t${b.hostPort}\t${b.containerPort}\t${guestIp}`;
}

function pastaPortArgs(bindings: PortBinding[]): string[] {
  const args: string[] = [];
  for (const proto of ['tcp', 'udp'] as const) {
    const flag = proto === 'tcp' ? '-t' : '-u';
    const specs = bindings.filter((b) => b.protocol === proto).map((b) => `${b.hostIp === '' ? '' : `${b.hostIp}/`}${b.hostPort}:${b.containerPort}`);
    // One option per port: pasta takes no list that mixes a bound address with other ports.
    if (specs.length === 0) args.push(flag, 'none');
    for (const spec of specs) args.push(flag, spec);
  }
  return args;
}

/**
 * What host.containers.internal names in the container's /etc/hosts: the
 * gateway when it leads to the host's loopback, else the host's first
 * non-loopback IPv4 address (none, or no private network: no such name), as
 * hostsFile's field. Asked only where a hosts file is written: the host's
 * interfaces cost ~0.3 ms of a run.
 */
export function hostAddressOf(net: PrivateNetwork | undefined): { hostAddress?: string } {
  const hostAddress = net === undefined ? undefined : net.gatewayIsHost ? net.gateway : hostNonLoopbackAddress();
  return hostAddress !== undefined ? { hostAddress } : {};
}

/**
 * Whether /proc/net/ipv6_route (its text) has a default route the host
 * uses (up, not a reject route, not on lo): pasta gives the container IPv6
 * only then, copying the host's address and gateway.
 */
export function hasIPv6DefaultRoute(text: string): boolean {
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^0{32}$/.test(f[0]!) || f[1] !== '00') continue;
    const flags = Number.parseInt(f[8]!, 16);
    // RTF_UP, and not RTF_REJECT (the kernel's unreachable default on lo).
    if ((flags & 0x1) !== 0 && (flags & 0x200) === 0 && f[9] !== 'lo') return true;
  }
  return false;
}

function hostHasIPv6DefaultRoute(): boolean {
  try {
    return hasIPv6DefaultRoute(readFileSync('/proc/net/ipv6_route', 'utf8'));
  } catch {
    // No IPv6 in this kernel.
    return false;
  }
}

function pastaArgv(program: string, userOptions: string[], bindings: PortBinding[], ctx: NetworkContext): { argv: string[]; mapGateway: boolean; pastaInterface?: { name: string; ipv6: boolean } } {
  // Podman's spelling: --map-gw opens the host's loopback at the gateway (skiff's default, as Podman 5's, is --no-map-gw).
  const mapGateway = userOptions.includes('--map-gw');
  const own = userOptions.filter((o) => o !== '--map-gw');
  const has = (...names: string[]) => own.some((o) => names.some((n) => o === n || o.startsWith(`${n}=`)));
  // --no-netns-quit: the helper ends pasta with its container; pasta's inotify watch for that costs an SRCU grace period in its exit (~15 ms measured here), which the helper waits out.
  const argv = [program, '--config-net', '--foreground', '--quiet', '--no-netns-quit'];
  // As root pasta would become nobody, which can no longer enter the container's namespace by its fd.
  if (!ctx.rootless && !has('--runas')) argv.push('--runas', '0');
  argv.push('--ns-ifname', ctx.ifname ?? 'eth0', '--mtu', String(NETWORK_MTU));
  if (!has('-a', '--address')) argv.push('--address', PASTA_SUBNET.ip, '--netmask', String(PASTA_SUBNET.prefixLength));
  if (!has('-g', '--gateway')) argv.push('--gateway', PASTA_SUBNET.gateway);
  argv.push('--dns-forward', PASTA_SUBNET.dns);
  if (!mapGateway) argv.push('--no-map-gw');
  if (ctx.macAddress !== undefined) argv.push('--ns-mac-addr', ctx.macAddress);
  // Ports: only those published; nothing from the container's side to the host's (pasta's default "auto" would forward them).
  const ports = pastaPortArgs(bindings);
  // The user's own -t/-u add to the published ports (as Podman passes both): only skiff's "none" gives way to them.
  for (let i = 0; i < ports.length; i += 2) {
    if (ports[i + 1] === 'none' && ports[i] === '-t' && has('-t', '--tcp-ports')) continue;
    if (ports[i + 1] === 'none' && ports[i] === '-u' && has('-u', '--udp-ports')) continue;
    argv.push(ports[i]!, ports[i + 1]!);
  }
  if (!has('-T', '--tcp-ns')) argv.push('-T', 'none');
  if (!has('-U', '--udp-ns')) argv.push('-U', 'none');
  argv.push('--netns', '/proc/self/fd/3');
  if (ctx.rootless && !ctx.joinsUserNamespace) argv.push('--userns', '/proc/self/fd/4');
  argv.push('--pid', '/proc/self/fd/5');
  // With options of the user's (other addresses, -4/-6, another interface…) skiff cannot tell what pasta will configure: the container waits until it is ready.
  if (own.length > 0) return { argv: [...argv, ...own], mapGateway };
  const ifname = ctx.ifname ?? 'eth0';
  const ipv6 = hostHasIPv6DefaultRoute();
  // Without an IPv6 default route pasta configures no IPv6; said explicitly, so the helper knows it waits for IPv4's route alone.
  if (!ipv6) argv.push('--ipv4-only');
  return { argv, mapGateway, pastaInterface: { name: ifname, ipv6 } };
}

/** 10.0.2.0/24 -> its .100 (the container), .2 (the gateway) and .3 (DNS), as slirp4netns assigns them. */
function slirpAddresses(cidr: string | undefined): { ip: string; prefixLength: number; gateway: string; dns: string } {
  const [net, bits] = (cidr ?? '10.0.2.0/24').split('/') as [string, string];
  const base = net.split('.').map(Number);
  const value = ((base[0]! << 24) | (base[1]! << 16) | (base[2]! << 8) | base[3]!) >>> 0;
  const at = (n: number) => {
    const v = (value + n) >>> 0;
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  };
  return { ip: at(100), prefixLength: Number(bits), gateway: at(2), dns: at(3) };
}

/** slirp4netns's interface in the container. */
const SLIRP_TAP = 'tap0';

function slirpArgv(program: string, options: SlirpOptions, bindings: PortBinding[], ctx: NetworkContext): { argv: string[]; forwards: string[] } {
  const argv = [program, '--configure', `--mtu=${options.mtu ?? NETWORK_MTU}`];
  if (!options.allowHostLoopback) argv.push('--disable-host-loopback');
  if (options.enableIpv6) argv.push('--enable-ipv6');
  if (options.cidr !== undefined) argv.push(`--cidr=${options.cidr}`);
  if (options.outboundAddr !== undefined) argv.push(`--outbound-addr=${options.outboundAddr}`);
  if (options.outboundAddr6 !== undefined) argv.push(`--outbound-addr6=${options.outboundAddr6}`);
  if (ctx.macAddress !== undefined) argv.push(`--macaddress=${ctx.macAddress}`);
  argv.push('--ready-fd=5', '--exit-fd=6');
  const forwards = bindings.map((b) => `${b.protocol}\t${b.hostIp === '' ? '0.0.0.0' : b.hostIp}\t${b.hostPort}\t${b.containerPort}`);
  if (forwards.length > 0) argv.push(`--api-socket=${ctx.apiSocket}`);
  if (ctx.rootless && !ctx.joinsUserNamespace) argv.push('--userns-path=/proc/self/fd/4');
  argv.push('--netns-type=path', '/proc/self/fd/3', SLIRP_TAP);
  return { argv, forwards };
}

/**
 * The private network a container gets for `request` (default, pasta or
 * slirp4netns), or one line saying why this host cannot give it and what
 * fixes it.
 */
export function planPrivateNetwork(request: Extract<NetworkRequest, { kind: 'default' | 'pasta' | 'slirp4netns' }>, bindings: PortBinding[], ctx: NetworkContext): PrivateNetwork {
  const pasta = request.kind === 'slirp4netns' ? undefined : findProgram('pasta');
  const slirp = request.kind === 'pasta' ? undefined : findProgram('slirp4netns');
  if (request.kind === 'pasta' && !pasta) throw new SkiffError('--network pasta: pasta is not installed: install the passt package (sudo apt-get install passt), or use slirp4netns');
  if (request.kind === 'slirp4netns' && !slirp) throw new SkiffError('--network slirp4netns: slirp4netns is not installed: install it (sudo apt-get install slirp4netns), or use pasta');
  if (!pasta && !slirp) throw new SkiffError('private networking needs pasta or slirp4netns, and neither is installed: install passt (sudo apt-get install passt), or run with --network none or host');
  if (ctx.rootless) checkTun();
  const program: NetworkProgram = { owner: ctx.owner, log: ctx.logPath };
  if (pasta) {
    const userOptions = request.kind === 'pasta' ? request.options : [];
    // With ports the user gave pasta (-t), every published TCP port is pasta's too.
    // Wildcard ports only where the container's address is skiff's own (no options of the user's, which may change it), and tcp_fwmark_accept skiff's to set.
    const spliced = userOptions.some((o) => o === '-t' || o.startsWith('--tcp-ports')) ? [] : splicedBindings(bindings, userOptions.length === 0 && !ctx.setsFwmarkAccept);
    const forPasta = bindings.filter((b) => !spliced.includes(b));
    const { argv, mapGateway, pastaInterface } = pastaArgv(pasta, userOptions, forPasta, ctx);
    program.pasta = argv;
    if (spliced.length > 0) program.splice = spliced.map((b) => spliceEntry(b, PASTA_SUBNET.ip));
    const avx2 = pastaAvx2Build(pasta);
    if (avx2 !== undefined) program.pastaAvx2 = avx2;
    if (pastaInterface) program.pastaInterface = pastaInterface;
    // The default network falls back to slirp4netns when pasta fails at start (the helper warns then).
    if (request.kind === 'default' && slirp) {
      const s = slirpArgv(slirp, { allowHostLoopback: false, enableIpv6: false }, forPasta, ctx);
      program.slirp = s.argv;
      // Made by the helper only when the fallback comes, once pasta's interface is deleted.
      program.slirpInterface = SLIRP_TAP;
      if (s.forwards.length > 0) Object.assign(program, { api: ctx.apiSocket, forwards: s.forwards });
    }
    return { label: 'pasta', program, ...PASTA_SUBNET, gatewayIsHost: mapGateway };
  }
  const options = request.kind === 'slirp4netns' ? request.options : { allowHostLoopback: false, enableIpv6: false };
  const s = slirpArgv(slirp!, options, bindings, ctx);
  program.slirp = s.argv;
  // slirp4netns alone: the container makes its tap beforehand.
  program.slirpInterface = SLIRP_TAP;
  if (s.forwards.length > 0) Object.assign(program, { api: ctx.apiSocket, forwards: s.forwards });
  const addresses = slirpAddresses(options.cidr);
  return {
    label: 'slirp4netns',
    program,
    ...addresses,
    gatewayIsHost: options.allowHostLoopback,
    ...(request.kind === 'default' ? { warning: 'pasta is not installed (package passt): the container\'s network goes through slirp4netns' } : {}),
  };
}
