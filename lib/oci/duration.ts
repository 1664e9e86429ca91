// Go's time.ParseDuration, as Docker and Podman read their duration flags
// ("30s", "1m30s", "500ms", "1.5h"), in nanoseconds. Negative durations are
// refused: nothing skiff times may run backwards.
import { SkiffError } from '../errors.js';

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** "30s" → 30e9. `what` names the flag or keyword in the error ("--health-interval"). */
export function parseDuration(text: string, what: string): number {
  if (text === '') throw new SkiffError(`${what} requires a duration`);
  const body = text.startsWith('+') ? text.slice(1) : text;
  if (body === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (!m) throw new SkiffError(`invalid duration "${text}" for ${what}: expected e.g. 30s, 1m30s or 500ms`);
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (body === '') throw new SkiffError(`invalid duration "${text}" for ${what}: expected e.g. 30s, 1m30s or 500ms`);
  return Math.round(total);
}

/** Go's Duration.String() for whole and fractional seconds as a user reads them: "30s", "1m30s", "500ms". */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e9) return ns % 1e6 === 0 ? `${ns / 1e6}ms` : ns % 1e3 === 0 ? `${ns / 1e3}µs` : `${ns}ns`;
  let rest = ns;
  const h = Math.floor(rest / 3600e9);
  rest -= h * 3600e9;
  const m = Math.floor(rest / 60e9);
  rest -= m * 60e9;
  const s = Number((rest / 1e9).toFixed(9)).toString();
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}
