// Sizes and ages as Docker prints them (github.com/docker/go-units), and the
// times Docker's flags and filters take.
import { SkiffError } from './errors.js';

/** Go's %.<precision>g: the exponent after rounding decides between %e and %f; trailing zeros go. */
function formatG(x: number, precision: number): string {
  if (x === 0) return '0';
  const [mant, e] = x.toExponential(precision - 1).split('e');
  const exp = Number(e);
  const trim = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (exp < -4 || exp >= precision) return `${trim(mant!)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return trim(x.toFixed(Math.max(0, precision - 1 - exp)));
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** units.HumanSizeWithPrecision: decimal units, no space ("4.26MB", "512B"). */
export function humanSize(bytes: number, precision = 4): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, precision)}${DECIMAL_UNITS[i]}`;
}

/** units.HumanDuration: "Less than a second", "About a minute", "3 weeks". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "<duration> ago" for a timestamp, as Docker's CREATED columns; "N/A" without one. */
export function since(time: string | undefined, now = Date.now()): string {
  const t = time ? Date.parse(time) : NaN;
  if (!Number.isFinite(t) || t <= 0) return 'N/A';
  return `${humanDuration(now - t)} ago`;
}

/** Go's time.Time.String() in UTC, as Docker's CreatedAt: "2024-05-01 10:00:00 +0000 UTC". */
export function goTimeString(time: string | undefined): string {
  const t = time ? new Date(time) : undefined;
  if (!t || Number.isNaN(t.getTime())) return '';
  return `${t.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/**
 * Docker's --since, --until and until= filters: RFC 3339, a Unix timestamp,
 * or a duration ago (10s, 5m, 2h). `flag` names the flag in the error.
 */
export function parseSince(text: string, now = Date.now(), flag = '--since'): number {
  const rel = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (rel) return now - Number(rel[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[rel[2] as 'ms' | 's' | 'm' | 'h'];
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new SkiffError(`invalid value for ${flag}: "${text}": use RFC 3339, a Unix time, or a duration like 10m`);
  return t;
}
