// Resource limits: the flags of run/create/update (Docker's names, units and
// checks) -> Docker's HostConfig fields (what inspect shows) -> the OCI
// runtime-spec's linux.resources and process.rlimits (what config.json
// carries). Pure: a device's numbers come from the caller.
import { SkiffError } from '../../errors.js';
import type { OciDeviceCgroupRule } from './devices.js';

/** A --device-read-bps style entry, as Docker's HostConfig keeps it. */
export interface ThrottleDevice {
  Path: string;
  Rate: number;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** Docker's HostConfig resource fields (zero: not set, as Docker shows them). */
export interface HostResources {
  Memory: number;
  MemoryReservation: number;
  /** Memory plus swap; -1 unlimited; 0 not set. */
  MemorySwap: number;
  NanoCpus: number;
  CpuShares: number;
  CpuPeriod: number;
  CpuQuota: number;
  CpusetCpus: string;
  CpusetMems: string;
  /** null: not set (Docker's API); -1 or 0 given: unlimited. */
  PidsLimit: number | null;
  BlkioWeight: number;
  BlkioDeviceReadBps: ThrottleDevice[];
  BlkioDeviceWriteBps: ThrottleDevice[];
  BlkioDeviceReadIOps: ThrottleDevice[];
  BlkioDeviceWriteIOps: ThrottleDevice[];
  OomScoreAdj: number;
  Ulimits: Ulimit[];
}

export function emptyResources(): HostResources {
  return {
    Memory: 0,
    MemoryReservation: 0,
    MemorySwap: 0,
    NanoCpus: 0,
    CpuShares: 0,
    CpuPeriod: 0,
    CpuQuota: 0,
    CpusetCpus: '',
    CpusetMems: '',
    PidsLimit: null,
    BlkioWeight: 0,
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    OomScoreAdj: 0,
    Ulimits: [],
  };
}

/** The flags, as the user typed them (undefined: not given). */
export interface ResourceFlags {
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  kernelMemory?: string;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  oomScoreAdj?: string;
  ulimits?: string[];
}

/** What validation needs to know of the host. */
export interface ResourceHost {
  /** CPUs this process may use (for --cpus and --cpuset-cpus). */
  cpus: number;
  /** The CPUs and memory nodes that exist, as cpuset lists ("0-3"). */
  onlineCpus: string;
  onlineMems: string;
}

const RAM_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes: "64m", "1.5g", "512k", "100" (bytes); binary multiples, an optional "b"/"ib". */
export function parseBytes(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new SkiffError(`invalid ${flag} "${text}": expected a size such as 512k, 64m or 1g`);
  return Math.floor(Number(m[1]) * RAM_UNITS[(m[2] ?? '').toLowerCase()]!);
}

function parseInteger(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new SkiffError(`invalid ${flag} "${text}": expected a whole number`);
  return Number(text);
}

/** A memory flag that also accepts -1 ("unlimited"), as --memory-swap does. */
function parseBytesOrUnlimited(text: string, flag: string): number {
  return text.trim() === '-1' ? -1 : parseBytes(text, flag);
}

/** Expands a cpuset list ("0-2,5") to its numbers; undefined when malformed. */
export function parseCpuList(text: string): number[] | undefined {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to - from > 65536) return undefined;
    for (let i = from; i <= to; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

function checkCpuset(text: string, online: string, flag: string, what: string): string {
  const asked = parseCpuList(text);
  if (!asked) throw new SkiffError(`invalid ${flag} "${text}": expected a list such as 0-2,4`);
  const available = new Set(parseCpuList(online) ?? []);
  const missing = asked.filter((n) => !available.has(n));
  if (missing.length > 0) throw new SkiffError(`${flag} ${text}: requested ${what} are not available - requested ${text}, available: ${online}`);
  return text;
}

/** PATH:RATE, the rate a size (bps) or a number (iops). */
function parseThrottle(entry: string, flag: string, iops: boolean): ThrottleDevice {
  const colon = entry.lastIndexOf(':');
  if (colon <= 0 || !entry.startsWith('/')) throw new SkiffError(`invalid ${flag} "${entry}": expected /dev/DEVICE:${iops ? 'N' : 'RATE'} (e.g. /dev/sda:${iops ? '1000' : '1mb'})`);
  const rateText = entry.slice(colon + 1);
  const rate = iops ? parseInteger(rateText, flag) : parseBytes(rateText, flag);
  if (rate <= 0) throw new SkiffError(`invalid ${flag} "${entry}": the rate must be above 0`);
  return { Path: entry.slice(0, colon), Rate: rate };
}

/** The rlimits Docker's --ulimit knows, by the name it uses. */
export const ULIMIT_NAMES = [
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack', 'as',
] as const;

/** --ulimit NAME=SOFT[:HARD], -1 for unlimited. */
export function parseUlimit(text: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text.trim());
  if (!m) throw new SkiffError(`invalid --ulimit "${text}": expected NAME=SOFT[:HARD], e.g. nofile=1024:2048`);
  const name = m[1]!;
  if (!(ULIMIT_NAMES as readonly string[]).includes(name)) throw new SkiffError(`invalid --ulimit "${text}": unknown limit "${name}" (known: ${ULIMIT_NAMES.join(', ')})`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft < -1 || hard < -1) throw new SkiffError(`invalid --ulimit "${text}": a limit is a number of at least 0, or -1 for unlimited`);
  const unl = (n: number) => (n === -1 ? Infinity : n);
  if (unl(soft) > unl(hard)) throw new SkiffError(`invalid --ulimit "${text}": the soft limit ${soft} is above the hard limit ${hard}`);
  return { Name: name, Soft: soft, Hard: hard };
}

/**
 * Applies flags over `base` (a new container: emptyResources(); update: its
 * current values), with Docker's checks and messages. Only given flags change.
 */
export function applyResourceFlags(base: HostResources, flags: ResourceFlags, host: ResourceHost): HostResources {
  const r: HostResources = { ...base, Ulimits: [...base.Ulimits] };
  if (flags.kernelMemory !== undefined) {
    throw new SkiffError('--kernel-memory is obsolete: the kernel no longer limits kernel memory on its own (cgroup v2 counts it in --memory): use --memory');
  }
  if (flags.memory !== undefined) {
    const had = r.Memory;
    r.Memory = parseBytesOrUnlimited(flags.memory, '--memory');
    if (r.Memory === -1) r.Memory = 0;
    if (r.Memory !== 0 && r.Memory < 6 * 1024 * 1024) throw new SkiffError(`--memory ${flags.memory}: the minimum memory limit is 6MB`);
    // Docker: with --memory and no --memory-swap, as much swap as memory.
    if (flags.memorySwap === undefined && (r.MemorySwap === 0 || r.MemorySwap === 2 * had)) r.MemorySwap = r.Memory > 0 ? 2 * r.Memory : 0;
  }
  if (flags.memorySwap !== undefined) r.MemorySwap = parseBytesOrUnlimited(flags.memorySwap, '--memory-swap');
  if (flags.memoryReservation !== undefined) r.MemoryReservation = parseBytes(flags.memoryReservation, '--memory-reservation');
  if (r.MemorySwap > 0 && r.Memory === 0) throw new SkiffError('--memory-swap needs --memory: the swap limit counts memory plus swap');
  if (r.MemorySwap > 0 && r.MemorySwap < r.Memory) {
    throw new SkiffError(`--memory-swap ${flags.memorySwap ?? r.MemorySwap} is below --memory ${flags.memory ?? r.Memory}: it is the total of memory and swap, so at least the memory limit (-1: unlimited swap)`);
  }
  if (r.Memory > 0 && r.MemoryReservation > r.Memory) throw new SkiffError('--memory-reservation must be below --memory: the reservation is a soft limit under the hard one');

  if (flags.cpus !== undefined) {
    const cpus = Number(flags.cpus);
    if (!/^\d*\.?\d+$/.test(flags.cpus.trim()) || !Number.isFinite(cpus)) throw new SkiffError(`invalid --cpus "${flags.cpus}": expected a number such as 0.5 or 2`);
    if (cpus !== 0 && (cpus < 0.01 || cpus > host.cpus)) {
      throw new SkiffError(`--cpus ${flags.cpus}: the range of CPUs is from 0.01 to ${host.cpus.toFixed(2)}, as there ${host.cpus === 1 ? 'is only 1 CPU' : `are only ${host.cpus} CPUs`} available`);
    }
    r.NanoCpus = Math.round(cpus * 1e9);
  }
  if (flags.cpuPeriod !== undefined) r.CpuPeriod = parseInteger(flags.cpuPeriod, '--cpu-period');
  if (flags.cpuQuota !== undefined) r.CpuQuota = parseInteger(flags.cpuQuota, '--cpu-quota');
  if (r.NanoCpus > 0 && (flags.cpuPeriod !== undefined || flags.cpuQuota !== undefined || (flags.cpus !== undefined && (r.CpuPeriod > 0 || r.CpuQuota > 0)))) {
    throw new SkiffError('conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set (--cpus N is --cpu-period 100000 --cpu-quota N*100000)');
  }
  if (r.CpuPeriod !== 0 && (r.CpuPeriod < 1000 || r.CpuPeriod > 1_000_000)) throw new SkiffError(`--cpu-period ${r.CpuPeriod}: it must be between 1000 (1 ms) and 1000000 (1 s) microseconds`);
  if (r.CpuQuota !== 0 && r.CpuQuota !== -1 && r.CpuQuota < 1000) throw new SkiffError(`--cpu-quota ${r.CpuQuota}: it must be at least 1000 (1 ms) microseconds, or -1 for none`);
  if (flags.cpuShares !== undefined) {
    r.CpuShares = parseInteger(flags.cpuShares, '--cpu-shares');
    if (r.CpuShares !== 0 && (r.CpuShares < 2 || r.CpuShares > 262144)) throw new SkiffError(`--cpu-shares ${r.CpuShares}: it must be between 2 and 262144 (1024 is the default weight)`);
  }
  if (flags.cpusetCpus !== undefined) r.CpusetCpus = flags.cpusetCpus === '' ? '' : checkCpuset(flags.cpusetCpus, host.onlineCpus, '--cpuset-cpus', 'CPUs');
  if (flags.cpusetMems !== undefined) r.CpusetMems = flags.cpusetMems === '' ? '' : checkCpuset(flags.cpusetMems, host.onlineMems, '--cpuset-mems', 'memory nodes');

  if (flags.pidsLimit !== undefined) {
    const n = parseInteger(flags.pidsLimit, '--pids-limit');
    if (n < -1) throw new SkiffError(`--pids-limit ${n}: expected a number of processes, or 0 or -1 for unlimited`);
    r.PidsLimit = n;
  }
  if (flags.blkioWeight !== undefined) {
    r.BlkioWeight = parseInteger(flags.blkioWeight, '--blkio-weight');
    if (r.BlkioWeight !== 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000)) throw new SkiffError(`--blkio-weight ${r.BlkioWeight}: the range of blkio weight is from 10 to 1000 (0 disables it)`);
  }
  if (flags.deviceReadBps) r.BlkioDeviceReadBps = flags.deviceReadBps.map((e) => parseThrottle(e, '--device-read-bps', false));
  if (flags.deviceWriteBps) r.BlkioDeviceWriteBps = flags.deviceWriteBps.map((e) => parseThrottle(e, '--device-write-bps', false));
  if (flags.deviceReadIops) r.BlkioDeviceReadIOps = flags.deviceReadIops.map((e) => parseThrottle(e, '--device-read-iops', true));
  if (flags.deviceWriteIops) r.BlkioDeviceWriteIOps = flags.deviceWriteIops.map((e) => parseThrottle(e, '--device-write-iops', true));

