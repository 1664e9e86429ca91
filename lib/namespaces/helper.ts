// The only module that speaks to helpers-c/skiff-helper (protocol in
// helpers-c/src/protocol.h and docs/helper-protocol.md; versions must match).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { installRoot } from '../paths.js';
import type { Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import type { OciIdMapping, OciRuntimeConfig } from '../oci/runtime-spec.js';
import type { HelperNetworkProgram } from '../oci/spec/options.js';
import { CAPABILITY_NUMBERS } from '../oci/spec/defaults.js';
import { overlayOf } from '../oci/spec/runtime.js';
import { SkiffError } from '../errors.js';
import { debug } from '../log.js';
import { findProgram } from '../host/programs.js';
import { precompiledSeccompProgram } from '../oci/seccomp/default.js';
import type { CgroupLaunch, CgroupStart } from '../cgroups/container.js';
import { SystemdConnection, type ScopeRequest } from '../cgroups/systemd-scope.js';

export const HELPER_PROTOCOL_VERSION = 1;


/** Where the helper should be: $SKIFF_HELPER, else helpers-c/ in the install. Does not check it exists. */
export function expectedHelperPath(): { path: string; fromEnv: boolean } {
  const override = process.env['SKIFF_HELPER'];
  return { path: override ?? path.join(installRoot(), 'helpers-c', 'skiff-helper'), fromEnv: override !== undefined };
}

export function helperPath(): string {
  const helper = expectedHelperPath().path;
  try {
    accessSync(helper, constants.X_OK);
  } catch {
    throw new SkiffError(`the skiff helper is missing at ${helper}: build it with 'npm run build'`);
  }
  return helper;
}

function capabilityMask(names: string[]): string {
  let mask = 0n;
  for (const name of names) {
    const bit = CAPABILITY_NUMBERS[name];
    if (bit === undefined) throw new SkiffError(`unknown capability ${name}`);
    mask |= 1n << BigInt(bit);
  }
  return mask.toString(16);
}

/** A user namespace's maps as spec entries, with the setuid tools that may write them. */
export function idMapEntries(uidMappings: OciIdMapping[], gidMappings: OciIdMapping[]): string[] {
  const entries: string[] = [];
  for (const m of uidMappings) entries.push(`uidmap=${m.containerID} ${m.hostID} ${m.size}`);
  for (const m of gidMappings) entries.push(`gidmap=${m.containerID} ${m.hostID} ${m.size}`);
  const newuidmap = findProgram('newuidmap');
  const newgidmap = findProgram('newgidmap');
  if (newuidmap) entries.push(`newuidmap=${newuidmap}`);
  if (newgidmap) entries.push(`newgidmap=${newgidmap}`);
  return entries;
}

/** The overlay the helper mounts onto rootfs: its layers, uppermost first, and the container's own dirs (none for vfs: rootfs is a plain copy). */
function overlayEntries(config: OciRuntimeConfig): string[] {
  const o = overlayOf(config);
  return o && o.driver !== 'vfs' ? [...o.lowerdirs.map((dir) => `lowerdir=${dir}`), `upperdir=${o.upperdir}`, `workdir=${o.workdir}`] : [];
}

/** "/proc/PID/ns/TYPE" (how config.json names a joined namespace) -> PID. */
function pidOfNamespacePath(nsPath: string): number {
  const m = /^\/proc\/(\d+)\/ns\/\w+$/.exec(nsPath);
  if (!m) throw new SkiffError(`config.json: namespace path ${nsPath} is not /proc/PID/ns/TYPE`);
  return Number(m[1]);
}

// --- User-defined networks (network.ts, helpers-c/src/network.c).

/** One container interface on a network's bridge, as the helper's net_attach takes it. */
export interface NetworkAttachment {
  /** The bridge in the holder's namespace. */
  bridge: string;
  gateway: string;
  prefix: number;
  /** The interface inside the container (eth0…). */
  ifname: string;
  ip: string;
  mac: string;
}

export function attachmentEntry(a: NetworkAttachment): string {
  return `net_attach=${[a.bridge, `${a.gateway}/${a.prefix}`, a.ifname, `${a.ip}/${a.prefix}`, a.mac].join('\t')}`;
}

/** What a container's start adds to the helper's spec, and the connection its helper keeps (fd 4). */
export interface NetworkStart {
  holderPid: number;
  attachments: NetworkAttachment[];
  member: Socket;
}

export function networkStartEntries(n: NetworkStart): string[] {
  return [`net_holder=${n.holderPid}`, 'net_member=1', ...n.attachments.map(attachmentEntry)];
}

/** config.json -> the helper's spec entries ("key=value", NUL-separated on the wire). */
export function helperSpecEntries(config: OciRuntimeConfig): string[] {
  const p = config.process;
  const entries = [`version=${HELPER_PROTOCOL_VERSION}`, `rootfs=${config.root.path}`];
  for (const arg of p.args) entries.push(`arg=${arg}`);
  for (const env of p.env) entries.push(`env=${env}`);
  entries.push(`cwd=${p.cwd}`);
  const user = p.user.username ?? (p.user.uid === 0 && p.user.gid === 0 ? '' : `${p.user.uid}:${p.user.gid}`);
  if (user !== '') entries.push(`user=${user}`);
  entries.push(`hostname=${config.hostname}`);
  entries.push(...networkEntries(config));
  const userNs = config.linux.namespaces.find((n) => n.type === 'user');
  if (userNs?.path) entries.push(`ns_user=${pidOfNamespacePath(userNs.path)}`);
  else if (config.linux.uidMappings && config.linux.gidMappings) entries.push(...idMapEntries(config.linux.uidMappings, config.linux.gidMappings));
  for (const type of ['ipc', 'pid', 'uts'] as const) {
    const ns = config.linux.namespaces.find((n) => n.type === type);
    if (!ns) entries.push(`ns_${type}=host`);
    else if (ns.path) entries.push(`ns_${type}=${pidOfNamespacePath(ns.path)}`);
  }
  if (config.annotations['io.skiff.ipc'] === 'none') entries.push('ns_ipc=none');
  if (!config.linux.namespaces.some((n) => n.type === 'cgroup')) entries.push('ns_cgroup=host');
  if (config.linux.personality) entries.push(`personality=${config.linux.personality.domain}`);
  const timeout = config.annotations['io.skiff.timeout'];
  if (timeout !== undefined) entries.push(`timeout=${timeout}`);
  entries.push(`tty=${p.terminal ? 1 : 0}`);
  entries.push(`stdin=${config.annotations['io.skiff.stdin'] === 'true' ? 1 : 0}`);
  entries.push(`init=${config.annotations['io.skiff.init'] === 'true' ? 1 : 0}`);
  entries.push(`no_new_privs=${p.noNewPrivileges ? 1 : 0}`);
  entries.push(`caps=${capabilityMask(p.capabilities.bounding)}`);
  for (const [key, value] of Object.entries(config.linux.sysctl ?? {})) entries.push(`sysctl=${key}\t${value}`);
  const groupAdd = JSON.parse(config.annotations['io.skiff.group-add'] ?? '[]') as string[];
  for (const group of groupAdd) entries.push(group === 'keep-groups' ? 'keep_groups=1' : `group_add=${group}`);
  if (config.annotations['io.skiff.dev-mknod'] === 'true') entries.push('dev_mknod=1');
  entries.push(...deviceEntries(config));
  // --privileged: a writable /sys, as Docker gives it.
  if (config.mounts.some((m) => m.destination === '/sys' && !m.options?.includes('ro'))) entries.push('sys_rw=1');
  for (const path of config.linux.maskedPaths) entries.push(`masked=${path}`);
  for (const path of config.linux.readonlyPaths) entries.push(`readonly=${path}`);
  for (const r of p.rlimits ?? []) entries.push(`rlimit=${r.type} ${r.soft} ${r.hard}`);
  if (p.oomScoreAdj !== undefined) entries.push(`oom_score_adj=${p.oomScoreAdj}`);
  entries.push(...overlayEntries(config));
  entries.push(...storageEntries(config));
  return entries;
}

/**
 * `device=PATH<TAB>c|b<TAB>MAJOR<TAB>MINOR<TAB>MODE<TAB>UID<TAB>GID`: the
 * linux.devices the helper makes by mknod (those with a mode and no mount
 * at their path; the others are bind mounts).
 */
function deviceEntries(config: OciRuntimeConfig): string[] {
  const mounted = new Set(config.mounts.map((m) => m.destination));
  return (config.linux.devices ?? [])
    .filter((d) => d.fileMode !== undefined && !mounted.has(d.path))
    .map((d) => `device=${[d.path, d.type, d.major, d.minor, d.fileMode!.toString(8), d.uid ?? 0, d.gid ?? 0].join('\t')}`);
}

/** The container's network: host, none, join (ns_net=PATH), or private with its program (helpers-c/src/net.h). */
function networkEntries(config: OciRuntimeConfig): string[] {
  const ns = config.linux.namespaces.find((n) => n.type === 'network');
  if (!ns) return ['network=host'];
  if (ns.path) return ['network=join', `ns_net=${ns.path}`];
  const text = config.annotations['io.skiff.net'];
  if (!text) return ['network=none'];
  const program = JSON.parse(text) as HelperNetworkProgram;
  const entries = ['network=private', `net_log=${program.log}`, `net_owner=${program.owner}`];
  for (const arg of program.pasta ?? []) entries.push(`net_pasta=${arg}`);
  for (const arg of program.slirp ?? []) entries.push(`net_slirp=${arg}`);
  if (program.api !== undefined) entries.push(`net_api=${program.api}`);
  for (const f of program.forwards ?? []) entries.push(`net_fwd=${f}`);
  for (const s of program.splice ?? []) entries.push(`net_splice=${s}`);
  if (program.pastaAvx2 !== undefined) entries.push(`net_pasta_avx2=${program.pastaAvx2}`);
  if (program.pastaInterface) entries.push(`net_pasta_ifname=${program.pastaInterface.name}`, `net_pasta_ipv6=${program.pastaInterface.ipv6 ? 1 : 0}`);
  if (program.slirpInterface !== undefined) entries.push(`net_slirp_ifname=${program.slirpInterface}`);
  if (program.fallbackFile !== undefined) entries.push(`net_fallback_file=${program.fallbackFile}`);
  return entries;
}

// --- Storage (issue 11): the container's own mounts, made by helpers-c/src/volumes.c.

/** Mounts in config.json that the helper makes on its own (mounts.c), by destination and source. */
const HELPER_MOUNTS: Record<string, readonly string[]> = {
  '/proc': ['proc'],
  '/sys': ['sysfs', '/sys'],
  '/dev': ['tmpfs'],
  '/dev/pts': ['devpts'],
  '/dev/shm': ['shm'],
  '/dev/mqueue': ['mqueue'],
};

/** Mount options the helper takes as flags (volumes.h); the rest are the file system's own data. */
const MOUNT_FLAG_WORDS = new Set([
  'bind', 'rbind', 'ro', 'rw', 'suid', 'nosuid', 'dev', 'nodev', 'exec', 'noexec',
  'noatime', 'relatime', 'strictatime', 'nodiratime',
  'private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable',
  'copyup', 'tmpcopyup', 'chown', 'idmap',
]);

function isFlagWord(option: string): boolean {
  return MOUNT_FLAG_WORDS.has(option) || option.startsWith('idmap=') || option.startsWith('subpath=');
}

/** `mount=TYPE<TAB>SOURCE<TAB>DESTINATION<TAB>FLAGS<TAB>DATA` for each mount the helper does not make itself; `rootfs_readonly`. */
function storageEntries(config: OciRuntimeConfig): string[] {
  const entries: string[] = [];
  for (const m of config.mounts) {
    if (HELPER_MOUNTS[m.destination]?.includes(m.source ?? '')) continue;
    const options = m.options ?? [];
    const fields = [m.type ?? 'bind', m.source ?? '', m.destination, options.filter(isFlagWord).join(','), options.filter((o) => !isFlagWord(o)).join(',')];
    if (fields.some((f) => /[\t\n]/.test(f))) throw new SkiffError(`cannot mount ${m.source} on ${m.destination}: a path or option contains a tab or a newline`);
    entries.push(`mount=${fields.join('\t')}`);
  }
  if (config.root.readonly) entries.push('rootfs_readonly=1');
  return entries;
}

/**
 * The compiled seccomp filter (`seccomp=` hex of struct sock_filter[]), from
 * the build's precompiled programs or, for any other rules, the compiler.
 */
export async function seccompEntries(config: OciRuntimeConfig): Promise<string[]> {
  const seccomp = config.linux.seccomp;
  if (!seccomp) return [];
  const program = precompiledSeccompProgram(seccomp) ?? (await import('../oci/seccomp/index.js')).compileSeccomp(seccomp);
  return [`seccomp=${program.toString('hex')}`];
}

/** The container's cgroup: directories skiff made, or one the helper makes under its own (cgroup.c). */
export function cgroupEntries(launch: CgroupLaunch): string[] {
  const filter = launch.deviceFilter ? [`device_filter=${launch.deviceFilter.toString('hex')}`] : [];
  if ('join' in launch) return [...launch.join.map((dir) => `cgroup=${dir}`), ...filter];
  const s = launch.split;
  return [
    `cgroup_split=${s.name}`,
    `cgroup_root=${s.root}`,
    ...s.enable.map((c) => `cgroup_enable=${c}`),
    ...s.writes.map((w) => `cgroup_write=${w.file}\t${w.value}`),
    ...filter,
  ];
}

/** With --init the helper itself lives in the container: it must run from a sealed copy (CVE-2019-5736). */
function runArgs(config: OciRuntimeConfig): string[] {
  return config.annotations['io.skiff.init'] === 'true' ? ['run', '--sealed'] : ['run'];
}

export function encodeSpec(entries: string[]): Buffer {
  for (const e of entries) {
    if (e.includes('\0')) throw new SkiffError(`a value contains a NUL byte: ${e.slice(0, e.indexOf('='))}`);
  }
  return Buffer.from(`${entries.join('\0')}\0`);
}

/**
 * Above this many bytes the spec goes over fd 3 instead: hex doubles it, and
 * execve refuses (E2BIG) an environment string over 128 KiB (MAX_ARG_STRLEN).
 */
const SPEC_ENV_MAX = 65_000;

/** A started helper: its process, its report channel (fd 3), and the reports so far. */
export interface StartedHelper {
  child: ChildProcess;
  channel: Socket;
  reports(): HelperReport;
  /** With a scope: settles once the helper is in it and has its spec (rejects, the helper killed, when systemd refused). */
  placed: Promise<void>;
}

/** The mounts a spec asks for, for the debug log (never env= or arg= entries: they may hold secrets). */
function describeMounts(entries: string[]): string {
  const keys = new Set(['rootfs', 'upperdir', 'workdir', 'mount']);
  const lines = entries.filter((e) => keys.has(e.slice(0, e.indexOf('='))));
  const lowers = entries.filter((e) => e.startsWith('lowerdir=')).length;
  if (lines.length === 0 && lowers === 0) return '';
  return `; ${[...lines.map((e) => e.replace(/\t/g, ' ')), ...(lowers ? [`${lowers} lowerdirs`] : [])].join(', ')}`;
}

/**
 * Starts the helper with its spec: in its environment (SKIFF_HELPER_SPEC,
 * hex), where it finds it at exec rather than waiting for this process to
 * write fd 3, or over fd 3 when it is large. The helper wipes the variable
 * and starts nothing with it. fd 3 carries the reports either way.
 * With a systemd scope, the spec goes over fd 3 once systemd has moved the
 * helper into the scope: until then the helper waits for it, before it does
 * anything with cgroups.
 */
export function spawnHelper(
  args: string[],
  entries: string[],
  stdio: ('inherit' | 'ignore' | 'pipe' | number)[],
  detached = false,
  /** The transient scope of systemd the helper runs in (systemd-scope.ts). */
  scope?: ScopeRequest,
  /** fd 4 of the helper: a user-defined network member's connection to its holder (network.ts). */
  memberFd?: Socket,
  /** --preserve-fds N: this process's fds 3..3+N-1, given to the helper from fd 5 (PRESERVED_FD_BASE) up. */
  preserveFds = 0,
): StartedHelper {
  const spec = encodeSpec(entries);
  const inEnv = scope === undefined && spec.length <= SPEC_ENV_MAX;
  debug(() => `helper: ${helperPath()} mode ${args.join(' ')}${scope ? ` in ${scope.unit}` : ''}; spec of ${entries.length} entries in ${inEnv ? 'its environment' : 'fd 3'}${describeMounts(entries)}`);
  // Connecting and authenticating overlap the helper's fork and exec.
  const bus = scope ? new SystemdConnection(scope.socket) : undefined;
  const fd4: (Socket | 'ignore')[] = memberFd ? [memberFd] : preserveFds > 0 ? ['ignore'] : [];
  const preserved: number[] = Array.from({ length: preserveFds }, (_, i) => 3 + i);
  const child = spawn(helperPath(), args, {
    stdio: [...stdio, 'pipe', ...fd4, ...preserved],
    detached,
    ...(inEnv ? { env: { ...process.env, SKIFF_HELPER_SPEC: spec.toString('hex') } } : {}),
  });
  const channel = child.stdio[3] as Socket;
  let text = '';
  channel.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  channel.on('error', () => {
    // The helper died early; its exit status says what happened.
  });
  let placed = Promise.resolve();
  if (inEnv) channel.end();
  else if (!bus || child.pid === undefined) {
    bus?.close();
    channel.end(spec);
  } else {
    const asked = process.hrtime.bigint();
    placed = bus.startScope(scope!, child.pid).then(
      () => {
        debug(() => `helper: in ${scope!.unit} ${(Number(process.hrtime.bigint() - asked) / 1e6).toFixed(2)} ms after its spawn`);
        bus.close();
        channel.end(spec);
      },
      (err: unknown) => {
        bus.close();
        child.kill('SIGKILL');
        throw err;
      },
    );
    placed.catch(() => undefined); // awaited by the caller
  }
  child.on('spawn', () => debug(`helper: started, pid ${child.pid}`));
  let logged = false;
  const reports = (): HelperReport => {
    const report = parseReports(text);
    if (!logged) for (const line of report.debug) debug(`helper ${child.pid}: ${line}`);
    logged = true;
    return report;
  };
  return { child, channel, reports, placed };
}

export interface HelperReport {
  errors: { exitCode: number; message: string }[];
  warnings: string[];
  /** --log-level debug: what the helper did (each mount it made). */
  debug: string[];
  pid?: number;
  /** run -d: the monitor's pid. */
  monitor?: number;
  /** cp: bytes of file data copied. */
  copied?: number;
  /** The cgroup directory the helper made (systemd scopes, --cgroups=split). */
  cgroup?: string;
  /** A foreground run's end: whether the OOM killer killed in its cgroup. */
  oomKilled?: boolean;
  /** run --rm: the helper removed every remove_tree it was given. */
  removed?: boolean;
}

export function parseReports(text: string): HelperReport {
  const report: HelperReport = { errors: [], warnings: [], debug: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split('\t');
    if (fields[0] === 'error' && fields.length >= 3) report.errors.push({ exitCode: Number(fields[1]), message: fields.slice(2).join(' ') });
    else if (fields[0] === 'warning') report.warnings.push(fields.slice(1).join(' '));
    else if (fields[0] === 'debug') report.debug.push(fields.slice(1).join(' '));
    else if (fields[0] === 'pid') report.pid = Number(fields[1]);
    else if (fields[0] === 'monitor') report.monitor = Number(fields[1]);
    else if (fields[0] === 'copied') report.copied = Number(fields[1]);
    else if (fields[0] === 'cgroup') report.cgroup = fields.slice(1).join('\t');
    else if (fields[0] === 'oom') report.oomKilled = fields[1] === '1';
    else if (fields[0] === 'removed') report.removed = true;
  }
  return report;
}

/** What a systemd unit asked of a start (run --sdnotify, --pidfile, --conmon-pidfile): helpers-c/src/notify.h. */
export interface UnitStart {
  /** The unit's NOTIFY_SOCKET. */
  notifySocket?: string;
  notifyMode?: 'conmon' | 'container';
  /** container mode: the socket the helper binds, in the directory the container sees at /run/notify. */
  notifyProxy?: string;
  containerPidFile?: string;
  monitorPidFile?: string;
}

function unitEntries(unit: UnitStart | undefined): string[] {
  if (!unit) return [];
  const entries: string[] = [];
  if (unit.notifyMode !== undefined && (unit.notifySocket !== undefined || unit.notifyProxy !== undefined)) {
    entries.push(`notify_mode=${unit.notifyMode}`);
    if (unit.notifySocket !== undefined) entries.push(`notify_socket=${unit.notifySocket}`);
    if (unit.notifyProxy !== undefined) entries.push(`notify_proxy=${unit.notifyProxy}`);
  }
  if (unit.containerPidFile !== undefined) entries.push(`container_pid_file=${unit.containerPidFile}`);
  if (unit.monitorPidFile !== undefined) entries.push(`monitor_pid_file=${unit.monitorPidFile}`);
  return entries;
}

/** Signals skiff passes to the container, as Docker's sig-proxy does. */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Listens for the forwarded signals (and SIGWINCH) from now on; what arrives
 * before `attach` is passed on, in order, once the helper is there.
 */
export function earlySignalForwarder(
  signals: readonly NodeJS.Signals[] = [...FORWARDED_SIGNALS, 'SIGWINCH'],
): { attach(child: ChildProcess): void; detach(): void } {
  let target: ChildProcess | undefined;
  const early: NodeJS.Signals[] = [];
  const forward = (signal: NodeJS.Signals) => {
    if (target) target.kill(signal);
    else early.push(signal);
  };
  const handlers = signals.map((s) => [s, () => forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return {
    attach(child) {
      target = child;
      for (const s of early.splice(0)) child.kill(s);
    },
    detach() {
      for (const [s, h] of handlers) process.off(s, h);
    },
  };
}

export interface RunResult {
  exitCode: number;
  report: HelperReport;
  /** Settles once the helper has exited (with `earlyEnd`, after the result: its network program is reaped then). */
  finished: Promise<void>;
}

/** A scope systemd refused: its error, once the helper it killed is gone. */
async function placedOrThrow(placed: Promise<void>, exited: Promise<unknown>): Promise<void> {
  try {
    await placed;
  } catch (err) {
    await exited.catch(() => undefined);
    throw err;
  }
}

/**
 * Runs a container in the foreground: the helper inherits the caller's stdio
 * (stdin only with -i), and signals sent to skiff reach the container.
 */
export async function runForeground(
  config: OciRuntimeConfig,
  opts: {
    interactive: boolean;
    joinPid?: number;
    log?: string;
    logMax?: number;
    pidFile?: string;
    cgroup?: CgroupStart;
    output?: 'inherit' | 'ignore' | number;
    unit?: UnitStart;
    network?: NetworkStart;
    /** run -a: the streams connected to the caller's; the others get /dev/null (the log still has the output). Default: all. */
    attach?: { stdin: boolean; stdout: boolean; stderr: boolean };
    /**
     * run --rm: the container's own trees (absolute), removed by this helper
     * in the container's user namespace once it has ended (report.removed).
     */
    removeTrees?: string[];
    /** --preserve-fds N: the caller's fds 3..3+N-1 reach the process as the same numbers. */
    preserveFds?: number;
    /** run: the event log (and its limit: the helper rotates it too) and the init, start, attach lines around the time, logged by the helper once the command has exec'd (never when it could not run). */
    startedEvents?: { log: string; maxBytes: number; lines: { head: string; tail: string }[] };
    /**
     * Resolve at the container's end (the helper's `exited` report), while
     * the helper still reaps its network program: the caller records the
     * end meanwhile and must await `RunResult.finished` before it returns.
     */
    earlyEnd?: boolean;
    /** The healthcheck's timer, kept by the helper while the container runs. */
    health?: HealthTimer;
  },
): Promise<RunResult> {
  const entries = [...helperSpecEntries(config), ...(await seccompEntries(config)), ...unitEntries(opts.unit)];
  if (opts.network) entries.push(...networkStartEntries(opts.network));
  if (opts.cgroup) entries.push(...cgroupEntries(opts.cgroup.launch));
  // The helper copies the output to the caller and to the container's log.
  if (opts.log !== undefined) entries.push(`log=${opts.log}`);
  if (opts.logMax !== undefined) entries.push(`log_max=${opts.logMax}`);
  if (opts.pidFile !== undefined) entries.push(`pid_file=${opts.pidFile}`);
  for (const tree of opts.removeTrees ?? []) entries.push(`remove_tree=${tree}`);
  // exec: the same process spec, run in the namespaces of a running container.
  if (opts.joinPid !== undefined) entries.push(`target_pid=${opts.joinPid}`);
  if (opts.preserveFds) entries.push(`preserve_fds=${opts.preserveFds}`);
  entries.push(...healthEntries(opts.health));
  if (opts.startedEvents) {
    entries.push(`event_log=${opts.startedEvents.log}`, `event_log_max=${opts.startedEvents.maxBytes}`);
    for (const line of opts.startedEvents.lines) entries.push(`event_started_head=${line.head}`, `event_started_tail=${line.tail}`);
  }
  const attach = opts.attach ?? { stdin: true, stdout: true, stderr: true };
  const rawTty = config.process.terminal && opts.interactive && attach.stdin && process.stdin.isTTY === true;
  const output = (attached: boolean) => (attached ? (opts.output ?? 'inherit') : 'ignore');
  // Listen before the helper exists: under load the container can be running
  // (and its user signalling skiff) before this process gets the CPU back
  // from spawn, and an unheard SIGUSR1 would start Node's inspector instead.
  const forwarder = earlySignalForwarder();
  const { child, channel, reports, placed } = spawnHelper(
    opts.joinPid !== undefined ? ['exec'] : runArgs(config),
    entries,
    [(opts.interactive || config.process.terminal) && attach.stdin ? 'inherit' : 'ignore', output(attach.stdout), output(attach.stderr)],
    false,
    opts.cgroup?.scope,
    opts.network?.member,
    opts.preserveFds ?? 0,
  );
  // The helper holds the connection now (fd 4): this process lets go of its copy.
  opts.network?.member.destroy();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', (err) => reject(new SkiffError(`cannot start the skiff helper: ${err.message}`)));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const ended = opts.earlyEnd ? containerEnded(channel) : undefined;
  try {
    await placedOrThrow(placed, exited);
  } catch (err) {
    forwarder.detach();
    throw err;
  }

  // The helper resizes the pty on SIGWINCH (or passes it on without -t); it
  // is in a process group of its own unless -i -t, so it may not see the terminal's.
  forwarder.attach(child);
  if (rawTty) process.stdin.setRawMode(true);

  const exit = await (ended ? Promise.race([exited, ended]) : exited);
  if (rawTty) process.stdin.setRawMode(false);
  forwarder.detach();

  const report = reports();
  if (exit.code === null) {
    throw new SkiffError(`the skiff helper was killed by ${exit.signal ?? 'a signal'}`);
  }
  return { exitCode: exit.code, report, finished: exited.then(() => undefined) };
}

/** The helper's `exited` report, once it is on the channel (a foreground run's end, its network program still being reaped). */
function containerEnded(channel: Socket): Promise<{ code: number; signal: null }> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: string) => {
      text += chunk;
      const m = /(?:^|\n)exited\t(\d+)\n/.exec(text);
      if (!m) return;
      channel.off('data', onData);
      resolve({ code: Number(m[1]), signal: null });
    };
    channel.on('data', onData);
  });
}

