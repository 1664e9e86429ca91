// Which side of the store's user namespace this process is on. Apart from
// userns.ts (which re-executes through the helper, loading node:child_process)
// so that a command can ask before it knows it must re-execute.
export const USERNS_MARKER = 'SKIFF_IN_USERNS';

/** True when this process is root of skiff's user namespace, or real root. */
export function inStoreNamespace(): boolean {
  return (process.geteuid?.() ?? 0) === 0;
}

/** Whether this process was started by reexecInUserNamespace. */
export function isReexecuted(): boolean {
  return process.env[USERNS_MARKER] === '1';
}