  if (flags.oomScoreAdj !== undefined) {
    r.OomScoreAdj = parseInteger(flags.oomScoreAdj, '--oom-score-adj');
    if (r.OomScoreAdj < -1000 || r.OomScoreAdj > 1000) throw new SkiffError(`--oom-score-adj ${r.OomScoreAdj}: the range is from -1000 to 1000`);
  }
  if (flags.ulimits) {
    const byName = new Map(r.Ulimits.map((u) => [u.Name, u]));
    for (const text of flags.ulimits) {
      const u = parseUlimit(text);
      byName.set(u.Name, u);
    }
    r.Ulimits = [...byName.values()];
  }
  return r;
}

// --- config.json ---------------------------------------------------------------

export interface OciThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

/** The OCI runtime-spec's linux.resources, as far as skiff sets it. */
export interface OciLinuxResources {
  memory?: { limit?: number; reservation?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    throttleReadBpsDevice?: OciThrottleDevice[];
    throttleWriteBpsDevice?: OciThrottleDevice[];
    throttleReadIOPSDevice?: OciThrottleDevice[];
    throttleWriteIOPSDevice?: OciThrottleDevice[];
  };
  /** The device cgroup, in order (root on hosts with the cgroup v1 devices controller; see containers/resources.ts). */
  devices?: OciDeviceCgroupRule[];
}

