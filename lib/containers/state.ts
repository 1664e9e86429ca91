// A container's state, derived from the files its monitor writes and from
// whether the monitor still lives: `ps` and `inspect` tell the truth even
// when the monitor was killed.
import { readFileSync } from 'node:fs';
import { isFrozen, startedCgroup } from '../cgroups/container.js';
import { humanDuration } from '../humanize.js';
import type { ContainerRecord } from './store.js';
import { readExitFile, readPidFile, writeExitFile } from './store.js';

export type Status = 'created' | 'running' | 'paused' | 'exited';

export interface ContainerState {
  Status: Status;
  Running: boolean;
  Paused: boolean;
  Pid: number;
  MonitorPid: number;
  ExitCode: number;
  StartedAt: string;
  FinishedAt: string;
  RestartCount: number;
  Error: string;
  /** The kernel's OOM killer killed in the container's cgroup during its last run. */
  OOMKilled: boolean;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Is pid a live skiff-helper? (A reused pid runs something else.) */
export function monitorAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    // One read: "pid (comm) state …"; comm is the helper's name, and a zombie is gone.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const close = stat.lastIndexOf(')');
    return stat.slice(stat.indexOf('(') + 1, close) === 'skiff-helper' && stat[close + 2] !== 'Z';
  } catch {
    return false;
  }
}

export function containerState(record: ContainerRecord): ContainerState {
  const started = readPidFile(record.Id);
  const exited = readExitFile(record.Id);
  const base: ContainerState = {
    Status: 'created',
    Running: false,
    Paused: false,
    Pid: 0,
    MonitorPid: 0,
    ExitCode: 0,
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
    RestartCount: 0,
    Error: '',
    OOMKilled: false,
  };
  if (!started) return base;
  const current = { ...base, StartedAt: started.StartedAt, RestartCount: started.RestartCount, MonitorPid: started.MonitorPid };
  if (exited && exited.RestartCount >= started.RestartCount) {
    return { ...current, Status: 'exited', ExitCode: exited.ExitCode, FinishedAt: exited.FinishedAt, OOMKilled: exited.OOMKilled === true };
  }
  if (monitorAlive(started.MonitorPid)) {
    const cg = record.Cgroup ? startedCgroup(record.Cgroup, started.Cgroup) : undefined;
    const paused = cg !== undefined && isFrozen(cg);
    return { ...current, Status: paused ? 'paused' : 'running', Running: true, Paused: paused, Pid: started.Pid };
  }
  // The monitor died without recording an end: the container died with it
  // (it is the parent-death signal's target). Record that, once.
  const again = readExitFile(record.Id);
  if (again && again.RestartCount >= started.RestartCount) {
    return { ...current, Status: 'exited', ExitCode: again.ExitCode, FinishedAt: again.FinishedAt, OOMKilled: again.OOMKilled === true };
  }
  const finishedAt = new Date().toISOString();
  try {
    writeExitFile(record.Id, { ExitCode: 137, StartedAt: started.StartedAt, FinishedAt: finishedAt, RestartCount: started.RestartCount });
  } catch {
    // read-only view (e.g. another user's store): still report it
  }
  return { ...current, Status: 'exited', ExitCode: 137, FinishedAt: finishedAt, Error: 'the container monitor was killed' };
}

/** Docker's STATUS column: "Up 5 seconds", "Exited (0) 2 minutes ago", "Created". */
export function statusText(state: ContainerState, now = Date.now()): string {
  if (state.Status === 'created') return 'Created';
  if (state.Running) return `Up ${humanDuration(now - Date.parse(state.StartedAt))}${state.Paused ? ' (Paused)' : ''}`;
  return `Exited (${state.ExitCode}) ${humanDuration(now - Date.parse(state.FinishedAt))} ago${state.OOMKilled ? ' (OOM killed)' : ''}`;
}

