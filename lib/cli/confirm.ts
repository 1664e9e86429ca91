// Docker's prompt before a prune: one line from stdin decides.
import { readSync } from 'node:fs';

/** Docker's confirmation: one line from stdin, "y" or "Y" to go on. */
export function confirm(question: string): boolean {
  process.stderr.write(`${question} [y/N] `);
  const buf = Buffer.alloc(1);
  let answer = '';
  for (;;) {
    let n = 0;
    try {
      n = readSync(0, buf, 0, 1, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      break;
    }
    if (n === 0 || buf[0] === 0x0a) break;
    answer += String.fromCharCode(buf[0]!);
  }
  return /^\s*y(es)?\s*$/i.test(answer);
}
