// The event log: what happened to containers, images, volumes and networks,
// one JSON object per line in a file under the runtime directory (Podman's
// "file" events backend). Every skiff process appends to it; `skiff events`
// reads it. No daemon, so no process owns it: each line is one write(2) on an
// O_APPEND descriptor, which the kernel places whole at the end of a regular
// file (the inode's lock is held for the whole write), so concurrent writers
// never interleave partial lines and never overwrite each other.
//
// Size: when the file passes half the limit, the writer that notices renames
// it to events.log.1 (replacing the older one) under a lock file made with
// O_EXCL. A writer that opened the old file just before keeps writing into
// events.log.1, which readers read too, so nothing is lost; the two files
// together hold between half the limit and the limit of the newest events.
// A container's monitor (and a foreground run's helper) appends and rotates
// the same way, in C (helpers-c/src/event.c, given the limit as the spec's
// event_log_max): the protocol both follow, step by step, is written down in
// docs/commands/events.md ("Rotation"); change both or neither.
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readlinkSync, readSync, renameSync, statSync, unlinkSync, writeSync, constants } from 'node:fs';
import path from 'node:path';
import { errnoCode, SkiffError } from '../errors.js';
import { currentStoreLocations } from '../locations.js';

export type EventType = 'container' | 'image' | 'volume' | 'network' | 'system';

/** One event as stored and as `events --format json` prints it (Podman's field names and order). */
export interface SkiffEvent {
  ContainerExitCode?: number;
  ID?: string;
  Image?: string;
  Name?: string;
  network?: string;
  Status: string;
  /** health_status: the container's health after the check (Podman's field). */
  HealthStatus?: string;
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds (more digits than a double holds exactly: the text in the line is exact). */
  timeNano: number;
  Type: EventType;
  Error?: string;
  Attributes?: Record<string, string>;
}

export type EventInput = Omit<SkiffEvent, 'time' | 'timeNano'>;

/** The default size of the two files together, as Podman's events_logfile_max_size (1 MB), doubled for one file's worth of slack. */
export const DEFAULT_MAX_BYTES = 2_000_000;
/** A line longer than this loses its attributes (a label's value has no bound): a whole line stays one small write. */
const MAX_LINE = 4000;

export type EventsBackend = 'file' | 'none';

/**
 * --events-backend (a global flag; it reaches every skiff process, the
 * monitor's `skiff rm` and the user-namespace re-execution included, as
 * SKIFF_EVENTS_BACKEND).
 */
export function eventsBackend(env: NodeJS.ProcessEnv = process.env): EventsBackend {
  const v = env['SKIFF_EVENTS_BACKEND'];
  return v === 'none' ? 'none' : 'file';
}

/** $SKIFF_EVENTS_LOGFILE_MAX_SIZE in bytes (K/M/G suffixes), else the default. */
export function maxLogBytes(env: NodeJS.ProcessEnv = process.env): number {
  const text = env['SKIFF_EVENTS_LOGFILE_MAX_SIZE'];
  if (!text) return DEFAULT_MAX_BYTES;
  const m = /^(\d+)([kmg]?)b?$/i.exec(text.trim());
  if (!m) return DEFAULT_MAX_BYTES;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.max(8192, Number(m[1]) * unit);
}

/** The event log of the running process's user: RUNROOT/events/events.log. */
export function eventLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(currentStoreLocations(env).runRoot, 'events', 'events.log');
}

/** The older half: events.log.1. */
export function rotatedLogPath(log: string): string {
  return `${log}.1`;
}

/**
 * The wall clock's lower bound, as Unix nanoseconds, minus the monotonic
 * clock: raised at every stamp to what Date.now() (whole milliseconds, never
 * ahead of the wall clock) says it is at least. Not `performance`: its first
 * use loads perf_hooks, ~1 ms of a CLI's start-up here, more than all of an
 * event's write.
 */
let wallMinusMonotonic = 0n;

/**
 * Now, as Unix nanoseconds in decimal: the wall clock in milliseconds, its
 * sub-millisecond digits from the monotonic clock. Strictly increasing within
 * a process and never ahead of the wall clock (unless the clock is set back
 * while the process runs: its stamps do not go back); behind it by less than
 * the millisecond of the first stamp a process takes (Podman's events, written
 * with Go's time.Now(), carry nanoseconds too; the reader keeps the file's
 * order, so the stamps only serve --since, --until and display).
 */
