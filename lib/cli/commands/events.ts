// `skiff events` (`system events`): the event log (lib/events), filtered and
// printed as Podman prints it; by default it goes on printing new events as
// other skiff processes append them, until interrupted or --until passes.
import { closeSync, fstatSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagList, flagString } from '../args.js';
import { SkiffError, errnoCode } from '../../errors.js';
import { parseSince } from '../../humanize.js';
import { eventLogPath, eventsBackend, lineNanos, readRotatedLines, type SkiffEvent } from '../../events/log.js';
import { eventMatches, parseEventFilters, type EventFilter } from '../../events/filter.js';
import type { ParsedFormat } from '../format.js';
import { printErrorLine } from '../error-line.js';

export const spec: CommandSpec = {
  name: 'events',
  aliases: ['system events'],
  summary: 'Show skiff events',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    { name: 'filter', short: 'f', type: 'array', placeholder: 'FILTER', describe: 'Only events with container=, event=, image=, label=KEY[=VALUE], type=, volume=, network=, since=, until=' },
    { name: 'format', type: 'string', placeholder: 'FORMAT', describe: "Output format: 'json' (one object per line), or a Go template such as '{{.Time}} {{.Status}} {{.Name}}'" },
    { name: 'since', type: 'string', placeholder: 'TIME', describe: 'Only events since TIME (RFC 3339, a Unix time, or a duration like 10m)' },
    { name: 'until', type: 'string', placeholder: 'TIME', describe: 'Only events until TIME; streaming stops then' },
    { name: 'stream', type: 'boolean', default: true, describe: 'Go on printing new events (--stream=false: print what is logged and exit)' },
    { name: 'no-trunc', type: 'boolean', default: true, describe: 'Do not truncate the output (accepted: skiff never truncates events)' },
  ],
};

