// A container's network from its flags (issue 10): the mode, its published
// ports with every host port known, the program that gives a private
// network, and its /etc/hosts and /etc/resolv.conf. The pieces are in
// lib/network; this joins them to containers (container:NAME, the
// container's own paths).
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { useCodePart } from '../code-parts.js';
import { SkiffError } from '../errors.js';
import { readContainersConf } from '../host/containers-conf.js';
import { hostsFile, resolvConf } from '../network/etc-files.js';
import { parseNetworkMode, type NetworkRequest } from '../network/mode.js';
import { hostAddressOf, planPrivateNetwork, type PrivateNetwork } from '../network/plan.js';
import { resolvePublishedPorts } from '../network/port-check.js';
import { parseExpose, parsePublish, publishAllRequests, type PortBinding, type PortRequest } from '../network/ports.js';
import type { HelperNetworkProgram, NetworkMode } from '../oci/spec/options.js';
import { userNetworksNamed } from './networks.js';
import type { NetworkRecord } from '../network/networks.js';
import { containerState } from './state.js';
import { containerDir, networkFallbackPath, resolveContainer, runDir, type ContainerRecord } from './store.js';

/** The network flags of run and create, as typed. */
export interface NetworkFlags {
  network?: string;
  publish: string[];
  publishAll: boolean;
  expose: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  addHosts: string[];
  noHosts: boolean;
  macAddress?: string;
}

export const NO_NETWORK_FLAGS: NetworkFlags = { publish: [], publishAll: false, expose: [], dns: [], dnsSearch: [], dnsOptions: [], addHosts: [], noHosts: false };

export interface ContainerNetwork {
  mode: NetworkMode;
  /** HostConfig.NetworkMode: pasta, slirp4netns, none, host, container:ID, ns:PATH. */
  label: string;
  program?: HelperNetworkProgram;
  join?: string;
  /** Rootless container:NAME: the user namespace that owns its network. */
  userJoinPid?: number;
  requests: PortRequest[];
  bindings: PortBinding[];
  /** Config.ExposedPorts: the image's and --expose's. */
  exposed: Record<string, object>;
  privateNetwork?: PrivateNetwork;
  /** --network NAME[,NAME]: the user-defined networks, joined at each start (networks.ts). */
  userNetworks?: NetworkRecord[];
  /** Said once on stderr: a fallback, a known limit of the host's pasta. */
  warnings: string[];
  /** The files bound onto /etc, by name in the container's directory (none for --no-hosts' hosts). */
  files: { name: string; content: string; destination: string }[];
}

function hostResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

const MAC_PATTERN = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** Where slirp4netns's API socket goes: short, a unix socket path holds 107 bytes. */
function apiSocketPath(id: string): string {
  return path.join(path.dirname(path.dirname(runDir(id))), `slirp-${id.slice(0, 12)}.sock`);
}

/** No --network: containers.conf's [containers] netns when a file sets it, else the private default. */
function defaultNetworkRequest(): NetworkRequest {
  // Code that a `--network none` run does not compile: V8's cache of this bundle must hold it too (code-parts.ts).
  useCodePart('privateNetwork');
  const netns = readContainersConf().netns;
  if (!netns) return { kind: 'default' };
  try {
    return parseNetworkMode(netns.value);
  } catch (err) {
    throw new SkiffError(`invalid containers.conf ${netns.file}: [containers] netns: ${(err as Error).message}`);
  }
}

/**
 * Everything of the container's network that is decided before it starts.
 * Ports are checked and picked here, so a port in use fails the create
 * with nothing made.
 */