export interface MonitorFiles {
  /** The k8s-file log; absent with --log-driver none. */
  log?: string;
  /** --log-opt max-size: bytes before the log rotates to LOG.1 (the helper's default: 10 MiB). */
  logMax?: number;
  exitFile: string;
  /** Present when `stop` asked for the container's end (lib/containers/store.ts: stopRequestFile). */
  stopFile: string;
  pidFile: string;
  attachSocket: string;
  restart: { name: 'no' | 'always' | 'on-failure'; max: number };
  /** argv run by the monitor when the container is gone for good (e.g. `skiff rm` for --rm; with autoRemove only when that failed). */
  onExit: string[];
  /** run -d --rm: what the monitor removes itself at the container's end (helpers-c/src/autoremove.h), and the "remove" event's text around the time. */
  autoRemove?: { dir: string; nameLink: string; runDir: string; trees: string[]; files: string[]; cidFile?: string; cgroups: boolean; event?: { head: string; tail: string } };
  /** The monitor starts the container only once a client has connected to attachSocket. */
  attachWait?: boolean;
  /** The event log, its limit (the monitor rotates it too) and its "died" line around the exit code and time (lib/containers/events.ts). */
  diedEvent?: { log: string; maxBytes: number; head: string; tail: string };
  /** The init, start (and attach) lines around the time, logged in diedEvent's log once the first start has exec'd. */
  startedEvents?: { head: string; tail: string }[];
  /** A restart by the policy: the "restart" line, logged in diedEvent's log before the new start, and the init, start lines, once it has exec'd. */
  restartEvents?: { restart: { head: string; tail: string }; started: { head: string; tail: string }[] };
  cgroup?: CgroupStart;
  unit?: UnitStart;
  /** On user-defined networks: the holder, the interfaces, the member's connection. */
  network?: NetworkStart;
  /** run -d --preserve-fds N: the caller's fds 3..3+N-1, kept by the monitor for every start. */
  preserveFds?: number;
  /** The healthcheck's timer: the monitor forks `cmd` on it (helpers-c/src/health.h). */
  health?: HealthTimer;
}

