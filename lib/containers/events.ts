// A container's events (lib/events): its id, name and image, and its labels
// as the attributes, as Podman records them.
import { emitEvent, eventLine, eventsBackend, eventLogPath } from '../events/log.js';
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
  | 'cleanup';

type Identity = Pick<ContainerRecord, 'Id' | 'Name' | 'Image'> & { Config: Pick<ContainerRecord['Config'], 'Labels'> };

export function containerEvent(record: Identity, status: ContainerEventStatus, exitCode?: number): void {
  emitEvent({
    ...(exitCode !== undefined ? { ContainerExitCode: exitCode } : {}),
    ID: record.Id,
    ...(record.Image ? { Image: record.Image } : {}),
    Name: record.Name,
    Status: status,
    Type: 'container',
    Attributes: record.Config.Labels,
  });
}

/** Podman's order: init (the runtime made it), start, then attach when a client is on it. */
export function startedEvents(record: Identity, attached: boolean): void {
  containerEvent(record, 'init');
  containerEvent(record, 'start');
  if (attached) containerEvent(record, 'attach');
}

/**
 * What a detached container's monitor needs to log its "died" events itself
 * (it outlives skiff): the log's path and the line around the exit code and
 * the time, which the monitor fills in. Undefined with --events-backend none.
 */
export function monitorDiedEvent(record: Identity): { log: string; head: string; tail: string } | undefined {
  if (eventsBackend() === 'none') return undefined;
  const line = eventLine(
    { ContainerExitCode: 0, ID: record.Id, ...(record.Image ? { Image: record.Image } : {}), Name: record.Name, Status: 'died', Type: 'container', Attributes: record.Config.Labels },
    '0',
  );
  // {"ContainerExitCode":0,<head>,"time":0,"timeNano":0,<tail>}
  const head = line.slice('{"ContainerExitCode":0'.length, line.indexOf(',"time":0,"timeNano":0,'));
  const tail = line.slice(line.indexOf(',"time":0,"timeNano":0,') + ',"time":0,"timeNano":0'.length).replace(/\n$/, '');
  return { log: eventLogPath(), head, tail };
}
