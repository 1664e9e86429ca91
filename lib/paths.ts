// Where skiff is installed. Set once by the entry point (bin/skiff passes the
// package directory). Kept on globalThis, not in module state: every lazily
// loaded bundle (dist/lazy/*.cjs) has its own copy of this module.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from './errors.js';

const KEY = Symbol.for('skiff.installRoot');

type WithRoot = typeof globalThis & { [KEY]?: string };

export function setInstallRoot(dir: string): void {
  (globalThis as WithRoot)[KEY] = dir;
}

export function installRoot(): string {
  const root = (globalThis as WithRoot)[KEY];
  if (root === undefined) throw new Error('install root not set');
  return root;
}

/**
 * A new private directory under the temporary directory (--tmpdir, $TMPDIR,
 * else /tmp), for work outside the store; a failure is one line naming it.
 */
export function makeTempDir(prefix: string): string {
  const base = os.tmpdir();
  try {
    return mkdtempSync(path.join(base, prefix));
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String((err as NodeJS.ErrnoException).code) : String(err);
    throw new SkiffError(`cannot make a temporary directory in ${base} (${reason}): give a writable one with --tmpdir or $TMPDIR`);
  }
}