export interface OciRlimit {
  type: string;
  soft: number;
  hard: number;
}

/** The kernel's RLIM_INFINITY as config.json writes it (2^64-1 does not fit a JS number: -1 stands for it). */
export const RLIM_INFINITY = -1;

/** The CFS period --cpus implies, as Docker and runc use it. */
export const DEFAULT_CPU_PERIOD = 100_000;

/** HostConfig -> linux.resources; `device` gives a block device's numbers. Empty when nothing is limited. */
export function ociResources(r: HostResources, device: (path: string) => { major: number; minor: number }): OciLinuxResources {
  const out: OciLinuxResources = {};
  const memory: NonNullable<OciLinuxResources['memory']> = {};
  if (r.Memory > 0) memory.limit = r.Memory;
  if (r.MemoryReservation > 0) memory.reservation = r.MemoryReservation;
  if (r.MemorySwap !== 0) memory.swap = r.MemorySwap;
  if (Object.keys(memory).length > 0) out.memory = memory;

  const cpu: NonNullable<OciLinuxResources['cpu']> = {};
  if (r.CpuShares > 0) cpu.shares = r.CpuShares;
  if (r.NanoCpus > 0) {
    cpu.period = DEFAULT_CPU_PERIOD;
    cpu.quota = Math.round((r.NanoCpus * DEFAULT_CPU_PERIOD) / 1e9);
  } else {
    if (r.CpuPeriod > 0) cpu.period = r.CpuPeriod;
    if (r.CpuQuota !== 0) cpu.quota = r.CpuQuota;
  }
  if (r.CpusetCpus !== '') cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems !== '') cpu.mems = r.CpusetMems;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;

  if (r.PidsLimit !== null && r.PidsLimit > 0) out.pids = { limit: r.PidsLimit };

  const throttle = (list: ThrottleDevice[]) => list.map((t) => ({ ...device(t.Path), rate: t.Rate }));
  const blockIO: NonNullable<OciLinuxResources['blockIO']> = {};
  if (r.BlkioWeight > 0) blockIO.weight = r.BlkioWeight;
  if (r.BlkioDeviceReadBps.length > 0) blockIO.throttleReadBpsDevice = throttle(r.BlkioDeviceReadBps);
  if (r.BlkioDeviceWriteBps.length > 0) blockIO.throttleWriteBpsDevice = throttle(r.BlkioDeviceWriteBps);
  if (r.BlkioDeviceReadIOps.length > 0) blockIO.throttleReadIOPSDevice = throttle(r.BlkioDeviceReadIOps);
  if (r.BlkioDeviceWriteIOps.length > 0) blockIO.throttleWriteIOPSDevice = throttle(r.BlkioDeviceWriteIOps);
  if (Object.keys(blockIO).length > 0) out.blockIO = blockIO;
  return out;
}

