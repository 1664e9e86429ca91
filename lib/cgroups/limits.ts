// linux.resources (config.json) -> the cgroup files that carry them, for v2
// and for v1, as crun and runc translate them; pure, so unit tests pin each
// conversion. Writing them is container.ts's job.
import { deviceCgroupLine } from '../oci/spec/devices.js';
import type { OciLinuxResources } from '../oci/spec/resources.js';

/** One write: a file of the container's cgroup (v1: of one controller's hierarchy) and its value. */
export interface CgroupWrite {
  /** v1: the controller whose hierarchy holds the file; v2: the controller it belongs to (for messages). */
  controller: 'memory' | 'cpu' | 'cpuset' | 'pids' | 'io' | 'blkio' | 'devices';
  file: string;
  value: string;
}

/** runc's ConvertCPUSharesToCgroupV2Value: shares 2..262144 onto weight 1..10000 (1024 -> 39 + …). */
export function cpuWeightFromShares(shares: number): number {
  if (shares === 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** runc's ConvertBlkIOToIOWeightValue: blkio weight 10..1000 onto io.weight 1..10000. */
export function ioWeightFromBlkio(weight: number): number {
  if (weight === 0) return 0;
  return Math.floor(1 + ((weight - 10) * 9999) / 990);
}

type Throttles = Pick<NonNullable<OciLinuxResources['blockIO']>, 'throttleReadBpsDevice' | 'throttleWriteBpsDevice' | 'throttleReadIOPSDevice' | 'throttleWriteIOPSDevice'>;

/** io.max lines, one per device: "MAJ:MIN rbps=N wbps=N riops=N wiops=N". */
function ioMaxLines(b: Throttles): string[] {
  const byDevice = new Map<string, string[]>();
  const add = (list: { major: number; minor: number; rate: number }[] | undefined, key: string) => {
    for (const t of list ?? []) {
      const dev = `${t.major}:${t.minor}`;
      byDevice.set(dev, [...(byDevice.get(dev) ?? []), `${key}=${t.rate}`]);
    }
  };
  add(b.throttleReadBpsDevice, 'rbps');
  add(b.throttleWriteBpsDevice, 'wbps');
  add(b.throttleReadIOPSDevice, 'riops');
  add(b.throttleWriteIOPSDevice, 'wiops');
  return [...byDevice].map(([dev, keys]) => `${dev} ${keys.join(' ')}`);
}

/** The v2 files, in an order the kernel accepts from a fresh cgroup. */
export function v2Writes(res: OciLinuxResources): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  const m = res.memory;
  if (m?.reservation !== undefined) w.push({ controller: 'memory', file: 'memory.low', value: String(m.reservation) });
  if (m?.limit !== undefined) w.push({ controller: 'memory', file: 'memory.max', value: m.limit > 0 ? String(m.limit) : 'max' });
  if (m?.swap !== undefined) {
    // v2 limits swap alone; Docker's value is memory plus swap.
    const swap = m.swap === -1 ? 'max' : String(Math.max(0, m.swap - (m.limit ?? 0)));
    w.push({ controller: 'memory', file: 'memory.swap.max', value: swap });
  }
  const c = res.cpu;
  if (c?.shares !== undefined) w.push({ controller: 'cpu', file: 'cpu.weight', value: String(cpuWeightFromShares(c.shares)) });
  if (c?.quota !== undefined || c?.period !== undefined) {
    const quota = c.quota === undefined || c.quota <= 0 ? 'max' : String(c.quota);
    w.push({ controller: 'cpu', file: 'cpu.max', value: `${quota} ${c.period ?? 100000}` });
  }
  // cpuset.mems before cpuset.cpus does not matter on v2 (empty means the parent's).
  if (c?.cpus !== undefined) w.push({ controller: 'cpuset', file: 'cpuset.cpus', value: c.cpus });
  if (c?.mems !== undefined) w.push({ controller: 'cpuset', file: 'cpuset.mems', value: c.mems });
  if (res.pids) w.push({ controller: 'pids', file: 'pids.max', value: res.pids.limit > 0 ? String(res.pids.limit) : 'max' });
  const b = res.blockIO;
  if (b?.weight !== undefined) w.push({ controller: 'io', file: 'io.weight', value: `default ${ioWeightFromBlkio(b.weight)}` });
  for (const line of b ? ioMaxLines(b) : []) w.push({ controller: 'io', file: 'io.max', value: line });
  return w;
}

/**
 * The v1 files, by hierarchy. memory.memsw.limit_in_bytes must stay at or
 * above memory.limit_in_bytes at every step: which goes first depends on
 * whether the limit rises or falls, so apply tries the other order on EINVAL.
 */
export function v1Writes(res: OciLinuxResources): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  const m = res.memory;
  if (m?.limit !== undefined) w.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(m.limit > 0 ? m.limit : -1) });
  if (m?.swap !== undefined) w.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(m.swap) });
  if (m?.reservation !== undefined) w.push({ controller: 'memory', file: 'memory.soft_limit_in_bytes', value: String(m.reservation) });
  const c = res.cpu;
  if (c?.shares !== undefined) w.push({ controller: 'cpu', file: 'cpu.shares', value: String(c.shares) });
  if (c?.period !== undefined) w.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(c.period) });
  if (c?.quota !== undefined) w.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(c.quota > 0 ? c.quota : -1) });
  if (c?.cpus !== undefined) w.push({ controller: 'cpuset', file: 'cpuset.cpus', value: c.cpus });
  if (c?.mems !== undefined) w.push({ controller: 'cpuset', file: 'cpuset.mems', value: c.mems });
  if (res.pids) w.push({ controller: 'pids', file: 'pids.max', value: res.pids.limit > 0 ? String(res.pids.limit) : 'max' });
  const b = res.blockIO;
  if (b?.weight !== undefined) w.push({ controller: 'blkio', file: 'blkio.weight', value: String(b.weight) });
  const throttle = (list: { major: number; minor: number; rate: number }[] | undefined, file: string) => {
    for (const t of list ?? []) w.push({ controller: 'blkio', file, value: `${t.major}:${t.minor} ${t.rate}` });
  };
  throttle(b?.throttleReadBpsDevice, 'blkio.throttle.read_bps_device');
  throttle(b?.throttleWriteBpsDevice, 'blkio.throttle.write_bps_device');
  throttle(b?.throttleReadIOPSDevice, 'blkio.throttle.read_iops_device');
  throttle(b?.throttleWriteIOPSDevice, 'blkio.throttle.write_iops_device');
  // The device cgroup, one rule per write, in order: "a" denied first, then what is allowed.
  for (const rule of res.devices ?? []) w.push({ controller: 'devices', file: rule.allow ? 'devices.allow' : 'devices.deny', value: deviceCgroupLine(rule) });
  return w;
}

/** The v2 controllers a set of resources needs enabled in the parent's cgroup.subtree_control. */
export function v2Controllers(res: OciLinuxResources): string[] {
  return [...new Set(v2Writes(res).map((w) => w.controller))].sort();
}
