// A container's own cgroup: where it goes, and freezing it (pause/unpause).
// v2 (a root-owned hierarchy, or the user's delegated subtree) is preferred;
// as root on a v1 or hybrid host without a usable v2, the v1 freezer serves.
// Without either, containers still run and pause says exactly why it cannot.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import { detectCgroups } from './detect.js';

export interface ContainerCgroup {
  kind: 'v2' | 'v1-freezer';
  dir: string;
}

export type CgroupPlan = { cgroup: ContainerCgroup } | { cgroup?: undefined; reason: string };

export function planContainerCgroup(id: string): CgroupPlan {
  const uid = process.geteuid?.() ?? 0;
  const d = detectCgroups({
    mountinfo: readFileSync('/proc/self/mountinfo', 'utf8'),
    procCgroup: readFileSync('/proc/self/cgroup', 'utf8'),
    uid,
  });
  if (d.unified && !d.unified.readOnly) {
    if (uid === 0) return { cgroup: { kind: 'v2', dir: path.join(d.unified.mountPoint, 'skiff', id) } };
    if (d.delegation?.writable && d.delegation.dir) return { cgroup: { kind: 'v2', dir: path.join(d.delegation.dir, `skiff-${id}`) } };
  }
  const freezer = d.v1.find((h) => h.controllers.includes('freezer'));
  if (uid === 0 && freezer && !freezer.readOnly) return { cgroup: { kind: 'v1-freezer', dir: path.join(freezer.mountPoint, 'skiff', id) } };
  const reason =
    d.version === 'none'
      ? 'this host has no cgroup filesystem mounted'
      : d.delegation && !d.delegation.writable
        ? `the cgroup v2 hierarchy is not delegated to you (${d.delegation.reason}); v1 controllers cannot be delegated to an unprivileged user`
        : 'no writable cgroup v2 hierarchy and no v1 freezer';
  return { reason };
}

export function createCgroup(cgroup: ContainerCgroup): void {
  mkdirSync(cgroup.dir, { recursive: true });
}

/** Removes the (empty) cgroup; a busy or missing one is left as it is. */
export function removeCgroup(cgroup: ContainerCgroup): void {
  try {
    rmdirSync(cgroup.dir);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOENT' && code !== 'EBUSY') throw err;
  }
}

export function isFrozen(cgroup: ContainerCgroup): boolean {
  try {
    if (cgroup.kind === 'v2') return /^frozen 1$/m.test(readFileSync(path.join(cgroup.dir, 'cgroup.events'), 'utf8'));
    return readFileSync(path.join(cgroup.dir, 'freezer.state'), 'utf8').trim() === 'FROZEN';
  } catch {
    return false;
  }
}

/** Freezes or thaws every process of the container and waits until the kernel says it is done. */
export async function setFrozen(cgroup: ContainerCgroup, frozen: boolean): Promise<void> {
  const file = cgroup.kind === 'v2' ? 'cgroup.freeze' : 'freezer.state';
  const value = cgroup.kind === 'v2' ? (frozen ? '1' : '0') : frozen ? 'FROZEN' : 'THAWED';
  try {
    writeFileSync(path.join(cgroup.dir, file), value);
  } catch (err) {
    throw new SkiffError(`cannot ${frozen ? 'freeze' : 'thaw'} ${cgroup.dir}: ${errnoCode(err) ?? String(err)}`);
  }
  const deadline = Date.now() + 5000;
  while (isFrozen(cgroup) !== frozen) {
    if (Date.now() > deadline) throw new SkiffError(`the container did not ${frozen ? 'freeze' : 'thaw'} within 5 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The pids in the container's cgroup (every process of it, exec'd ones included). */
export function cgroupPids(cgroup: ContainerCgroup): number[] {
  try {
    return readFileSync(path.join(cgroup.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
