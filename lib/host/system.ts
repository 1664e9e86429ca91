// Plain readings of the host: kernel, distribution, memory, sysctls, the ID
// map of this process's user namespace. Parsers are pure; readers return
// undefined instead of throwing, since a missing file is itself a fact.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { IdRange } from './subids.js';

export function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function kernelRelease(): string {
  return readText('/proc/sys/kernel/osrelease')?.trim() ?? os.release();
}

export function hostName(): string {
  return readText('/proc/sys/kernel/hostname')?.trim() ?? os.hostname();
}

/** os-release(5): KEY=value lines, values optionally quoted with shell escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(raw.trim());
    if (!m) continue;
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\([$"\\`])/g, '$1');
    }
    out[m[1]!] = value;
  }
  return out;
}

export function osRelease(): Record<string, string> {
  return parseOsRelease(readText('/etc/os-release') ?? readText('/usr/lib/os-release') ?? '');
}

/** /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]) * (line.trim().endsWith('kB') ? 1024 : 1);
  }
  return out;
}

/** The GOARCH-style name Docker and Podman print (and OCI platforms use). */
export function goArch(arch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', ppc64: 'ppc64le', mipsel: 'mipsle' };
  return map[arch] ?? arch;
}

/** A numeric sysctl from /proc/sys, or undefined when this kernel has no such knob. */
export function readSysctl(name: string): number | undefined {
  const text = readText(`/proc/sys/${name.replace(/\./g, '/')}`);
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** /proc/PID/uid_map and gid_map: "ID-inside ID-outside count" lines. */
export function parseIdMap(text: string): IdRange[] {
  const out: IdRange[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length === 3 && f.every(Number.isSafeInteger)) out.push({ containerID: f[0]!, hostID: f[1]!, size: f[2]! });
  }
  return out;
}

/** The initial user namespace maps every ID to itself. */
export function isInitialIdMap(map: IdRange[]): boolean {
  return map.length === 1 && map[0]!.containerID === 0 && map[0]!.hostID === 0 && map[0]!.size === 4294967295;
}

/** Whether IDs [start, start+count) all exist in this user namespace (the first column of its map). */
export function idsMapped(map: IdRange[], start: number, count: number): boolean {
  let next = start;
  const end = start + count;
  const sorted = [...map].sort((a, b) => a.containerID - b.containerID);
  for (const r of sorted) {
    if (r.containerID <= next && r.containerID + r.size > next) next = r.containerID + r.size;
    if (next >= end) return true;
  }
  return next >= end;
}
