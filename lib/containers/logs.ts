// Reading a container's k8s-file log (written by the helper's monitor).
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { errnoCode } from '../errors.js';
import { containerState } from './state.js';
import { containerLogFile, type ContainerRecord } from './store.js';
import { SkiffError } from '../errors.js';

export interface LogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  /** Text including its newline when the record was a full line. */
  text: string;
}

/**
 * Parses k8s-file records; a partial (P) record joins the next record of its
 * own stream (stdout and stderr interleave in the file, not within a line).
 * A line still partial at the end is returned last, without its newline.
 */
export function parseLogRecords(text: string): LogLine[] {
  const out: LogLine[] = [];
  const partial: Partial<Record<LogLine['stream'], LogLine>> = {};
  for (const record of text.split('\n')) {
    if (record === '') continue;
    const a = record.indexOf(' ');
    const b = record.indexOf(' ', a + 1);
    const c = record.indexOf(' ', b + 1);
    if (a < 0 || b < 0 || c < 0) continue;
    const stream = record.slice(a + 1, b) === 'stderr' ? 'stderr' : 'stdout';
    const kind = record.slice(b + 1, c);
    const line = partial[stream] ?? { time: record.slice(0, a), stream, text: '' };
    line.text += record.slice(c + 1);
    if (kind === 'P') {
      partial[stream] = line;
    } else {
      line.text += '\n';
      out.push(line);
      delete partial[stream];
    }
  }
  for (const line of [partial.stdout, partial.stderr]) if (line) out.push(line);
  return out;
}

export interface LogOptions {
  follow: boolean;
  tail?: number;
  timestamps: boolean;
  since?: number; // ms since the epoch
  /** Only records before this (ms since the epoch); -f stops there, as Docker's does. */
  until?: number;
  /** Before each line (Podman's logs of several containers: the short id, or the name with --names). */
  prefix?: string;
}

function write(line: LogLine, opts: LogOptions): void {
  const text = `${opts.prefix === undefined ? '' : `${opts.prefix} `}${opts.timestamps ? `${line.time} ` : ''}${line.text}`;
  (line.stream === 'stderr' ? process.stderr : process.stdout).write(text);
}

function readFrom(file: string, offset: number): { text: string; size: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { text: '', size: offset };
    throw err;
  }
  try {
    const size = statSync(file).size;
    if (size < offset) offset = 0; // rotated
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return { text: buf.toString('utf8'), size };
  } finally {
    closeSync(fd);
  }
}

export async function showLogs(record: ContainerRecord, opts: LogOptions): Promise<void> {
  const file = containerLogFile(record);
  if (file === undefined) {
    const driver = record.HostConfig.LogConfig?.Type ?? 'none';
    throw new SkiffError(`${record.Name} uses the ${driver} log driver: ${driver === 'none' ? 'nothing was kept' : "its output went straight to the caller's stdio"}, so there is no log to read`);
  }
  let rotated = '';
  try {
    rotated = readFileSync(`${file}.1`, 'utf8');
  } catch {
    // no rotation yet
  }
  const first = readFrom(file, 0);
  // Only whole records: a record still being written is read on the next pass.
  const complete = (t: string) => t.slice(0, t.lastIndexOf('\n') + 1);
  const firstText = complete(first.text);
  let offset = Buffer.byteLength(firstText);
  let lines = parseLogRecords(rotated + firstText);
  const inWindow = (l: LogLine) => {
    const t = Date.parse(l.time);
    return (opts.since === undefined || t >= opts.since) && (opts.until === undefined || t < opts.until);
  };
  lines = lines.filter(inWindow);
  if (opts.tail !== undefined) lines = opts.tail === 0 ? [] : lines.slice(-opts.tail);
  for (const line of lines) write(line, opts);
  if (!opts.follow) return;
  for (;;) {
    const running = containerState(record).Running;
    const next = readFrom(file, offset);
    if (next.size < offset) offset = 0;
    const text = complete(next.text);
    offset += Buffer.byteLength(text);
    for (const line of parseLogRecords(text)) if (inWindow(line)) write(line, opts);
    if (!running || (opts.until !== undefined && Date.now() >= opts.until)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
