// skiff's per-user cache directory ($XDG_CACHE_HOME/skiff, else
// ~/.cache/skiff) and the rule every cache under it follows: used only when
// it is the user's own and closed to others, and never made where the nearest
// existing directory is another user's (root run with a user's HOME).
import { lstatSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** $XDG_CACHE_HOME/skiff (else ~/.cache/skiff), or undefined when neither is an absolute path. */
export function skiffCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const xdg = env['XDG_CACHE_HOME'];
  const home = env['HOME'];
  const base = xdg && path.isAbsolute(xdg) ? xdg : home && path.isAbsolute(home) ? path.join(home, '.cache') : undefined;
  return base === undefined ? undefined : path.join(base, 'skiff');
}

/** True when `dir` is a directory of this user's that nobody else may write (or read). */
export function isPrivateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.geteuid?.() && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** The nearest existing ancestor of `dir` is this user's. */
function ownAncestor(dir: string): boolean {
  for (let p = path.dirname(dir); ; p = path.dirname(p)) {
    try {
      return lstatSync(p).uid === process.geteuid?.();
    } catch {
      if (p === path.dirname(p)) return false;
    }
  }
}

/** Makes `dir` (0700) where that is this user's to do; true when it is then private (isPrivateDir). */
export function ensurePrivateDir(dir: string): boolean {
  if (isPrivateDir(dir)) return true;
  if (!ownAncestor(dir)) return false;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return false;
  }
  return isPrivateDir(dir);
}
