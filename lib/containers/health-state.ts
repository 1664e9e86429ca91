// A container's health as `ps` and `inspect` show it, and Docker's rule for
// folding one check's result into it (pure but for reading health.json).
// Running checks is health.ts's: this module loads nothing of the helper.
import path from 'node:path';
import type { HealthTimer } from '../namespaces/helper.js';
import { installRoot } from '../paths.js';
import type { HealthConfig } from './health-config.js';
import type { ContainerState } from './state.js';
import { readHealthFile, type ContainerRecord, type HealthFile } from './store.js';

/** Docker's: the output a result keeps, and the results the log keeps. */
export const MAX_OUTPUT = 4096;
const MAX_LOG = 5;

export type HealthStatus = HealthFile['Status'];

/** inspect's .State.Health: Docker's and Podman's shape. */
export interface HealthView {
  Status: HealthStatus | '';
  FailingStreak: number;
  Log: HealthFile['Log'] | null;
}

const NO_HEALTH: HealthView = { Status: '', FailingStreak: 0, Log: null };

/**
 * The container's health: its last start's checks. A container without a
 * healthcheck, or one never started, shows Podman's empty one; a running
 * container with no result yet is "starting".
 */
export function healthOf(record: ContainerRecord, state: ContainerState): HealthView {
  if (!record.Config.Healthcheck || state.Status === 'created') return NO_HEALTH;
  const file = readHealthFile(record.Id);
  if (file && file.StartedAt === state.StartedAt) return { Status: file.Status, FailingStreak: file.FailingStreak, Log: file.Log };
  return state.Running ? { Status: 'starting', FailingStreak: 0, Log: [] } : NO_HEALTH;
}

/** ps's STATUS suffix and its health= filter's word: healthy, unhealthy, starting, or none. */
export function healthWord(record: ContainerRecord, state: ContainerState): HealthStatus | 'none' {
  if (!state.Running) return 'none';
  const status = healthOf(record, state).Status;
  return status === '' ? 'none' : status;
}

export interface CheckResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** Docker's fold of one result into the health (pure): a pass resets the streak; failures within the start period count only once one has passed. */
export function foldResult(previous: HealthFile | undefined, result: CheckResult, hc: HealthConfig, startedAt: string): HealthFile {
  const base: HealthFile = previous && previous.StartedAt === startedAt ? previous : { StartedAt: startedAt, Status: 'starting', FailingStreak: 0, Log: [] };
  const log = [...base.Log, result].slice(-MAX_LOG);
  if (result.ExitCode === 0) return { StartedAt: startedAt, Status: 'healthy', FailingStreak: 0, Log: log };
  const inStartPeriod = base.Status === 'starting' && Date.parse(result.Start) - Date.parse(startedAt) < hc.StartPeriod / 1e6;
  if (inStartPeriod) return { ...base, Log: log };
  const streak = base.FailingStreak + 1;
  return { StartedAt: startedAt, Status: streak >= hc.Retries ? 'unhealthy' : base.Status, FailingStreak: streak, Log: log };
}


/** What the monitor's timer forks: this same skiff, `healthcheck run ID`. */
export function healthTimer(record: ContainerRecord): HealthTimer | undefined {
  const hc = record.Config.Healthcheck;
  if (!hc || hc.Interval <= 0) return undefined;
  return {
    cmd: [process.execPath, '--', path.join(installRoot(), 'bin/skiff'), 'healthcheck', 'run', record.Id],
    intervalMs: Math.max(1, Math.round(hc.Interval / 1e6)),
    startPeriodMs: Math.round(hc.StartPeriod / 1e6),
    startIntervalMs: Math.max(1, Math.round(hc.StartInterval / 1e6)),
  };
}

