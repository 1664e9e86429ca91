// Where the store and the runtime state live (design.md, decision 3).
// TODO(lib/store): this belongs to lib/store once it exists; info and doctor
// only need the two paths.
import path from 'node:path';

export interface StoreLocations {
  /** Images, layers, containers. */
  graphRoot: string;
  /** Runtime state: locks, sockets, PID files. */
  runRoot: string;
}

/** XDG base directories must be absolute to count (XDG Base Directory spec). */
function xdg(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v && v.startsWith('/') ? v : undefined;
}

export function storeLocations(user: { uid: number; home: string }, env: NodeJS.ProcessEnv = process.env): StoreLocations {
  if (user.uid === 0) return { graphRoot: '/var/lib/skiff', runRoot: '/run/skiff' };
  const data = xdg(env, 'XDG_DATA_HOME') ?? path.join(user.home, '.local', 'share');
  const runtime = xdg(env, 'XDG_RUNTIME_DIR');
  return {
    graphRoot: path.join(data, 'skiff'),
    runRoot: runtime ? path.join(runtime, 'skiff') : `/tmp/skiff-${user.uid}`,
  };
}
