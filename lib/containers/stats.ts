// `stats`: each container's usage, as Docker's columns show it. Counters come
// from the container's cgroup; a container without one (a rootless one on a
// host that delegates none) is measured from /proc, its processes' own
// counters. Network from the container's namespace (/proc/PID/net/dev).
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { readCounters, type CgroupCounters } from '../cgroups/stats.js';
import { descendants } from './processes.js';
import { liveCgroup } from './resources.js';
import { containerState } from './state.js';
import { readPidFile, type ContainerRecord } from './store.js';

export interface StatsSample {
  record: ContainerRecord;
  running: boolean;
  /** When the sample was taken, and when the container started (ms). */
  at: number;
  startedAt: number;
  counters: CgroupCounters;
  netRx: number;
  netTx: number;
}

/** Bytes received and sent on every interface but lo of the namespace pid lives in. */
export function netBytes(pid: number): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  try {
    for (const line of readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2)) {
      const [name, rest] = line.split(':');
      if (!rest || name!.trim() === 'lo') continue;
      const f = rest.trim().split(/\s+/);
      rx += Number(f[0]);
      tx += Number(f[8]);
    }
  } catch {
    // exited meanwhile
  }
  return { rx, tx };
}

const PAGE = 4096;
const TICK_NS = 1e7; // USER_HZ 100

/** Without a cgroup: the processes' CPU time and resident memory from /proc. */
function procCounters(pid: number): CgroupCounters {
  let cpuNs = 0;
  let mem = 0;
  let pids = 0;
  for (const p of descendants(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuNs += (Number(f[11]) + Number(f[12])) * TICK_NS;
      mem += Number(readFileSync(`/proc/${p}/statm`, 'latin1').split(' ')[1]) * PAGE;
      pids++;
    } catch {
      // exited meanwhile
    }
  }
  return { cpuNs, memUsage: mem, pids };
}

export function sampleStats(record: ContainerRecord): StatsSample {
  const state = containerState(record);
  const base = { record, running: state.Running, at: Date.now(), startedAt: Date.parse(state.StartedAt) || Date.now(), netRx: 0, netTx: 0 };
  if (!state.Running) return { ...base, counters: {} };
  const cg = liveCgroup(record, readPidFile(record.Id));
  const counters = cg ? readCounters(cg) : procCounters(state.Pid);
  const net = record.HostConfig.NetworkMode === 'host' ? { rx: 0, tx: 0 } : netBytes(state.Pid);
  return { ...base, counters, netRx: net.rx, netTx: net.tx };
}

/** Docker's stats row (its --format fields). */
export interface StatsRow {
  Container: string;
  ID: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** go-units CustomSize with "%.4g" (BytesSize) or "%.3g" (HumanSizeWithPrecision 3). */
function size(bytes: number, base: number, units: string[], precision: number): string {
  let v = bytes;
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${Number(v.toPrecision(precision))}${units[i]}`;
}

export const bytesSize = (n: number) => size(n, 1024, BINARY, 4);
export const humanSize3 = (n: number) => size(n, 1000, DECIMAL, 3);

/** CPU %: of one CPU, over the interval since `previous` (or, without one, since the start, as Podman). */
export function cpuPercent(now: StatsSample, previous: StatsSample | undefined): number {
  const cpu = now.counters.cpuNs;
  if (cpu === undefined || !now.running) return 0;
  const fromCpu = previous?.running && previous.counters.cpuNs !== undefined ? previous.counters.cpuNs : 0;
  const fromAt = previous?.running ? previous.at : now.startedAt;
  const wallNs = (now.at - fromAt) * 1e6;
  return wallNs > 0 ? Math.max(0, ((cpu - fromCpu) / wallNs) * 100) : 0;
}

export function statsRow(sample: StatsSample, previous: StatsSample | undefined, shownAs: string, noTrunc: boolean): StatsRow {
  const c = sample.counters;
  const limit = c.memLimit ?? totalmem();
  const usage = c.memUsage ?? 0;
  return {
    Container: shownAs,
    ID: noTrunc ? sample.record.Id : sample.record.Id.slice(0, 12),
    Name: sample.record.Name,
    CPUPerc: sample.running ? `${cpuPercent(sample, previous).toFixed(2)}%` : '--',
    MemUsage: sample.running ? `${bytesSize(usage)} / ${bytesSize(limit)}` : '-- / --',
    MemPerc: sample.running ? `${((usage / limit) * 100).toFixed(2)}%` : '--',
    NetIO: sample.running ? `${humanSize3(sample.netRx)} / ${humanSize3(sample.netTx)}` : '--',
    BlockIO: sample.running ? `${humanSize3(c.blkRead ?? 0)} / ${humanSize3(c.blkWrite ?? 0)}` : '--',
    PIDs: sample.running ? String(c.pids ?? 0) : '--',
  };
}
