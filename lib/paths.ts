// Where skiff is installed. Set once by the entry point (bin/skiff passes the
// package directory). Kept on globalThis, not in module state: every lazily
// loaded bundle (dist/lazy/*.cjs) has its own copy of this module.
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
