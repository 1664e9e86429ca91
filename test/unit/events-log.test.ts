// The event log (lib/events): the line format, the filters, and 16 processes
// appending at once, with and without rotations.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { appendLine, eventLine, readRotatedLines } from '../../lib/events/log.js';
import { eventMatches, parseEventFilters } from '../../lib/events/filter.js';
import { goTime, humanLine } from '../../lib/cli/commands/events.js';
import type { SkiffEvent } from '../../lib/events/log.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;
let worker: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(tmpdir(), 'skiff-events-'));
  worker = path.join(dir, 'events-worker.cjs');
  await build({ entryPoints: [path.join(here, 'helpers/events-worker.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: worker, logLevel: 'error' });
}, 60_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function runWriters(log: string, writers: number, count: number, max: number): Promise<void[]> {
  return Promise.all(
    Array.from({ length: writers }, (_, w) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [worker, log, String(w), String(count), String(max)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${w}: ${code} ${err}`))));
      }),
    ),
  );
}

function allLines(log: string): string[] {
  const current = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : [];
  return [...readRotatedLines(log), ...current];
}

describe('event log', () => {
  test("a line has Podman's fields in order and exact nanoseconds; a huge label drops the attributes, not the event", () => {
    const line = eventLine({ ContainerExitCode: 3, ID: 'abc', Image: 'busybox', Name: 'n', Status: 'died', Type: 'container', Attributes: { a: 'b' } }, '1796585205036676804');
    expect(line).toBe('{"ContainerExitCode":3,"ID":"abc","Image":"busybox","Name":"n","Status":"died","time":1796585205,"timeNano":1796585205036676804,"Type":"container","Attributes":{"a":"b"}}\n');
    const big = eventLine({ Name: 'n', Status: 'create', Type: 'container', Attributes: { a: 'x'.repeat(10_000) } }, '1000000000');
    expect(big).toBe('{"Name":"n","Status":"create","time":1,"timeNano":1000000000,"Type":"container"}\n');
  });

  test('the stamps are Unix nanoseconds, strictly increasing, never past what the wall clock has shown', async () => {
    // A fresh copy of the module: its clock state then comes only from the calls below.
    vi.resetModules();
    const fresh = (await import('../../lib/events/log.js')).nowNanos;
    let last = 0n;
    // The latest the wall clock can be, as read so far: Date.now()'s millisecond ends
    // before the next one, minus the monotonic clock, at its highest. The module reads
    // the clocks between this test's reads, so no stamp may pass it plus the monotonic
    // clock now, even if the host's clock is set back meanwhile (it was, once, here).
    let latestWall = -(1n << 80n);
    for (let i = 0; i < 2000; i++) {
      const before = BigInt(Date.now()) * 1_000_000n;
      const sinceBefore = before + 1_000_000n - process.hrtime.bigint();
      if (sinceBefore > latestWall) latestWall = sinceBefore;
      const text = fresh();
      const now = process.hrtime.bigint();
      expect(text).toMatch(/^[1-9]\d{18}$/);
      const stamp = BigInt(text);
      expect(stamp >= before, `${before} <= ${stamp}`).toBe(true);
      expect(stamp < latestWall + now, `${stamp} < ${latestWall + now}`).toBe(true);
      expect(stamp > last).toBe(true);
      last = stamp;
    }
  });

  test('filters: one key\'s values are alternatives, different keys all apply', () => {
    const e = (over: Partial<SkiffEvent>): SkiffEvent => ({ Status: 'start', Type: 'container', time: 1, timeNano: 1e9, ...over });
    const f = parseEventFilters(['event=start', 'event=stop', 'container=web', 'label=team=a']);
    expect(eventMatches(f, e({ Name: 'web', Attributes: { team: 'a' } }))).toBe(true);
    expect(eventMatches(f, e({ Name: 'web', Status: 'stop', Attributes: { team: 'a' } }))).toBe(true);
    expect(eventMatches(f, e({ Name: 'web', Status: 'kill', Attributes: { team: 'a' } }))).toBe(false);
    expect(eventMatches(f, e({ Name: 'db', Attributes: { team: 'a' } }))).toBe(false);
    expect(eventMatches(f, e({ Name: 'web', Attributes: { team: 'b' } }))).toBe(false);
    expect(eventMatches(parseEventFilters(['container=0123abc']), e({ ID: '0123abcdef' }))).toBe(true);
    expect(eventMatches(parseEventFilters(['image=busybox']), e({ Image: 'registry.example/library/busybox:latest' }))).toBe(true);
    expect(() => parseEventFilters(['type=pods'])).toThrow(/the type is one of/);
    expect(() => parseEventFilters(['nope=1'])).toThrow(/invalid filter "nope=1"/);
  });

  test("Go's time format and Podman's human line", () => {
    process.env['TZ'] = 'UTC';
    expect(goTime(1796585205036676804n)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.036676804 [+-]\d{4} /);
    expect(goTime(1796585205000000000n)).toMatch(/:\d\d [+-]\d{4} /);
    const line = humanLine({ ID: 'abc', Image: 'busybox', Name: 'n', Status: 'died', Type: 'container', ContainerExitCode: 3, time: 1, timeNano: 1 }, 1000000000n);
    expect(line).toMatch(/ container died abc \(image=busybox, name=n, containerExitCode=3\)$/);
  });

  test('16 processes appending at once lose nothing and interleave no partial lines', async () => {
    const log = path.join(dir, 'whole', 'events.log');
    await runWriters(log, 16, 300, 1 << 30);
    const lines = allLines(log);
    expect(lines).toHaveLength(16 * 300);
    const names = new Set(lines.map((l) => (JSON.parse(l) as SkiffEvent).Name));
    expect(names.size).toBe(16 * 300);
  }, 60_000);

  test('past the limit the log rotates: whole lines, the newest kept, no more than the limit on disk', async () => {
    const log = path.join(dir, 'rotating', 'events.log');
    const max = 64 * 1024;
    await runWriters(log, 16, 300, max);
    const lines = allLines(log);
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    const names = new Set(lines.map((l) => (JSON.parse(l) as SkiffEvent).Name));
    // Only the oldest go: what is kept of each writer is its last events, with no hole.
    for (let w = 0; w < 16; w++) {
      const kept = [...names].filter((n) => n!.startsWith(`w${w}-`)).map((n) => Number(n!.split('-')[1]));
      if (kept.length === 0) continue;
      expect(Math.max(...kept) - Math.min(...kept) + 1, `writer ${w}`).toBe(kept.length);
      expect(Math.max(...kept)).toBe(299);
    }
    expect(names.size).toBeGreaterThan(100);
    // The last append may itself have rotated the log (append, then rotate): no events.log is then a valid end.
    const sizeOf = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);
    const size = sizeOf(log) + sizeOf(`${log}.1`);
    expect(size).toBeLessThanOrEqual(max + 16 * 4096);
    expect(size).toBeGreaterThan(max / 4);
    expect(fs.existsSync(`${log}.lock`)).toBe(false);
  }, 60_000);

  describe('the rotation lock', () => {
    const startOf = (pid: number) => {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
    };
    const pidns = /\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))![1]!;
    const max = 1024;
    /** A log past half the limit, and a lock in place with `text`, last modified `ageMs` ago. */
    function setUp(name: string, text: string, ageMs: number): { log: string; lock: string } {
      const log = path.join(dir, name, 'events.log');
      const lock = `${log}.lock`;
      fs.mkdirSync(path.dirname(log), { recursive: true });
      fs.writeFileSync(log, `${'x'.repeat(600)}\n`);
      fs.writeFileSync(lock, text);
      const at = new Date(Date.now() - ageMs);
      fs.utimesSync(lock, at, at);
      return { log, lock };
    }
    const append = (log: string) => appendLine(log, `${'y'.repeat(100)}\n`, max);

    test('a lock naming a writer stopped mid-rotation is kept however old, and nothing rotates under it; once that process has ended it is broken at once, and the next writer rotates', async () => {
      const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
      await new Promise((r) => sleeper.once('spawn', r));
      const pid = sleeper.pid!;
      process.kill(pid, 'SIGSTOP');
      const { log, lock } = setUp('stopped-writer', `${pid} ${startOf(pid)} ${pidns}\n`, 60_000);
      for (let i = 0; i < 3; i++) append(log);
      expect(fs.readFileSync(lock, 'utf8')).toBe(`${pid} ${startOf(pid)} ${pidns}\n`);
      expect(fs.existsSync(`${log}.1`)).toBe(false);
      const exited = new Promise((r) => sleeper.once('exit', r));
      process.kill(pid, 'SIGKILL');
      await exited;
      const now = new Date();
      fs.utimesSync(lock, now, now);
      append(log); // breaks it
      expect(fs.existsSync(lock)).toBe(false);
      expect(fs.existsSync(`${log}.1`)).toBe(false);
      append(log); // rotates, under a lock of its own, removed after
      expect(fs.existsSync(`${log}.1`)).toBe(true);
      expect(fs.existsSync(lock)).toBe(false);
      expect(fs.existsSync(log)).toBe(false); // renamed whole; nothing logged since
    });

    test('a lock naming this PID with another start (a PID used again) is broken at once; an empty one (a writer of before) by its age, past 10 s', () => {
      const reused = setUp('reused', `${process.pid} 1 ${pidns}\n`, 0);
      append(reused.log);
      expect(fs.existsSync(reused.lock)).toBe(false);
      const fresh = setUp('empty-fresh', '', 0);
      append(fresh.log);
      expect(fs.existsSync(fresh.lock)).toBe(true);
      const old = setUp('empty-old', '', 11_000);
      append(old.log);
      expect(fs.existsSync(old.lock)).toBe(false);
      // Another PID namespace's writer cannot be checked from here: the age rule.
      const foreign = setUp('foreign', `1 1 ${Number(pidns) + 1}\n`, 0);
      append(foreign.log);
      expect(fs.existsSync(foreign.lock)).toBe(true);
    });
  });
});