/** --ulimit -> process.rlimits (RLIMIT_NOFILE…). */
export function ociRlimits(ulimits: Ulimit[]): OciRlimit[] {
  return ulimits.map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard }));
}

/** The flags a set of resources came from, for messages: which flag asked for which controller. */
export function requestedLimits(res: OciLinuxResources): { flag: string; controller: 'memory' | 'cpu' | 'cpuset' | 'pids' | 'io' }[] {
  const out: { flag: string; controller: 'memory' | 'cpu' | 'cpuset' | 'pids' | 'io' }[] = [];
  if (res.memory?.limit !== undefined) out.push({ flag: '--memory', controller: 'memory' });
  if (res.memory?.reservation !== undefined) out.push({ flag: '--memory-reservation', controller: 'memory' });
  if (res.memory?.swap !== undefined && res.memory.limit === undefined) out.push({ flag: '--memory-swap', controller: 'memory' });
  if (res.cpu?.quota !== undefined || res.cpu?.period !== undefined) out.push({ flag: '--cpus', controller: 'cpu' });
  if (res.cpu?.shares !== undefined) out.push({ flag: '--cpu-shares', controller: 'cpu' });
  if (res.cpu?.cpus !== undefined) out.push({ flag: '--cpuset-cpus', controller: 'cpuset' });
  if (res.cpu?.mems !== undefined) out.push({ flag: '--cpuset-mems', controller: 'cpuset' });
  if (res.pids) out.push({ flag: '--pids-limit', controller: 'pids' });
  if (res.blockIO?.weight !== undefined) out.push({ flag: '--blkio-weight', controller: 'io' });
  if (res.blockIO && Object.keys(res.blockIO).some((k) => k.startsWith('throttle'))) out.push({ flag: '--device-read/write-bps/iops', controller: 'io' });
  return out;
}
