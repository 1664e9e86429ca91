// A container's counters from its cgroup files (v2, or root's v1
// hierarchies), for `stats`: what Docker reads, with Docker's arithmetic
// (memory usage without the inactive page cache).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ContainerCgroup } from './container.js';

export interface CgroupCounters {
  /** CPU time used, nanoseconds. */
  cpuNs?: number;
  memUsage?: number;
  /** The memory limit; undefined when there is none. */
  memLimit?: number;
  pids?: number;
  blkRead?: number;
  blkWrite?: number;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** A flat keyed file ("key value" lines) as a map. */
export function keyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

/** v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N …" per device, summed. */
export function ioStatBytes(text: string | undefined): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of (text ?? '').split('\n')) {
    for (const field of line.split(' ').slice(1)) {
      const [k, v] = field.split('=');
      if (k === 'rbytes') read += Number(v);
      if (k === 'wbytes') write += Number(v);
    }
  }
  return { read, write };
}

/** v1 blkio.throttle.io_service_bytes_recursive: "MAJ:MIN Read N" lines, summed. */
export function blkioBytes(text: string | undefined): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of (text ?? '').split('\n')) {
    const [dev, op, v] = line.split(' ');
    if (!dev?.includes(':')) continue;
    if (op === 'Read') read += Number(v);
    if (op === 'Write') write += Number(v);
  }
  return { read, write };
}

/** Docker's usage: the charge minus inactive file pages, which the kernel reclaims first. */
function withoutCache(usage: number | undefined, inactiveFile: number | undefined): number | undefined {
  if (usage === undefined) return undefined;
  return inactiveFile !== undefined && inactiveFile < usage ? usage - inactiveFile : usage;
}

/** v1 reports "no limit" as a huge number rounded to the page size. */
const V1_UNLIMITED = 2 ** 62;

export function readCounters(cg: ContainerCgroup): CgroupCounters {
  const v1 = cg.v1;
  if (v1) {
    const mem = v1.memory;
    const limit = mem ? num(read(path.join(mem, 'memory.limit_in_bytes'))) : undefined;
    const blk = v1.blkio ? blkioBytes(read(path.join(v1.blkio, 'blkio.throttle.io_service_bytes_recursive'))) : undefined;
    return {
      cpuNs: v1.cpuacct ? num(read(path.join(v1.cpuacct, 'cpuacct.usage'))) : undefined,
      memUsage: mem ? withoutCache(num(read(path.join(mem, 'memory.usage_in_bytes'))), keyed(read(path.join(mem, 'memory.stat'))).get('total_inactive_file')) : undefined,
      memLimit: limit !== undefined && limit < V1_UNLIMITED ? limit : undefined,
      pids: v1.pids ? num(read(path.join(v1.pids, 'pids.current'))) : undefined,
      blkRead: blk?.read,
      blkWrite: blk?.write,
    };
  }
  const dir = cg.dir;
  const usageUsec = keyed(read(path.join(dir, 'cpu.stat'))).get('usage_usec');
  const max = read(path.join(dir, 'memory.max'))?.trim();
  const io = read(path.join(dir, 'io.stat'));
  return {
    cpuNs: usageUsec !== undefined ? usageUsec * 1000 : undefined,
    memUsage: withoutCache(num(read(path.join(dir, 'memory.current'))), keyed(read(path.join(dir, 'memory.stat'))).get('inactive_file')),
    memLimit: max === undefined || max === 'max' ? undefined : num(max),
    pids: num(read(path.join(dir, 'pids.current'))),
    ...(io !== undefined ? { blkRead: ioStatBytes(io).read, blkWrite: ioStatBytes(io).write } : {}),
  };
}
