// The healthcheck a container gets (lib/containers/health-config.ts) and
// Docker's fold of a result into its health (lib/containers/health-state.ts).
import { describe, expect, test } from 'vitest';
import { parseHealthCmd, resolveHealthcheck } from '../../lib/containers/health-config.js';
import { foldResult } from '../../lib/containers/health-state.js';
import { formatDuration, parseDuration } from '../../lib/oci/duration.js';

const none = { noHealthcheck: false };

describe('healthcheck config', () => {
  test('Docker defaults fill what neither the image nor a flag says', () => {
    expect(resolveHealthcheck(undefined, { ...none, cmd: 'curl -f x' })).toEqual({ Test: ['CMD-SHELL', 'curl -f x'], Interval: 30e9, Timeout: 30e9, StartPeriod: 0, StartInterval: 5e9, Retries: 3 });
    expect(resolveHealthcheck(undefined, none)).toBeUndefined();
  });

  test("the image's HEALTHCHECK is the default; each flag replaces its field", () => {
    const image = { Test: ['CMD', 'check'], Interval: 5e9, Retries: 2 };
    expect(resolveHealthcheck(image, none)).toMatchObject({ Test: ['CMD', 'check'], Interval: 5e9, Retries: 2, Timeout: 30e9 });
    expect(resolveHealthcheck(image, { ...none, interval: '1m30s', timeout: '500ms' })).toMatchObject({ Test: ['CMD', 'check'], Interval: 90e9, Timeout: 0.5e9, Retries: 2 });
    expect(resolveHealthcheck(image, { ...none, cmd: 'true' })).toMatchObject({ Test: ['CMD-SHELL', 'true'], Interval: 5e9 });
  });

  test('HEALTHCHECK NONE, --no-healthcheck and --health-cmd none disable it', () => {
    expect(resolveHealthcheck({ Test: ['NONE'] }, none)).toBeUndefined();
    expect(resolveHealthcheck({ Test: ['CMD', 'x'] }, { noHealthcheck: true })).toBeUndefined();
    expect(resolveHealthcheck({ Test: ['CMD', 'x'] }, { ...none, cmd: 'none' })).toBeUndefined();
    expect(() => resolveHealthcheck(undefined, { noHealthcheck: true, retries: '2' })).toThrow('--no-healthcheck conflicts with --health-* options');
  });

  test("Podman's JSON array and --health-interval disable", () => {
    expect(parseHealthCmd('["CMD", "curl", "-f", "x"]')).toEqual(['CMD', 'curl', '-f', 'x']);
    expect(parseHealthCmd('["CMD-SHELL", "a && b"]')).toEqual(['CMD-SHELL', 'a && b']);
    expect(parseHealthCmd('["/bin/check", "--fast"]')).toEqual(['CMD', '/bin/check', '--fast']);
    expect(() => parseHealthCmd('["CMD"]')).toThrow('CMD needs a command');
    expect(() => parseHealthCmd('[1]')).toThrow('a JSON array of strings');
    expect(resolveHealthcheck(undefined, { ...none, cmd: 'true', interval: 'disable' })).toMatchObject({ Interval: 0 });
  });

  test('bad values: one message each', () => {
    expect(() => resolveHealthcheck(undefined, { ...none, cmd: 'x', interval: '10' })).toThrow('invalid duration "10" for --health-interval');
    expect(() => resolveHealthcheck(undefined, { ...none, cmd: 'x', timeout: '-1s' })).toThrow('invalid duration "-1s" for --health-timeout');
    expect(() => resolveHealthcheck(undefined, { ...none, cmd: 'x', interval: '10us' })).toThrow('--health-interval cannot be less than 1ms');
    expect(() => resolveHealthcheck(undefined, { ...none, cmd: 'x', retries: 'three' })).toThrow('invalid --health-retries "three"');
  });

  test("durations as Go's ParseDuration and String", () => {
    expect(parseDuration('1h2m3.5s', '--x')).toBe(3723.5e9);
    expect(parseDuration('0', '--x')).toBe(0);
    expect(formatDuration(0.5e9)).toBe('500ms');
    expect(formatDuration(90e9)).toBe('1m30s');
    expect(formatDuration(30e9)).toBe('30s');
  });
});

describe("Docker's fold of a result", () => {
  const hc = { Test: ['CMD', 'x'], Interval: 1e9, Timeout: 1e9, StartPeriod: 10e9, StartInterval: 1e9, Retries: 2 };
  const start = '2026-01-01T00:00:00.000Z';
  const at = (s: number, code: number) => ({ Start: new Date(Date.parse(start) + s * 1000).toISOString(), End: new Date(Date.parse(start) + s * 1000 + 10).toISOString(), ExitCode: code, Output: '' });

  test('failures in the start period do not count until one passes; then retries decide', () => {
    let h = foldResult(undefined, at(1, 1), hc, start);
    expect(h).toMatchObject({ Status: 'starting', FailingStreak: 0 });
    h = foldResult(h, at(2, 0), hc, start);
    expect(h).toMatchObject({ Status: 'healthy', FailingStreak: 0 });
    h = foldResult(h, at(3, 1), hc, start);
    expect(h).toMatchObject({ Status: 'healthy', FailingStreak: 1 });
    h = foldResult(h, at(4, 1), hc, start);
    expect(h).toMatchObject({ Status: 'unhealthy', FailingStreak: 2 });
  });

  test('after the start period failures count from starting; the log keeps five; a new start begins again', () => {
    let h = foldResult(undefined, at(11, 1), hc, start);
    expect(h).toMatchObject({ Status: 'starting', FailingStreak: 1 });
    for (let i = 12; i < 18; i++) h = foldResult(h, at(i, 1), hc, start);
    expect(h.Log).toHaveLength(5);
    expect(h).toMatchObject({ Status: 'unhealthy', FailingStreak: 7 });
    const again = foldResult(h, at(30, 0), hc, '2026-01-01T00:00:20.000Z');
    expect(again).toMatchObject({ Status: 'healthy', FailingStreak: 0, StartedAt: '2026-01-01T00:00:20.000Z' });
    expect(again.Log).toHaveLength(1);
  });
});