export function nowNanos(): string {
  const mono = process.hrtime.bigint();
  const floor = BigInt(Date.now()) * 1_000_000n - mono;
  if (floor > wallMinusMonotonic) wallMinusMonotonic = floor;
  return String(wallMinusMonotonic + mono);
}

/** The line for one event, fields in Podman's order; timeNano is written as exact digits. */
export function eventLine(e: EventInput, nanos: string): string {
  const head: Record<string, unknown> = {};
  if (e.ContainerExitCode !== undefined) head['ContainerExitCode'] = e.ContainerExitCode;
  if (e.ID) head['ID'] = e.ID;
  if (e.Image) head['Image'] = e.Image;
  if (e.Name) head['Name'] = e.Name;
  if (e.network) head['network'] = e.network;
  head['Status'] = e.Status;
  if (e.HealthStatus) head['HealthStatus'] = e.HealthStatus;
  const seconds = nanos.length > 9 ? nanos.slice(0, -9) : '0';
  const tail: Record<string, unknown> = { Type: e.Type };
  if (e.Error) tail['Error'] = e.Error;
  const attrs = e.Attributes && Object.keys(e.Attributes).length > 0 ? e.Attributes : undefined;
  const build = (withAttrs: boolean): string =>
    `${JSON.stringify(head).slice(0, -1)},"time":${seconds},"timeNano":${nanos},${JSON.stringify(withAttrs && attrs ? { ...tail, Attributes: attrs } : tail).slice(1)}\n`;
  const line = build(true);
  return Buffer.byteLength(line) <= MAX_LINE ? line : build(false);
}

let warned = false;

function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  process.stderr.write(`skiff: warning: ${message}\n`);
}

/**
 * The log and its limit, worked out again only when what they depend on
 * changes (a run writes six events; the path costs a homedir() and joins).
 */
let cachedLog: { key: string; log: string; maxBytes: number } | undefined;

function logOf(env: NodeJS.ProcessEnv): { log: string; maxBytes: number } {
  const key = `${env['SKIFF_RUNROOT']}\0${env['XDG_RUNTIME_DIR']}\0${env['HOME']}\0${env['SKIFF_IN_USERNS']}\0${env['SKIFF_EVENTS_LOGFILE_MAX_SIZE']}\0${process.getuid?.()}`;
  if (cachedLog?.key !== key) cachedLog = { key, log: eventLogPath(env), maxBytes: maxLogBytes(env) };
  return cachedLog;
}

/** The log and its limit, for a helper that appends to it (helpers-c/src/event.c). */
export function eventLogTarget(env: NodeJS.ProcessEnv = process.env): { log: string; maxBytes: number } {
  const { log, maxBytes } = logOf(env);
  return { log, maxBytes };
}

/**
 * Appends one event to the log. Never throws: an event that cannot be
 * written is one warning on stderr, and the command goes on (as Podman).
 */
