// What can happen to a container after `create`: start, stop, kill, wait,
// remove. Each is one short function over lib/containers/store and the helper.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { useCodePart } from '../code-parts.js';
import { EXIT_SKIFF_FAILED, SkiffError } from '../errors.js';
import { installRoot } from '../paths.js';
import { signalContainerProcess, startMonitored, type MonitorFiles } from '../namespaces/helper.js';
import type { OciRuntimeConfig } from '../oci/runtime-spec.js';
import type net from 'node:net';
import { attachSocketPath, connectAttach } from './attach.js';
import { parseSignal } from './signals.js';
import { setFrozen } from '../cgroups/container.js';
import { cgroupStart, liveCgroup } from './resources.js';
import { containerState, type ContainerState, type Status } from './state.js';
import { removeAnonymousVolumes, volumesOf } from './volume-users.js';
import { getVolume } from '../volumes/store.js';
import { containerEvent, lastDiedExitCode, monitorDiedEvent, monitorRemoveEvent, monitorRestartEvents, monitorStartedEvents } from './events.js';
import { unitStart } from './unit.js';
import { healthTimer, healthWord } from './health-state.js';
import { refuseOtherRuntime } from './oci-runtime.js';
import { leaveNetworks, networkStart } from './networks.js';
import {
  clearRunState,
  containerDir,
  containerLogFile,
  containerLogMax,
  markKillRequested,
  markStopRequested,
  monitorRemoval,
  readConfig,
  readPidFile,
  removeContainerFiles,
  stopRequestFile,
  type ContainerRecord,
} from './store.js';

const POLL_MS = 20;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Starts the container under its monitor. With attach, the monitor waits for
 * this process to connect before it starts the container, so no output is
 * lost; the connected socket is returned.
 */
export async function startContainer(record: ContainerRecord, opts: { attach?: boolean; preserveFds?: number; portsChecked?: boolean } = {}): Promise<net.Socket | undefined> {
  // Code a foreground run does not compile: V8's cache of run's bundle must hold it too (code-parts.ts).
  useCodePart('monitor');
  refuseOtherRuntime('a detached or started container (under skiff\'s monitor)');
  const state = containerState(record);
  if (state.Running) {
    if (opts.attach) return connectAttach(attachSocketPath(record.Id), 2000);
    return undefined;
  }
  const created = readConfig(record.Id);
  if (!created) throw new SkiffError(`container ${record.Id} has no config.json: remove it and create it again`);
  checkVolumesPresent(record);
  if (!opts.portsChecked) await checkPortsFree(record);
  const { config, network } = await networkStart(record, created);
  clearRunState(record.Id);
  const cgroup = cgroupStart(record, config);
  const unit = unitStart(record, config);
  const dir = containerDir(record.Id);
  const policy = record.HostConfig.RestartPolicy;
  const health = healthTimer(record);
  const started = startMonitored(config, {
    attachWait: opts.attach === true,
    ...(opts.preserveFds ? { preserveFds: opts.preserveFds } : {}),
    ...(containerLogFile(record) !== undefined ? { log: containerLogFile(record)! } : {}),
    ...(containerLogMax(record) !== undefined ? { logMax: containerLogMax(record)! } : {}),
    exitFile: path.join(dir, 'exit.json'),
    stopFile: stopRequestFile(record.Id),
    pidFile: path.join(dir, 'pid.json'),
    attachSocket: attachSocketPath(record.Id),
    restart: { name: (policy.Name || 'no') as 'no' | 'always' | 'on-failure', max: policy.MaximumRetryCount },
    // --rm: the monitor removes the container itself when it is gone for
    // good (autoRemove), or runs `skiff rm` when it cannot (or could not).
    onExit: record.HostConfig.AutoRemove ? [process.execPath, '--', path.join(installRoot(), 'bin/skiff'), 'rm', '--force', '--volumes', record.Id] : [],
    ...autoRemoveOf(record, config),
    ...(cgroup ? { cgroup } : {}),
    ...diedEvent(record),
    // init, start (attach): the monitor logs them, before it can log the container's end.
    ...startedEventsOf(record, opts.attach === true),
    // A restart by the policy: restart, then init and start, logged by the monitor too.
    ...restartEventsOf(record),
    ...(unit ? { unit } : {}),
    ...(network ? { network } : {}),
    // Its healthcheck's timer: the monitor forks `skiff healthcheck run` on it.
    ...(health ? { health } : {}),
  });
  if (!opts.attach) {
    await started;
    return undefined;
  }
  const [sock] = await Promise.all([connectAttach(attachSocketPath(record.Id)), started]);
  return sock;
}

