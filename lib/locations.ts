// Where a user's store and runtime state live (design.md, decision 3). A base
// module: the event log (lib/events) sits below the store and needs the
// runtime directory too; lib/store/paths.ts re-exports these.
import { homedir } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';

export interface StoreLocations {
  /** Images, layers, containers. */
  graphRoot: string;
  /** Runtime state: locks, sockets, PID files. */
  runRoot: string;
}

/** The marker reexecInUserNamespace sets (lib/namespaces/userns.ts). */
const USERNS_MARKER = 'SKIFF_IN_USERNS';

/** XDG base directories must be absolute to count (XDG Base Directory spec). */
function xdg(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v && v.startsWith('/') ? v : undefined;
}

/**
 * The store of `user`: $SKIFF_ROOT when set (--root; tests, several stores
 * side by side), else $XDG_DATA_HOME/skiff or ~/.local/share/skiff; root's is
 * /var/lib/skiff. Runtime state: $SKIFF_RUNROOT (--runroot), else
 * $XDG_RUNTIME_DIR/skiff, /tmp/skiff-UID; root's /run/skiff.
 */
export function storeLocations(user: { uid: number; home: string }, env: NodeJS.ProcessEnv = process.env): StoreLocations {
  const override = xdg(env, 'SKIFF_ROOT');
  const runOverride = xdg(env, 'SKIFF_RUNROOT');
  if (user.uid === 0) return { graphRoot: override ?? '/var/lib/skiff', runRoot: runOverride ?? '/run/skiff' };
  const data = xdg(env, 'XDG_DATA_HOME') ?? path.join(user.home, '.local', 'share');
  const runtime = xdg(env, 'XDG_RUNTIME_DIR');
  return {
    graphRoot: override ?? path.join(data, 'skiff'),
    runRoot: runOverride ?? (runtime ? path.join(runtime, 'skiff') : `/tmp/skiff-${user.uid}`),
  };
}

/**
 * The host uid skiff works for. Inside the user namespace of a re-executed
 * store command every process is uid 0, but the store is still the user's:
 * the uid is the host id that namespace root maps to.
 */
export function hostUid(env: NodeJS.ProcessEnv = process.env): number {
  const uid = process.getuid?.() ?? 0;
  if (env[USERNS_MARKER] !== '1' || uid !== 0) return uid;
  try {
    for (const line of readFileSync('/proc/self/uid_map', 'utf8').split('\n')) {
      const [inside, outside] = line.trim().split(/\s+/).map(Number);
      if (inside === 0 && Number.isSafeInteger(outside)) return outside!;
    }
  } catch {
    // no /proc: fall through
  }
  return uid;
}

/** The running process's store (see storeLocations). */
export function currentStoreLocations(env: NodeJS.ProcessEnv = process.env): StoreLocations {
  const home = env['HOME'] && env['HOME'].startsWith('/') ? env['HOME'] : homedir();
  return storeLocations({ uid: hostUid(env), home }, env);
}