/** What the monitor (or a foreground run's helper) forks on a timer: `skiff healthcheck run ID`. */
export interface HealthTimer {
  cmd: string[];
  intervalMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
}

function healthEntries(timer: HealthTimer | undefined): string[] {
  if (!timer || timer.intervalMs <= 0) return [];
  return [
    ...timer.cmd.map((arg) => `health_cmd=${arg}`),
    `health_interval_ms=${timer.intervalMs}`,
    `health_start_period_ms=${timer.startPeriodMs}`,
    `health_start_interval_ms=${timer.startIntervalMs}`,
  ];
}

/**
 * Starts a detached container under the helper's monitor. Resolves once the
 * container has exec'd (or failed: then it throws with the helper's message
 * and exit code). The monitor outlives this process.
 */
export async function startMonitored(config: OciRuntimeConfig, files: MonitorFiles): Promise<{ pid: number; monitorPid: number }> {
  const entries = [...helperSpecEntries(config), ...(await seccompEntries(config))];
  entries.push('detach=1', `exit_file=${files.exitFile}`, `stop_file=${files.stopFile}`, `pid_file=${files.pidFile}`, `attach_socket=${files.attachSocket}`);
  if (files.log !== undefined) entries.push(`log=${files.log}`);
  if (files.logMax !== undefined) entries.push(`log_max=${files.logMax}`);
  entries.push(`restart=${files.restart.name}`, `restart_max=${files.restart.max}`);
  for (const arg of files.onExit) entries.push(`on_exit=${arg}`);
  if (files.diedEvent) entries.push(`event_log=${files.diedEvent.log}`, `event_log_max=${files.diedEvent.maxBytes}`, `event_died_head=${files.diedEvent.head}`, `event_died_tail=${files.diedEvent.tail}`);
  if (files.diedEvent) for (const line of files.startedEvents ?? []) entries.push(`event_started_head=${line.head}`, `event_started_tail=${line.tail}`);
  if (files.diedEvent && files.restartEvents) {
    entries.push(`event_restart_head=${files.restartEvents.restart.head}`, `event_restart_tail=${files.restartEvents.restart.tail}`);
    for (const line of files.restartEvents.started) entries.push(`event_restarted_head=${line.head}`, `event_restarted_tail=${line.tail}`);
  }
  const removal = files.autoRemove;
  if (removal) {
    entries.push(`autoremove_dir=${removal.dir}`, `autoremove_name=${removal.nameLink}`, `autoremove_run_dir=${removal.runDir}`);
    for (const tree of removal.trees) entries.push(`remove_tree=${tree}`);
    for (const file of removal.files) entries.push(`autoremove_file=${file}`);
    if (removal.cidFile !== undefined) entries.push(`autoremove_cidfile=${removal.cidFile}`);
    if (removal.cgroups) entries.push('autoremove_cgroups=1');
    if (removal.event) entries.push(`event_remove_head=${removal.event.head}`, `event_remove_tail=${removal.event.tail}`);
  }
  if (files.attachWait) entries.push('attach_wait=1');
  entries.push(...unitEntries(files.unit));
  if (files.cgroup) entries.push(...cgroupEntries(files.cgroup.launch));
  if (files.network) entries.push(...networkStartEntries(files.network));
  if (files.preserveFds) entries.push(`preserve_fds=${files.preserveFds}`);
  entries.push(...healthEntries(files.health));
  const { child, channel, reports, placed } = spawnHelper(runArgs(config), entries, ['ignore', 'ignore', 'ignore'], false, files.cgroup?.scope, files.network?.member, files.preserveFds ?? 0);
  files.network?.member.destroy();
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new SkiffError(`cannot start the skiff helper: ${err.message}`)));
    child.on('close', () => resolve());
  });
  await placedOrThrow(placed, exited);
  await exited;
  const report = reports();
  for (const w of report.warnings) process.stderr.write(`skiff: warning: ${w}\n`);
  const failure = report.errors[0];
  if (failure) throw new SkiffError(failure.message, failure.exitCode);
  if (report.pid === undefined || report.monitor === undefined) throw new SkiffError('the skiff helper did not report the container it started');
  return { pid: report.pid, monitorPid: report.monitor };
}