/**
 * run -d --rm: what the monitor removes itself (monitorRemoval). Not on
 * user-defined networks (their members' hosts files are rewritten) or with
 * an anonymous volume (removed with the container): `skiff rm` does those.
 */
function autoRemoveOf(record: ContainerRecord, config: OciRuntimeConfig): { autoRemove?: MonitorFiles['autoRemove'] } {
  if (!record.HostConfig.AutoRemove || Object.keys(record.Networks ?? {}).length > 0) return {};
  if (volumesOf(record).some((name) => getVolume(name)?.Anonymous)) return {};
  const removal = monitorRemoval(record, config);
  if (!removal) return {};
  const event = monitorRemoveEvent(record);
  return { autoRemove: { ...removal, ...(event ? { event } : {}) } };
}

function startedEventsOf(record: ContainerRecord, attached: boolean): { startedEvents?: { head: string; tail: string }[] } {
  const lines = monitorStartedEvents(record, attached);
  return lines ? { startedEvents: lines } : {};
}

function restartEventsOf(record: ContainerRecord): { restartEvents?: NonNullable<ReturnType<typeof monitorRestartEvents>> } {
  if ((record.HostConfig.RestartPolicy.Name || 'no') === 'no') return {};
  const lines = monitorRestartEvents(record);
  return lines ? { restartEvents: lines } : {};
}

function diedEvent(record: ContainerRecord): { diedEvent?: NonNullable<ReturnType<typeof monitorDiedEvent>> } {
  const died = monitorDiedEvent(record);
  return died ? { diedEvent: died } : {};
}

/**
 * start and restart: a published port taken on the host since the
 * container was created (or last ran) is one line naming it, exit 125,
 * the container left as it was. Without this only skiff's forwarder would
 * say so; pasta binds what it can (a UDP port, or an address's, silently
 * missing) and slirp4netns's refusal names no cause. run has just checked
 * them (portsChecked).
 */
async function checkPortsFree(record: ContainerRecord): Promise<void> {
  const ports = record.Network?.Ports ?? [];
  if (ports.length === 0) return;
  useCodePart('publishedPorts');
  const { resolvePublishedPorts } = await import('../network/port-check.js');
  await resolvePublishedPorts(ports, (process.geteuid?.() ?? 0) !== 0);
}

/** A volume removed with `volume rm -f` under a stopped container: one clear line, not the helper's ENOENT. */
function checkVolumesPresent(record: ContainerRecord): void {
  for (const name of volumesOf(record)) {
    if (!getVolume(name)) throw new SkiffError(`cannot start ${record.Name}: its volume ${name} was removed; make it again with 'skiff volume create ${name}'`);
  }
}

/** Waits until the container is not running; false on timeout. */
export async function waitStopped(record: ContainerRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!containerState(record).Running) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/**
 * kill: the signal, after the word that keeps the restart policy from
 * starting the container again (as Podman does for every signal, and Docker
 * for every signal of a container without a StopSignal of its own): a
 * container that outlives the signal keeps running, and its next end is
 * final until the next start.
 */
export async function killContainer(record: ContainerRecord, signal: string | number): Promise<void> {
  const state = containerState(record);
  if (!state.Running) throw new SkiffError(`cannot kill container ${record.Id}: container ${record.Id} is not running`);
  const sig = typeof signal === 'number' ? signal : parseSignal(signal);
  markKillRequested(record.Id);
  await signalContainerProcess(state.Pid, sig);
  containerEvent(record, 'kill');
}

/**
 * Docker's stop: the stop signal, then SIGKILL after timeoutSec. A container
 * that is not running is left as it is (Docker: no error). The monitor is
 * told first (markStopRequested): it restarts nothing after this end, and a
 * unit whose main process it is sees a clean stop.
 */