export function emitEvent(e: EventInput, env: NodeJS.ProcessEnv = process.env): void {
  if (eventsBackend(env) === 'none') return;
  const { log, maxBytes } = logOf(env);
  try {
    appendLine(log, eventLine(e, nowNanos()), maxBytes);
  } catch (err) {
    warnOnce(`could not record the ${e.Type} ${e.Status} event in ${log}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// (libuv opens every file close-on-exec.)
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;

/** One write(2) of a whole line on an O_APPEND fd; then, past half the limit, a rotation. */
export function appendLine(log: string, line: string, maxBytes: number): void {
  let fd: number;
  try {
    fd = openSync(log, APPEND_FLAGS, 0o600);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    mkdirSync(path.dirname(log), { recursive: true, mode: 0o700 });
    fd = openSync(log, APPEND_FLAGS, 0o600);
  }
  try {
    const data = Buffer.from(line);
    const written = writeSync(fd, data);
    // A regular file takes a small write whole unless the disk is full.
    if (written !== data.length) throw new Error(`short write (${written} of ${data.length} bytes)`);
    const st = fstatSync(fd);
    if (st.size > maxBytes / 2) rotate(log, st.ino, maxBytes);
  } finally {
    closeSync(fd);
  }
}

/** A lock that names no writer this process can check is broken after this long (helpers-c/src/event.c: EVENT_STALE_LOCK_NS). */
const STALE_LOCK_MS = 10_000;

/** When process `pid` started (clock ticks after boot: /proc/PID/stat's 22nd field); undefined when there is no such process. */
function processStart(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** This process's PID namespace, by its inode. */
function pidNamespace(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  } catch {
    return '0';
  }
}

/** What a writer writes into the lock it made: "PID START PIDNS\n" (docs/commands/events.md, "Rotation"). */
function lockOwner(): string {
  return `${process.pid} ${processStart('self') ?? '0'} ${pidNamespace()}\n`;
}

/**
 * A lock another writer left is removed when its writer is gone: the
 * process it names (in this PID namespace) has ended, or is another one
 * since (its start differs), however old the lock; a lock that names none
 * this process can check (empty: made a moment ago, or by a writer killed
 * before it wrote it; another PID namespace's) past STALE_LOCK_MS. Only
 * that lock: one another writer made since, at the same path, stays (the
 * inode it read is the one it removes).
 */
function breakStaleLock(lock: string): void {
  let fd: number;
  try {
    fd = openSync(lock, constants.O_RDONLY);
  } catch {
    return; // gone meanwhile
  }
  try {
    const st = fstatSync(fd);
    const buf = Buffer.alloc(128);
    const text = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0));
    const owner = /^(\d+) (\d+) (\d+)\n$/.exec(text);
    const stale = owner && owner[3] === pidNamespace() && owner[2] !== '0' ? processStart(Number(owner[1])) !== owner[2] : Date.now() - st.mtimeMs > STALE_LOCK_MS;
    // While the descriptor holds the inode, no new lock can have its number.
    if (stale && statSync(lock).ino === st.ino) unlinkSync(lock);
  } finally {
    closeSync(fd);
  }
}

/** The rotation protocol of docs/commands/events.md ("Rotation"), which helpers-c/src/event.c follows too. */
function rotate(log: string, ino: number, maxBytes: number): void {
  const lock = `${log}.lock`;
  let lockFd: number;
  try {
    lockFd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    // Another writer rotates now (or is stopped while it does: it keeps its lock); one left behind by a gone one is removed for the next.
    try {
      breakStaleLock(lock);
    } catch {
      // gone meanwhile
    }
    return;
  }
  try {
    // Whose lock it is, for the others to tell a writer stopped mid-rotation from one gone (unwritten: the age rule).
    try {
      writeSync(lockFd, lockOwner());
    } catch {
      // An empty lock.
    }
    // Still the file this writer saw, and still big: another writer may have rotated before the lock.
    let st;
    try {
      st = statSync(log);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return; // rotated, and no event since
      throw err;
    }
    if (st.ino === ino && st.size > maxBytes / 2) renameSync(log, rotatedLogPath(log));
  } finally {
    closeSync(lockFd);
    unlinkSync(lock);
  }
}

/** The lines of the rotated half of the log (events.log.1), oldest first. */
export function readRotatedLines(log: string = eventLogPath()): string[] {
  const lines: string[] = [];
  for (const file of [rotatedLogPath(log)]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw new SkiffError(`cannot read the event log ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const line of text.split('\n')) if (line !== '') lines.push(line);
  }
  return lines;
}

/** The exact nanoseconds of a stored line (JSON.parse rounds them). */
export function lineNanos(line: string): bigint {
  const m = /"timeNano":(\d+)/.exec(line);
  return m ? BigInt(m[1]!) : 0n;
}

/** An image's event: pull, push, tag, untag, remove (its id, and the name it concerned). */
export function imageEvent(status: 'pull' | 'push' | 'tag' | 'untag' | 'remove' | 'save' | 'loadFromArchive' | 'import', id: string, name?: string): void {
  emitEvent({ ID: id.replace(/^sha256:/, ''), ...(name ? { Name: name } : {}), Status: status, Type: 'image' });
}

/** A volume's event: create, remove, prune. */
export function volumeEvent(status: 'create' | 'remove' | 'prune', name: string): void {
  emitEvent({ Name: name, Status: status, Type: 'volume' });
}

/**
 * A network's event, as Podman records them (the network's name in
 * "network"): create and remove of a network (its id, its driver as an
 * attribute), connect and disconnect of a container (the container's id and
 * name).
 */
export function networkEvent(
  status: 'create' | 'remove' | 'connect' | 'disconnect',
  network: { name: string; id: string; driver: string },
  container?: { id: string; name: string },
): void {
  const subject = container ? { ID: container.id, Name: container.name } : { ID: network.id, Attributes: { driver: network.driver } };
  emitEvent({ ...subject, network: network.name, Status: status, Type: 'network' });
}