/**
 * Sends a signal to a container process; from inside its user namespace when
 * the caller cannot signal it from outside (a rootless container's sub-IDs).
 * Resolves to false when the process is already gone.
 */
export function signalContainerProcess(pid: number, signal: number): Promise<boolean> {
  try {
    process.kill(pid, signal);
    return Promise.resolve(true);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ESRCH') return Promise.resolve(false);
    if (code !== 'EPERM') throw err;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(helperPath(), ['kill', String(pid), String(signal)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new SkiffError(`cannot start the skiff helper: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(true);
      else if (code === 1) resolve(false);
      else reject(new SkiffError(stderr.trim().replace(/^skiff-helper: /, '') || `skiff-helper kill exited with ${code}`));
    });
  });
}

/** exec -d: starts the process in the running container and returns once it has exec'd; it outlives skiff. */
export async function execBackground(config: OciRuntimeConfig, joinPid: number, cgroupDirs: string[] = []): Promise<number> {
  const entries = [...helperSpecEntries(config), ...(await seccompEntries(config))];
  entries.push(...cgroupEntries({ join: cgroupDirs }));
  entries.push(`target_pid=${joinPid}`, 'background=1');
  const { child, channel, reports } = spawnHelper(['exec'], entries, ['ignore', 'ignore', 'ignore'], true);
  await new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new SkiffError(`cannot start the skiff helper: ${err.message}`)));
    channel.on('close', () => resolve());
    channel.on('error', () => resolve());
  });
  child.unref();
  const report = reports();
  const failure = report.errors[0];
  if (failure) throw new SkiffError(failure.message, failure.exitCode);
  if (report.pid === undefined) throw new SkiffError('the skiff helper did not report the process it started');
  return report.pid;
}

/** What a command run by execCaptured did. */
export interface CapturedRun {
  exitCode: number;
  /** Its stdout and stderr as they came, the first maxOutput bytes. */
  output: string;
  /** It ran past timeoutMs and was killed (its process group, by the helper). */
  timedOut: boolean;
}

/**
 * A command in a running container (a healthcheck) with its output kept,
 * not shown: both streams on one pipe, at most maxOutput bytes kept (the
 * rest read and dropped, so the command never blocks on a full pipe), and
 * SIGKILL to its process group after timeoutMs (0: no limit). The helper
 * dies with this process and the command with the helper (PR_SET_PDEATHSIG).
 */
export async function execCaptured(config: OciRuntimeConfig, joinPid: number, opts: { cgroupDirs: string[]; timeoutMs: number; maxOutput: number }): Promise<CapturedRun> {
  const entries = [...helperSpecEntries(config), ...(await seccompEntries(config))];
  entries.push(...cgroupEntries({ join: opts.cgroupDirs }));
  entries.push(`target_pid=${joinPid}`);
  if (opts.timeoutMs > 0) entries.push(`timeout_ms=${Math.max(1, Math.round(opts.timeoutMs))}`);
  // Before the spawn: the helper arms its timer after it starts, so a kill at the timeout is never seen as sooner.
  const began = process.hrtime.bigint();
  const { child, reports } = spawnHelper(['exec'], entries, ['ignore', 'pipe', 'pipe']);
  const chunks: Buffer[] = [];
  let kept = 0;
  const keep = (chunk: Buffer) => {
    if (kept >= opts.maxOutput) return;
    const part = chunk.subarray(0, opts.maxOutput - kept);
    chunks.push(part);
    kept += part.length;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  // The helper's exit, not the pipe's end: a process the command left behind
  // (`daemon &`) may hold the pipe open long after; what it writes later is
  // not this check's output.
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', (err) => reject(new SkiffError(`cannot start the skiff helper: ${err.message}`)));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const elapsedMs = Number(process.hrtime.bigint() - began) / 1e6;
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((resolve) => (grace = setTimeout(resolve, 100)))]);
  clearTimeout(grace);
  child.stdout?.destroy();
  child.stderr?.destroy();
  const failure = reports().errors[0];
  if (failure) throw new SkiffError(failure.message, failure.exitCode);
  if (exit.code === null) throw new SkiffError(`the skiff helper was killed by ${exit.signal ?? 'a signal'}`);
  return {
    exitCode: exit.code,
    output: Buffer.concat(chunks).toString('utf8'),
    timedOut: opts.timeoutMs > 0 && exit.code === 137 && elapsedMs >= opts.timeoutMs,
  };
}

/** One `skiff-helper cp` run (docs/helper-protocol.md): paths as the user wrote them, container paths absolute. */
export interface CopyJob {
  /** out: container -> host; in: host -> container; tar: container -> a tar on `output`. */
  op: 'out' | 'in' | 'tar';
  src: string;
  dst?: string;
  /** The container as the user named it, for messages. */
  containerName: string;
  /** -a: files copied in keep their uid/gid (else 0:0). */
  archive: boolean;
  /** -L: a symlink at src is followed. */
  follow: boolean;
  /** Keep set-user-ID and set-group-ID bits. */
  keepSetid: boolean;
  /** For tar: the fd the archive goes to (default: skiff's stdout). */
  output?: number;
  /** in: make the destination's missing directories first (a build's COPY). */
  makeDirectories?: boolean;
  /** With makeDirectories: the owner of the directories made, as the container sees it (else its root). */
  directoryOwner?: { uid: number; gid: number };
}

/**
 * The spec entries that reach a container's root filesystem: a running one's
 * user and mount namespaces (by its pid), or, stopped, its overlay (or
 * --rootfs directory) in a private mount namespace, with its ID mapping.
 */
function containerFilesEntries(config: OciRuntimeConfig, runningPid: number | undefined): string[] {
  const entries: string[] = [];
  if (config.linux.uidMappings && config.linux.gidMappings) entries.push(...idMapEntries(config.linux.uidMappings, config.linux.gidMappings));
  if (runningPid !== undefined) {
    entries.push(`target_pid=${runningPid}`);
    return entries;
  }
  entries.push(`rootfs=${config.root.path}`, ...overlayEntries(config));
  return entries;
}

/** Copies with the helper; resolves to its warnings, throws its error. */
export async function copyWithHelper(config: OciRuntimeConfig, runningPid: number | undefined, job: CopyJob): Promise<{ warnings: string[]; bytes: number }> {
  const entries = [`version=${HELPER_PROTOCOL_VERSION}`, ...containerFilesEntries(config, runningPid)];
  entries.push(`cp_op=${job.op}`, `cp_src=${job.src}`, `cp_name=${job.containerName}`);
  if (job.dst !== undefined) entries.push(`cp_dst=${job.dst}`);
  entries.push(`cp_archive=${job.archive ? 1 : 0}`, `cp_follow=${job.follow ? 1 : 0}`, `cp_setid=${job.keepSetid ? 1 : 0}`);
  // skiff's own stdout, also when nothing is written to it: a destination of
  // /dev/stdout must mean to the helper what it means to the user (with
  // 'ignore' it was /dev/null, and the old copy replaced that file).
  const stdout = job.op === 'tar' ? (job.output ?? 'inherit') : 'inherit';
  if (job.makeDirectories) entries.push('cp_mkdir=1');
  if (job.makeDirectories && job.directoryOwner) entries.push(`cp_mkdir_owner=${job.directoryOwner.uid}:${job.directoryOwner.gid}`);
  const { child, reports } = spawnHelper(['cp'], entries, ['ignore', stdout, 'inherit']);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', (err) => reject(new SkiffError(`cannot start the skiff helper: ${err.message}`)));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const report = reports();
  const failure = report.errors[0];
  if (failure) throw new SkiffError(failure.message, failure.exitCode);
  if (exit.code !== 0) throw new SkiffError(exit.code === null ? `the skiff helper was killed by ${exit.signal}` : `the skiff helper failed with status ${exit.code}`);
  return { warnings: report.warnings, bytes: report.copied ?? 0 };
}

/** The user namespace a walk runs in (rootless: where the sub-IDs' files are readable); none as root. */
export interface WalkMappings {
  uidMappings: OciIdMapping[];
  gidMappings: OciIdMapping[];
}

/**
 * One `skiff-helper walk` (helpers-c/src/walk.h): a tree walked by fd, never
 * through a name a container swapped for a symlink. Resolves to its stdout,
 * NUL-terminated records.
 */
async function walkWithHelper(op: 'diff' | 'size' | 'remove' | 'shift' | 'flatten', roots: string[], extra: string[], mappings: WalkMappings | undefined): Promise<string[]> {
  const entries = [`version=${HELPER_PROTOCOL_VERSION}`, `walk_op=${op}`, ...roots.map((r) => `walk_root=${r}`), ...extra];
  if (mappings) entries.push(...idMapEntries(mappings.uidMappings, mappings.gidMappings));
  const { child, reports } = spawnHelper(['walk'], entries, ['ignore', 'pipe', 'inherit']);
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', (err) => reject(new SkiffError(`cannot start the skiff helper: ${err.message}`)));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const failure = reports().errors[0];
  if (failure) throw new SkiffError(failure.message, failure.exitCode);
  if (exit.code !== 0) throw new SkiffError(exit.code === null ? `the skiff helper was killed by ${exit.signal}` : `the skiff helper failed with status ${exit.code}`);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? [] : text.slice(0, -1).split('\0');
}

/** An entry of an overlay upper dir: A (not in the image), C (in a layer), D (a whiteout). */
export interface UpperEntry {
  kind: 'A' | 'C' | 'D';
  /** Absolute in the container: "/etc/passwd". */
  path: string;
}

/**
 * Every entry of a container's upper dir, judged against its image's layers
 * (uppermost first); parents first. With `full` the root is a whole copy of
 * the image (vfs): what differs from the layers, and D for what it lacks.
 */
export async function upperDirEntries(upperdir: string, lowerdirs: string[], mappings: WalkMappings | undefined, full = false): Promise<UpperEntry[]> {
  const records = await walkWithHelper('diff', [upperdir], [...lowerdirs.map((d) => `lowerdir=${d}`), ...(full ? ['walk_full=1'] : [])], mappings);
  return records.map((r) => ({ kind: r[0] as UpperEntry['kind'], path: r.slice(1) }));
}

/** The bytes of each tree's non-directories, each inode once; 0 for a tree that is gone. */
export async function treeSizes(roots: string[], mappings: WalkMappings | undefined): Promise<number[]> {
  if (roots.length === 0) return [];
  return (await walkWithHelper('size', roots, [], mappings)).map(Number);
}

/** What a full copy of an image (vfs) holds that differs from its layers: the added and changed non-directories' bytes, each inode once. */
export async function fullCopySize(root: string, lowerdirs: string[], mappings: WalkMappings | undefined): Promise<number> {
  const [size] = await walkWithHelper('size', [root], ['walk_full=1', ...lowerdirs.map((d) => `lowerdir=${d}`)], mappings);
  return Number(size ?? 0);
}

/**
 * The vfs driver's root filesystem: the layers (uppermost first) applied one
 * over another into `dest`, an empty directory with the image's root mode
 * (given the layers' root owner): whiteouts and opaque directories applied,
 * owners, modes, times and xattrs kept.
 */
export async function flattenLayers(lowerdirs: string[], dest: string, mappings: WalkMappings | undefined): Promise<void> {
  await walkWithHelper('flatten', [], [`walk_dest=${dest}`, ...lowerdirs.map((d) => `lowerdir=${d}`)], mappings);
}

/** Removes each tree and everything in it (by fd: a link swapped in is removed, never followed). */
export async function removeTrees(roots: string[], mappings: WalkMappings | undefined): Promise<void> {
  if (roots.length > 0) await walkWithHelper('remove', roots, [], mappings);
}

/**
 * Copies the tree `root` to `dest`/diff (`dest` an empty directory) with every
 * owner moved through the shifts ("containerID" → "hostID", as the walk's
 * namespace sees IDs): an image layer for a container with another mapping
 * (--userns keep-id). Modes, times, xattrs and whiteouts kept, by fd.
 */
export async function copyTreeShifted(root: string, dest: string, shift: { uids: OciIdMapping[]; gids: OciIdMapping[] }, mappings: WalkMappings | undefined): Promise<void> {
  const extra = [`walk_dest=${dest}`];
  for (const m of shift.uids) extra.push(`shift_uid=${m.containerID} ${m.hostID} ${m.size}`);
  for (const m of shift.gids) extra.push(`shift_gid=${m.containerID} ${m.hostID} ${m.size}`);
  await walkWithHelper('shift', [root], extra, mappings);
}

export interface UpperLayerOptions {
  /** The image's layers, uppermost first: a directory of the image the upper dir holds only as the parent of left-out paths is not written. */
  lowerdirs?: string[];
  /** Container paths left out with everything below them ("/etc/hosts", "/proc"). */
  exclude?: string[];
  /** No member newer than this (seconds since the epoch): reproducible builds' --timestamp. */
  mtimeMax?: number;
  /** Rootless, when this process is not already root of the store's user namespace. */
  mappings?: WalkMappings;
  /** Owners written through these (the walk's ID → the container's): a container with its own mapping (--userns keep-id). */
  ownerShift?: { uids: OciIdMapping[]; gids: OciIdMapping[] };
  /** The root is a full copy of the image (vfs): only what differs from lowerdirs is written, with whiteouts for what it lacks. */
  full?: boolean;
}

/**
 * An overlay upper dir as a layer tar (`skiff-helper walk`, walk_op=layer):
 * walked by fd, whiteouts as ".wh." entries, opaque directories with
 * ".wh..wh..opq", owners as the namespace sees them, xattrs, hard links and
 * times kept, names sorted. The stream fails, rather than ends, when the
 * helper fails.
 */
export function upperDirLayerTar(upperdir: string, opts: UpperLayerOptions = {}): Readable {
  const entries = [`version=${HELPER_PROTOCOL_VERSION}`, 'walk_op=layer', `walk_root=${upperdir}`];
  for (const p of opts.exclude ?? []) entries.push(`walk_exclude=${p}`);
  for (const d of opts.lowerdirs ?? []) entries.push(`lowerdir=${d}`);
  if (opts.mtimeMax !== undefined) entries.push(`walk_mtime_max=${Math.floor(opts.mtimeMax)}`);
  if (opts.full) entries.push('walk_full=1');
  if (opts.mappings) entries.push(...idMapEntries(opts.mappings.uidMappings, opts.mappings.gidMappings));
  for (const m of opts.ownerShift?.uids ?? []) entries.push(`shift_uid=${m.containerID} ${m.hostID} ${m.size}`);
  for (const m of opts.ownerShift?.gids ?? []) entries.push(`shift_gid=${m.containerID} ${m.hostID} ${m.size}`);
  const { child, reports } = spawnHelper(['walk'], entries, ['ignore', 'pipe', 'inherit']);
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  child.stdout!.pipe(out, { end: false });
  child.on('error', (err) => out.destroy(new SkiffError(`cannot start the skiff helper: ${err.message}`)));
  child.on('close', (code, signal) => {
    const failure = reports().errors[0];
    if (failure) out.destroy(new SkiffError(failure.message, failure.exitCode));
    else if (code !== 0) out.destroy(new SkiffError(code === null ? `the skiff helper was killed by ${signal}` : `the skiff helper failed with status ${code}`));
    else out.end();
  });
  // A reader that gives up stops the walk.
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return out;
}
