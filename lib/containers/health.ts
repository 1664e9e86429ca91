// Healthchecks (docs/user-guide.md "Healthchecks", how-it-works "Healthchecks"):
// one check run in the container (`skiff healthcheck run`, also what the
// monitor's timer forks), its result folded into the container's health as
// Docker does, the health_status event, and --health-on-failure.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { execCaptured } from '../namespaces/helper.js';
import { installRoot } from '../paths.js';
import { lockFile } from '../store/lock.js';
import { containerEvent } from './events.js';
import { execConfig } from './exec.js';
import { healthArgv, type HealthConfig } from './health-config.js';
import { cgroupDirs, liveCgroup } from './resources.js';
import { containerState, type ContainerState } from './state.js';
import { healthLockPath, readConfig, readHealthFile, readPidFile, writeHealthFile, type ContainerRecord, type HealthFile } from './store.js';
import { foldResult, MAX_OUTPUT, type CheckResult, type HealthStatus } from './health-state.js';
import { formatDuration } from '../oci/duration.js';

/** Runs the check once in the container: its result (a check that cannot start is a failed one, as in Docker). */
async function runCheck(record: ContainerRecord, state: ContainerState, hc: HealthConfig): Promise<CheckResult> {
  const base = readConfig(record.Id);
  if (!base) throw new SkiffError(`container ${record.Id} has no config.json`);
  const config = execConfig(base, { command: healthArgv(hc.Test), env: [], envFiles: [], tty: false, interactive: false });
  const dirs = cgroupDirs(liveCgroup(record, readPidFile(record.Id)));
  const start = new Date().toISOString();
  try {
    const run = await execCaptured(config, state.Pid, { cgroupDirs: dirs, timeoutMs: hc.Timeout / 1e6, maxOutput: MAX_OUTPUT });
    const end = new Date().toISOString();
    if (run.timedOut) return { Start: start, End: end, ExitCode: -1, Output: `Health check exceeded timeout (${formatDuration(hc.Timeout)})` };
    return { Start: start, End: end, ExitCode: run.exitCode, Output: run.output };
  } catch (err) {
    // The command could not be run (not found: 127, not executable: 126): a failed check.
    if (err instanceof SkiffError && (err.exitCode === 126 || err.exitCode === 127)) {
      return { Start: start, End: new Date().toISOString(), ExitCode: err.exitCode, Output: err.message };
    }
    throw err;
  }
}

/**
 * `skiff healthcheck run`: one check, recorded. Resolves to the container's
 * health after it and whether the check passed.
 */
export async function runHealthcheck(record: ContainerRecord): Promise<{ passed: boolean; status: HealthStatus }> {
  const hc = record.Config.Healthcheck;
  if (!hc) throw new SkiffError(`container ${record.Name} has no defined healthcheck`);
  const state = containerState(record);
  if (!state.Running) throw new SkiffError(`container ${record.Name} is not running`);
  if (state.Paused) throw new SkiffError(`container ${record.Name} is paused`);
  const result = await runCheck(record, state, hc);
  // The read-modify-write under the container's health lock: concurrent
  // checks each add their result, none is lost, and the file is always whole.
  const lock = await lockFile(healthLockPath(record.Id), 'exclusive');
  let health: HealthFile;
  try {
    // The container may have been restarted meanwhile: a result belongs to the start it ran in.
    const now = containerState(record);
    if (now.StartedAt !== state.StartedAt) return { passed: result.ExitCode === 0, status: 'starting' };
    health = foldResult(readHealthFile(record.Id), result, hc, state.StartedAt);
    writeHealthFile(record.Id, health);
  } finally {
    lock.release();
  }
  containerEvent(record, 'health_status', undefined, health.Status);
  if (health.Status === 'unhealthy') onFailure(record);
  return { passed: result.ExitCode === 0, status: health.Status };
}

/**
 * --health-on-failure (Podman's): kill, stop or restart the unhealthy
 * container. Done by a `skiff` of its own, in its own session: this process
 * is the monitor's child and dies with it (PR_SET_PDEATHSIG), which a stop
 * or a restart outlives.
 */
function onFailure(record: ContainerRecord): void {
  const action = record.Config.HealthcheckOnFailureAction ?? 'none';
  if (action === 'none') return;
  const skiff = path.join(installRoot(), 'bin/skiff');
  const args = action === 'kill' ? ['kill', record.Id] : [action, record.Id];
  const child = spawn(process.execPath, ['--', skiff, ...args], { detached: true, stdio: 'ignore' });
  child.on('error', (err) => process.stderr.write(`skiff: warning: --health-on-failure=${action}: ${err.message}\n`));
  child.unref();
}
