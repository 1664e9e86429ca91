import { constants } from 'node:os';
import { SkiffError } from '../errors.js';

/** "SIGTERM", "TERM", "term" or "15" -> 15, as docker kill -s accepts them. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
    const n = (constants.signals as Record<string, number>)[name];
    if (n !== undefined) return n;
  }
  throw new SkiffError(`invalid signal: ${text}`);
}
