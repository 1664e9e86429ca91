// What a systemd unit asks of a container (docs/systemd.md): --sdnotify,
// --cidfile, --replace, --pidfile and --conmon-pidfile, as Podman's.
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import type { UnitStart } from '../namespaces/helper.js';
import type { OciRuntimeConfig } from '../oci/runtime-spec.js';
import { nameOwnerRecord, runDir, type ContainerRecord } from './store.js';

export interface UnitFlags {
  /** --sdnotify: container (Podman's default), conmon or ignore. */
  sdNotify: string;
  cidFile?: string;
  replace: boolean;
  pidFile?: string;
  conmonPidFile?: string;
}

export type SdNotifyMode = 'container' | 'conmon' | 'ignore';

/** Where a container sends its sd_notify messages (crun's and Podman's path). */
const NOTIFY_DIR_INSIDE = '/run/notify';
const NOTIFY_SOCKET_INSIDE = `${NOTIFY_DIR_INSIDE}/notify.sock`;

export function parseSdNotify(text: string): SdNotifyMode {
  if (text === 'container' || text === 'conmon' || text === 'ignore') return text;
  if (text === 'healthy') throw new SkiffError('--sdnotify=healthy is not supported: skiff sends no READY=1 at the first healthy check; use container or conmon');
  throw new SkiffError(`invalid --sdnotify "${text}": use container, conmon or ignore`);
}

/** The unit's socket, from skiff's environment (systemd sets it for Type=notify). */
function unitNotifySocket(): string | undefined {
  const socket = process.env['NOTIFY_SOCKET'];
  return socket !== undefined && socket !== '' ? socket : undefined;
}

function notifyDir(id: string): string {
  return path.join(runDir(id), 'notify');
}

/**
 * The checks a unit's flags need before anything is made: the cid file must
 * not exist (Docker and Podman: another container may own it), --replace
 * needs --name. Paths come back absolute.
 */
export function checkUnitFlags(flags: UnitFlags | undefined, name: string | undefined): UnitFlags & { mode: SdNotifyMode } {
  const given = flags ?? { sdNotify: 'container', replace: false };
  const mode = parseSdNotify(given.sdNotify);
  if (given.replace && name === undefined) throw new SkiffError('--replace needs --name: it replaces the container of that name');
  const absolute = (file: string | undefined, flag: string) => {
    if (file === undefined) return undefined;
    if (file === '') throw new SkiffError(`${flag} needs a file name`);
    return path.resolve(file);
  };
  const cidFile = absolute(given.cidFile, '--cidfile');
  if (cidFile !== undefined && existsSync(cidFile)) {
    throw new SkiffError(`the container id file ${given.cidFile} exists: another container may be using it; remove it, or let 'skiff rm --cidfile ${given.cidFile}' do it`);
  }
  return {
    ...given,
    mode,
    ...(cidFile !== undefined ? { cidFile } : {}),
    ...(given.pidFile !== undefined ? { pidFile: absolute(given.pidFile, '--pidfile')! } : {}),
    ...(given.conmonPidFile !== undefined ? { conmonPidFile: absolute(given.conmonPidFile, '--conmon-pidfile')! } : {}),
  };
}

/** --replace: the container of that name goes first, as `rm --force --volumes` takes it. */
export async function replaceNamed(name: string): Promise<void> {
  const old = nameOwnerRecord(name);
  if (!old) return;
  const { removeContainer } = await import('./lifecycle.js');
  await removeContainer(old, true, true);
}

/**
 * --sdnotify=container under a unit: the container sees the helper's proxy
 * socket at /run/notify/notify.sock and NOTIFY_SOCKET names it. Without a
 * NOTIFY_SOCKET there is nothing to pass on, and the container gets neither.
 */
export function withNotifySocket(config: OciRuntimeConfig, id: string, mode: SdNotifyMode): void {
  if (mode !== 'container' || unitNotifySocket() === undefined) return;
  config.mounts.push({ destination: NOTIFY_DIR_INSIDE, type: 'bind', source: notifyDir(id), options: ['bind', 'rw', 'nosuid', 'nodev', 'noexec', 'rprivate'] });
  config.process.env = [...config.process.env.filter((e) => !e.startsWith('NOTIFY_SOCKET=')), `NOTIFY_SOCKET=${NOTIFY_SOCKET_INSIDE}`];
}

/** What the helper does for a unit at this start; the proxy's directory is made here. */
export function unitStart(record: ContainerRecord, config: OciRuntimeConfig): UnitStart | undefined {
  const unit: UnitStart = {
    ...(record.PidFile ? { containerPidFile: record.PidFile } : {}),
    ...(record.ConmonPidFile ? { monitorPidFile: record.ConmonPidFile } : {}),
  };
  const mode = record.Config.SdNotifyMode;
  const socket = unitNotifySocket();
  const proxied = config.mounts.some((m) => m.destination === NOTIFY_DIR_INSIDE && m.source === notifyDir(record.Id));
  if (mode === 'container' && proxied) {
    mkdirSync(notifyDir(record.Id), { recursive: true, mode: 0o755 });
    Object.assign(unit, { notifyMode: 'container', notifyProxy: path.join(notifyDir(record.Id), 'notify.sock') }, socket !== undefined ? { notifySocket: socket } : {});
  } else if (mode === 'conmon' && socket !== undefined) {
    Object.assign(unit, { notifyMode: 'conmon', notifySocket: socket });
  }
  return Object.keys(unit).length > 0 ? unit : undefined;
}

/** --cidfile: the id, in a file made here and nowhere else (O_EXCL). */
export function writeCidFile(file: string, id: string): void {
  let fd;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') throw new SkiffError(`the container id file ${file} exists: another container may be using it; remove it`);
    throw new SkiffError(`cannot write the container id file ${file}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, id);
  } finally {
    closeSync(fd);
  }
}