export async function resolveContainerNetwork(
  flags: NetworkFlags,
  ctx: {
    id: string;
    name?: string;
    hostname: string;
    rootless: boolean;
    imageExposed?: Record<string, object>;
    /** The root is an image's: its /etc/hostname, hosts and resolv.conf are always skiff's. A --rootfs directory keeps its own unless the flags or a user-defined network ask for skiff's. */
    imageFiles: boolean;
    utsHost: boolean;
    /** Rootless --ipc/--pid container:NAME: the container joins that one's user namespace. */
    joinsUserNamespace: boolean;
    /** --sysctl net.ipv4.tcp_fwmark_accept: skiff-forward's wildcard path needs it at 1 (plan.ts), so the wildcard ports stay pasta's. */
    setsFwmarkAccept?: boolean;
  },
): Promise<ContainerNetwork> {
  const request: NetworkRequest = flags.network ? parseNetworkMode(flags.network) : defaultNetworkRequest();
  const exposed: Record<string, object> = { ...ctx.imageExposed };
  for (const e of flags.expose) for (const key of parseExpose(e)) exposed[key] = {};
  let requests = flags.publish.flatMap((p) => parsePublish(p));
  if (flags.publishAll) requests = [...requests, ...publishAllRequests(exposed, requests)];
  for (const r of requests) exposed[`${r.containerPort}/${r.protocol}`] ??= {};
  // Parts of the code a plain run does not compile (code-parts.ts).
  if (requests.length > 0) useCodePart('publishedPorts');
  if (request.kind === 'named') useCodePart('userNetworks');
  // User-defined networks: all of them --internal means no way in or out; else pasta's beside the bridges.
  const userNetworks = request.kind === 'named' ? userNetworksNamed(request.names) : undefined;
  const outbound = userNetworks !== undefined && userNetworks.some((n) => !n.internal);
  const isPrivate = request.kind === 'default' || request.kind === 'pasta' || request.kind === 'slirp4netns' || outbound;
  if (requests.length > 0 && !isPrivate) {
    if (userNetworks) {
      const names = userNetworks.map((n) => n.name).join(', ');
      throw new SkiffError(`-p/--publish${flags.publishAll ? ' and -P' : ''}: network ${names} ${userNetworks.length > 1 ? 'are' : 'is'} --internal, with no way in from the host or out: add a network that is not`);
    }
    const named = request.kind === 'container' ? `container:${request.ref}` : request.kind === 'ns' ? `ns:${request.path}` : request.kind;
    throw new SkiffError(`-p/--publish${flags.publishAll ? ' and -P' : ''} need a network of the container's own: --network ${named} ${request.kind === 'host' ? 'uses the host\'s ports directly' : request.kind === 'none' ? 'has no network to publish from' : 'shares another namespace (publish on that container)'}`);
  }
  if (flags.macAddress !== undefined) {
    if (!MAC_PATTERN.test(flags.macAddress)) throw new SkiffError(`invalid --mac-address "${flags.macAddress}": use six hex pairs, e.g. 92:d0:c6:0a:29:33`);
    if (!isPrivate) throw new SkiffError('--mac-address needs a network of the container\'s own (pasta or slirp4netns)');
    if (userNetworks) throw new SkiffError('--mac-address on a user-defined network is not supported: the container\'s MAC there is 02:42 and its address');
  }
  if (flags.noHosts && flags.addHosts.length > 0) throw new SkiffError('conflicting options: --add-host and --no-hosts');

  let mode: NetworkMode;
  let label: string;
  let join: string | undefined;
  let userJoinPid: number | undefined;
  let privateNetwork: PrivateNetwork | undefined;
  let bindings: PortBinding[] = [];
  const warnings: string[] = [];
  switch (request.kind) {
    case 'none':
    case 'host':
      mode = request.kind;
      label = request.kind;
      break;
    case 'container': {
      const record: ContainerRecord = resolveContainer(request.ref);
      const state = containerState(record);
      if (!state.Running || !state.Pid) throw new SkiffError(`--network container:${request.ref}: the container is not running`);
      mode = 'join';
      join = `/proc/${state.Pid}/ns/net`;
      label = `container:${record.Id}`;
      if (ctx.rootless) userJoinPid = state.Pid;
      break;
    }
    case 'ns':
      mode = 'join';
      join = request.path;
      label = `ns:${request.path}`;
      break;
    default: {
      // On user networks: a network namespace of its own, joined to the networks' bridges at each start (networks.ts).
      if (userNetworks && !outbound) {
        mode = 'none';
        label = userNetworks[0]!.name;
        break;
      }
      useCodePart('privateNetwork'); // as defaultNetworkRequest
      bindings = await resolvePublishedPorts(requests, ctx.rootless);
      privateNetwork = planPrivateNetwork(request.kind === 'named' ? { kind: 'default' } : request, bindings, {
        owner: ctx.id,
        rootless: ctx.rootless,
        logPath: path.join(containerDir(ctx.id), 'network.log'),
        apiSocket: apiSocketPath(ctx.id),
        ...(flags.macAddress !== undefined ? { macAddress: flags.macAddress } : {}),
        // Beside the bridges' eth0, eth1…
        ...(userNetworks ? { ifname: 'tap0' } : {}),
        ...(ctx.setsFwmarkAccept ? { setsFwmarkAccept: true } : {}),
        // Rootless on user networks it joins the holder's (networks.ts).
        joinsUserNamespace: ctx.joinsUserNamespace || (userNetworks !== undefined && ctx.rootless),
      });
      // pasta failing at a start leaves slirp4netns serving: the helper says so where inspect and ps look.
      if (privateNetwork.program.pasta && privateNetwork.program.slirp) privateNetwork.program.fallbackFile = networkFallbackPath(ctx.id);
      mode = 'private';
      label = userNetworks ? userNetworks[0]!.name : privateNetwork.label;
      if (privateNetwork.warning) warnings.push(privateNetwork.warning);
      // Measured on Debian 12's pasta (2023-03-09): its loopback path loses the reply of a UDP port published under another number.
      for (const b of bindings) {
        if (label === 'pasta' && b.protocol === 'udp' && b.hostPort !== b.containerPort) {
          warnings.push(`${b.hostPort}:${b.containerPort}/udp: pasta here does not answer clients on the host's loopback when the host and container ports differ; clients on other addresses are answered (publish ${b.hostPort}:${b.hostPort}/udp for local clients)`);
        }
      }
    }
  }

  const files: ContainerNetwork['files'] = [];
  const askedForFiles = userNetworks !== undefined || [flags.dns, flags.dnsSearch, flags.dnsOptions, flags.addHosts].some((given) => given.length > 0);
  if (ctx.imageFiles || askedForFiles) {
    files.push({ name: 'hostname', content: `${ctx.utsHost ? osHostname() : ctx.hostname}\n`, destination: '/etc/hostname' });
    if (!flags.noHosts && mode !== 'join') {
      files.push({
        name: 'hosts',
        content: hostsFile({
          hostname: ctx.hostname,
          ...(ctx.name !== undefined ? { name: ctx.name } : {}),
          // On user networks the hostname goes on 127.0.1.1 here, and on its network addresses in the block below (networks.ts).
          ...(privateNetwork && !userNetworks ? { ip: privateNetwork.ip } : {}),
          ...hostAddressOf(privateNetwork),
          extraHosts: flags.addHosts,
        }),
        destination: '/etc/hosts',
      });
    }
    const resolv =
      mode === 'none' && flags.dns.length === 0
        ? userNetworks
          ? '# --internal network: the names of the containers on it are in /etc/hosts; no DNS server\n'
          : '# --network none: no DNS\n'
        : resolvConf({
            hostResolv: hostResolvConf(),
            ...(privateNetwork ? { forwarder: privateNetwork.dns } : {}),
            dns: flags.dns,
            search: flags.dnsSearch,
            options: flags.dnsOptions,
          });
    files.push({ name: 'resolv.conf', content: resolv, destination: '/etc/resolv.conf' });
  }
  return {
    mode,
    label,
    ...(privateNetwork ? { program: privateNetwork.program, privateNetwork } : {}),
    ...(join !== undefined ? { join } : {}),
    ...(userJoinPid !== undefined ? { userJoinPid } : {}),
    ...(userNetworks ? { userNetworks } : {}),
    requests,
    bindings,
    exposed,
    warnings,
    files,
  };
}
