// Whether this process holds real root: the initial user namespace's, the
// only one that may create device nodes (a namespace's root may not).
import { readFileSync } from 'node:fs';

export function canCreateDevices(): boolean {
  if ((process.getuid?.() ?? 1) !== 0) return false;
  try {
    const f = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
    return f[0] === '0' && f[1] === '0' && f[2] === '4294967295';
  } catch {
    return false;
  }
}