/** Go's time.Time String(): "2006-01-02 15:04:05.999999999 -0700 MST" with the fraction's trailing zeros cut. */
export function goTime(nanos: bigint): string {
  const ms = Number(nanos / 1_000_000n);
  const d = new Date(ms);
  const offsetMin = -d.getTimezoneOffset();
  const local = new Date(ms + offsetMin * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const frac = p(Number(nanos % 1_000_000_000n), 9).replace(/0+$/, '');
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const zone = offsetMin === 0 ? 'UTC' : (new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '');
  return (
    `${local.getUTCFullYear()}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())} ${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}` +
    `${frac ? `.${frac}` : ''} ${sign}${p(Math.floor(abs / 60))}${p(abs % 60)} ${zone}`
  );
}

/** Podman's line for an event (libpod/events ToHumanReadable). */
export function humanLine(e: SkiffEvent, nanos: bigint): string {
  const time = goTime(nanos);
  switch (e.Type) {
    case 'container': {
      let extra = `image=${e.Image ?? ''}, name=${e.Name ?? ''}`;
      if (e.HealthStatus) extra += `, health_status=${e.HealthStatus}`;
      if (e.ContainerExitCode !== undefined) extra += `, containerExitCode=${e.ContainerExitCode}`;
      for (const [k, v] of Object.entries(e.Attributes ?? {})) extra += `, ${k}=${v}`;
      return `${time} container ${e.Status} ${e.ID ?? ''} (${extra})`;
    }
    case 'network':
      return `${time} network ${e.Status} ${e.ID ?? ''} (container=${e.ID ?? ''}, name=${e.network ?? ''})`;
    case 'image':
      return `${time} image ${e.Status} ${e.ID ?? ''} ${e.Name ?? ''}${e.Error ? ` ${e.Error}` : ''}`.trimEnd();
    default:
      return `${time} ${e.Type} ${e.Status} ${e.Name ?? ''}`.trimEnd();
  }
}

/** The object a --format template sees: Podman's fields, and Docker's names for them (Action, Actor, From, Scope). */
function templateData(e: SkiffEvent, nanos: bigint): Record<string, unknown> {
  return {
    ...(e.ContainerExitCode !== undefined ? { ContainerExitCode: e.ContainerExitCode } : {}),
    ID: e.ID ?? '',
    Image: e.Image ?? '',
    Name: e.Name ?? '',
    Network: e.network ?? '',
    Status: e.Status,
    HealthStatus: e.HealthStatus ?? '',
    Time: goTime(nanos),
    TimeNano: Number(nanos),
    Type: e.Type,
    Error: e.Error ?? '',
    Attributes: e.Attributes ?? {},
    Action: e.Status,
    Actor: { ID: e.ID ?? e.Name ?? '', Attributes: { ...(e.Image ? { image: e.Image } : {}), ...(e.Name ? { name: e.Name } : {}), ...e.Attributes } },
    From: e.Image ?? '',
    Scope: 'local',
  };
}

interface Printer {
  (line: string): void;
  /** Writes what was printed since the last flush, in one write. */
  flush(): void;
}

function makePrinter(format: string | undefined, filter: EventFilter, parsed: ParsedFormat | undefined, exec: ((p: ParsedFormat, d: unknown) => string) | undefined): Printer {
  let pending: string[] = [];
  const print = (line: string) => {
    let e: SkiffEvent;
    try {
      e = JSON.parse(line) as SkiffEvent;
    } catch {
      return; // a line cut by a crash mid-rotation: skipped, never fatal
    }
    if (!eventMatches(filter, e)) return;
    const nanos = lineNanos(line);
    let out: string;
    if (format === 'json') out = line;
    else if (parsed && exec) out = exec(parsed, templateData(e, nanos));
    else out = humanLine(e, nanos);
    pending.push(`${out}\n`);
  };
  return Object.assign(print, {
    flush: () => {
      if (pending.length === 0) return;
      process.stdout.write(pending.join(''));
      pending = [];
    },
  });
}

/** Reads what other processes append, across rotations, until stopped. */
class Follower {
  private fd = -1;
  private ino = -1;
  private offset = 0;
  private rest = '';
  private decoder = new StringDecoder('utf8');
  constructor(
    private readonly log: string,
    private readonly emit: Printer,
  ) {}

  private drain(): void {
    if (this.fd < 0) return;
    const buf = Buffer.alloc(65536);
    for (;;) {
      const n = readSync(this.fd, buf, 0, buf.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      const text = this.rest + this.decoder.write(buf.subarray(0, n));
      const lines = text.split('\n');
      this.rest = lines.pop() ?? '';
      for (const l of lines) if (l !== '') this.emit(l);
    }
    this.emit.flush();
  }

  poll(): void {
    this.drain();
    let st;
    try {
      st = statSync(this.log);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    if (st.ino === this.ino) return;
    // Rotated, or made since the last look: finish the old file, then read the new one from its start.
    if (this.fd >= 0) closeSync(this.fd);
    this.rest = '';
    this.decoder = new StringDecoder('utf8');
    this.fd = openSync(this.log, 'r');
    this.ino = fstatSync(this.fd).ino;
    this.offset = 0;
    this.drain();
  }
}

export async function run(args: ParsedArgs): Promise<number> {
  const now = Date.now();
  const filter = parseEventFilters(flagList(args, 'filter'), now);
  const since = flagString(args, 'since');
  const until = flagString(args, 'until');
  if (since !== undefined) filter.sinceMs = parseSince(since, now, '--since');
  if (until !== undefined) filter.untilMs = parseSince(until, now, '--until');
  const format = flagString(args, 'format');
  let parsed: ParsedFormat | undefined;
  let exec: ((p: ParsedFormat, d: unknown) => string) | undefined;
  if (format !== undefined && format !== 'json') {
    const f = await import('../format.js');
    parsed = f.parseFormat(format);
    exec = f.executeFormat;
  }
  if (eventsBackend() === 'none') {
    throw new SkiffError('events are not logged with --events-backend none: nothing to show; use --events-backend file (the default)');
  }
  // A table's header comes first; rows are not aligned, as they stream.
  if (parsed?.table) {
    const { formatHeader } = await import('../format.js');
    process.stdout.write(`${formatHeader(parsed)}\n`);
  }
  const log = eventLogPath();
  const print = makePrinter(format, filter, parsed, exec);
  // What is logged: the rotated half, then the current file through the
  // follower's descriptor, which goes on from where that read ended.
  for (const line of readRotatedLines(log)) print(line);
  print.flush();
  const follower = new Follower(log, print);
  follower.poll();
  const stream = args.flags['stream'] !== false;
  if (!stream || (filter.untilMs !== undefined && filter.untilMs <= Date.now())) return 0;

  let watcher: FSWatcher | undefined;
  return new Promise<number>((resolve) => {
    const stop = () => {
      clearInterval(timer);
      watcher?.close();
      resolve(0);
    };
    const tick = () => {
      try {
        follower.poll();
      } catch (err) {
        printErrorLine(`cannot read the event log ${log}: ${err instanceof Error ? err.message : String(err)}`);
        stop();
        return;
      }
      if (filter.untilMs !== undefined && Date.now() > filter.untilMs) stop();
    };
    const timer = setInterval(tick, 200);
    try {
      watcher = watch(path.dirname(log), () => tick());
    } catch {
      // no directory yet: the timer finds the log once it exists
    }
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