export async function stopContainer(record: ContainerRecord, timeoutSec: number): Promise<void> {
  let state: ContainerState = containerState(record);
  if (!state.Running) return;
  markStopRequested(record.Id);
  if (timeoutSec > 0) {
    await signalContainerProcess(state.Pid, parseSignal(record.Config.StopSignal || 'SIGTERM'));
    // A frozen process cannot act on its signal: thaw it, as Podman does.
    const cg = state.Paused ? liveCgroup(record, readPidFile(record.Id)) : undefined;
    if (cg) await setFrozen(cg, false);
    if (await waitStopped(record, timeoutSec * 1000)) {
      containerEvent(record, 'stop');
      return;
    }
  }
  state = containerState(record);
  if (state.Running) await signalContainerProcess(state.Pid, parseSignal('SIGKILL'));
  const cg = state.Paused ? liveCgroup(record, readPidFile(record.Id)) : undefined;
  if (cg) await setFrozen(cg, false);
  if (!(await waitStopped(record, 10_000))) throw new SkiffError(`container ${record.Id} did not stop after SIGKILL`);
  containerEvent(record, 'stop');
}

/** restart: stop (when running), start, and Podman's "restart" event. */
export async function restartContainer(record: ContainerRecord, timeoutSec: number): Promise<void> {
  await stopContainer(record, timeoutSec);
  await startContainer(record);
  containerEvent(record, 'restart');
}

/** rm: the container's files; with `volumes` (rm -v), its anonymous volumes too. */
export async function removeContainer(record: ContainerRecord, force: boolean, volumes = false): Promise<void> {
  const state = containerState(record);
  if (state.Running) {
    if (!force) {
      throw new SkiffError(
        `cannot remove container ${record.Id}: container is running: stop the container before removing or force remove (-f)`,
        EXIT_SKIFF_FAILED,
        'conflict',
      );
    }
    await stopContainer(record, 0);
  }
  await removeContainerFiles(record);
  await leaveNetworks(record);
  if (volumes) await removeAnonymousVolumes(record);
}

/**
 * Blocks until the container exits; resolves to its exit code. `wait` itself
 * answers at once for a container never started (its ExitCode, 0), as Docker's
 * and Podman's do; start -a and attach, which started it, wait for its run.
 * `until` (wait --condition, Podman's): the states (or health) that end the
 * wait, any of them; one other than exited resolves to -1, as Podman prints it.
 */
export type WaitCondition = Status | 'healthy' | 'unhealthy';

export async function waitContainer(record: ContainerRecord, opts: { createdIsDone?: boolean; until?: WaitCondition[]; intervalMs?: number } = {}): Promise<number> {
  const until = new Set<WaitCondition>(opts.until ?? ['exited']);
  const health = until.has('healthy') || until.has('unhealthy');
  if (health && !record.Config.Healthcheck) throw new SkiffError(`container ${record.Name} has no healthcheck to wait for`);
  for (;;) {
    const state = containerState(record);
    // Looked at after the state, which a removed container's missing files would make "created".
    if (!existsSync(containerDir(record.Id))) {
      // --rm: the monitor removes it a millisecond after its end, likely between two looks; its "died" event tells the code.
      const code = record.HostConfig.AutoRemove && until.has('exited') ? lastDiedExitCode(record.Id) : undefined;
      if (code !== undefined) return code;
      throw new SkiffError(`container ${record.Id} was removed before its exit code was read`);
    }
    if (until.has(state.Status)) return state.Status === 'exited' ? state.ExitCode : -1;
    if (health) {
      const word = healthWord(record, state);
      if ((word === 'healthy' || word === 'unhealthy') && until.has(word)) return -1;
    }
    if (state.Status === 'created' && opts.createdIsDone && until.has('exited')) return state.ExitCode;
    await sleep(opts.intervalMs ?? (state.Status === 'created' ? 100 : POLL_MS));
  }
}

/** pause/unpause: the cgroup freezer (v2 cgroup.freeze or v1 freezer.state). */
export async function setPaused(record: ContainerRecord, paused: boolean): Promise<void> {
  const state = containerState(record);
  if (!state.Running) throw new SkiffError(`container ${record.Id} is not running`);
  if (state.Paused === paused) throw new SkiffError(`container ${record.Id} is ${paused ? 'already paused' : 'not paused'}`);
  const cg = liveCgroup(record, readPidFile(record.Id));
  if (!cg || cg.dir === '') {
    const { planContainerCgroup } = await import('../cgroups/container.js');
    const plan = record.HostConfig.Cgroups === 'disabled' ? { reason: 'it runs with --cgroups=disabled' } : planContainerCgroup(record.Id);
    throw new SkiffError(`cannot ${paused ? 'pause' : 'unpause'} ${record.Name}: it has no cgroup of its own, because ${plan.cgroup ? 'it was created before this host gave containers cgroups' : plan.reason}`);
  }
  await setFrozen(cg, paused);
  containerEvent(record, paused ? 'pause' : 'unpause');
}
