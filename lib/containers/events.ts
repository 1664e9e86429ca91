// A container's events (lib/events): its id, name and image, and its labels
// as the attributes, as Podman records them.
import { readFileSync } from 'node:fs';
import { emitEvent, eventLine, eventsBackend, eventLogPath, eventLogTarget, rotatedLogPath } from '../events/log.js';
import type { ContainerRecord } from './store.js';

export type ContainerEventStatus =
  | 'create'
  | 'init'
  | 'start'
  | 'attach'
  | 'exec'
  | 'exec_died'
  | 'died'
  | 'stop'
  | 'kill'
  | 'pause'
  | 'unpause'
  | 'remove'
  | 'rename'
  | 'restart'
  | 'cleanup'
  | 'health_status';

type Identity = Pick<ContainerRecord, 'Id' | 'Name' | 'Image'> & { Config: Pick<ContainerRecord['Config'], 'Labels'> };

export function containerEvent(record: Identity, status: ContainerEventStatus, exitCode?: number, healthStatus?: string): void {
  emitEvent({
    ...(exitCode !== undefined ? { ContainerExitCode: exitCode } : {}),
    ID: record.Id,
    ...(record.Image ? { Image: record.Image } : {}),
    Name: record.Name,
    Status: status,
    ...(healthStatus !== undefined ? { HealthStatus: healthStatus } : {}),
    Type: 'container',
    Attributes: record.Config.Labels,
  });
}

/**
 * What a detached container's monitor needs to log its "died" events itself
 * (it outlives skiff): the log's path and limit (it rotates the log as skiff
 * does) and the line around the exit code and the time, which the monitor
 * fills in. Undefined with --events-backend none.
 */
export function monitorDiedEvent(record: Identity): { log: string; maxBytes: number; head: string; tail: string } | undefined {
  if (eventsBackend() === 'none') return undefined;
  const line = eventLine(
    { ContainerExitCode: 0, ID: record.Id, ...(record.Image ? { Image: record.Image } : {}), Name: record.Name, Status: 'died', Type: 'container', Attributes: record.Config.Labels },
    '0',
  );
  // {"ContainerExitCode":0,<head>,"time":0,"timeNano":0,<tail>}
  const head = line.slice('{"ContainerExitCode":0'.length, line.indexOf(',"time":0,"timeNano":0,'));
  const tail = line.slice(line.indexOf(',"time":0,"timeNano":0,') + ',"time":0,"timeNano":0'.length).replace(/\n$/, '');
  return { ...eventLogTarget(), head, tail };
}

/** A line the monitor writes itself: its text before and after the time (helpers-c/src/event.h). */
function monitorLine(record: Identity, status: ContainerEventStatus): { head: string; tail: string } {
  const line = eventLine({ ID: record.Id, ...(record.Image ? { Image: record.Image } : {}), Name: record.Name, Status: status, Type: 'container', Attributes: record.Config.Labels }, '0');
  const at = line.indexOf(',"time":0,"timeNano":0,');
  return { head: line.slice(0, at), tail: line.slice(at + ',"time":0,"timeNano":0'.length).replace(/\n$/, '') };
}

/**
 * run -d --rm: the "remove" line the monitor logs when it removes the
 * container itself (helpers-c/src/autoremove.h): its text before and after
 * the time. Undefined with --events-backend none.
 */
export function monitorRemoveEvent(record: Identity): { head: string; tail: string } | undefined {
  if (eventsBackend() === 'none') return undefined;
  return monitorLine(record, 'remove');
}

/**
 * A start's init, start (and attach, when a client is on it: Podman's
 * order), which the monitor (or a foreground run's helper) logs itself once
 * the container has exec'd: skiff, which learns of the start only when the
 * helper has returned, would log them after the "died" (and "remove") of a
 * container that exits at once. Undefined with --events-backend none.
 */
export function monitorStartedEvents(record: Identity, attached: boolean): { head: string; tail: string }[] | undefined {
  if (eventsBackend() === 'none') return undefined;
  const statuses: ContainerEventStatus[] = attached ? ['init', 'start', 'attach'] : ['init', 'start'];
  return statuses.map((status) => monitorLine(record, status));
}

/**
 * A foreground run's init, start and attach, which its helper logs once the
 * command has exec'd: a command that cannot run logs none (as a monitored
 * start, and as Podman, whose runtime fails at create then). Undefined with
 * --events-backend none.
 */
export function foregroundStartedEvents(record: Identity): { log: string; maxBytes: number; lines: { head: string; tail: string }[] } | undefined {
  const lines = monitorStartedEvents(record, true);
  return lines ? { ...eventLogTarget(), lines } : undefined;
}

/**
 * A restart by the container's restart policy, which only its monitor sees:
 * Podman's "restart" line, logged before the new start, and the "init" and
 * "start" lines, logged once the new start's command has exec'd (after the
 * "died" of the run before). Undefined with --events-backend none.
 */
export function monitorRestartEvents(record: Identity): { restart: { head: string; tail: string }; started: { head: string; tail: string }[] } | undefined {
  if (eventsBackend() === 'none') return undefined;
  return { restart: monitorLine(record, 'restart'), started: [monitorLine(record, 'init'), monitorLine(record, 'start')] };
}

/**
 * The exit code of the container's last "died" event (the log, then its
 * rotated half), or undefined: what `wait` answers for a --rm container that
 * its monitor removed between two looks, having logged its end first.
 */
export function lastDiedExitCode(id: string): number | undefined {
  if (eventsBackend() === 'none') return undefined;
  const log = eventLogPath();
  for (const file of [log, rotatedLogPath(log)]) {
    let lines: string[];
    try {
      lines = readFileSync(file, 'utf8').split('\n');
    } catch {
      continue;
    }
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!;
      if (!line.includes(`"ID":"${id}"`) || !line.includes('"Status":"died"')) continue;
      const m = /^\{"ContainerExitCode":(-?\d+),/.exec(line);
      if (m) return Number(m[1]);
    }
  }
  return undefined;
}
