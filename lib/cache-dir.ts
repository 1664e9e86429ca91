// skiff's per-user cache directory ($XDG_CACHE_HOME/skiff, else
// ~/.cache/skiff) and the rule every cache under it follows: used only when
// it is the user's own and closed to others, and never made where the nearest
// existing directory is another user's (root run with a user's HOME).
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/** The cache directory, when it is private (made so if missing: ensurePrivateDir); else undefined. */
export function privateCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const dir = skiffCacheDir(env);
  return dir !== undefined && ensurePrivateDir(dir) ? dir : undefined;
}

/** `name` in the private cache directory (privateCacheDir); else undefined. */
export function privateCacheFile(name: string, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const dir = privateCacheDir(env);
  return dir === undefined ? undefined : path.join(dir, name);
}

/**
 * What was worked out from each of some files (a parse), kept in one JSON
 * file of the cache directory: `{version, files: {FILE: ENTRY}}`. Read once;
 * written whole, by one rename, only when an entry is new, with up to `max`
 * entries of files not looked at this time (read under other settings). It
 * only saves time: a cache that cannot be read or written is ignored, and
 * callers check an old entry before they use it.
 */
export class FileResultsCache<T> {
  private readonly previous: Record<string, unknown> = {};
  private readonly next: Record<string, T> = {};
  private changed = false;

  constructor(
    private readonly file: string | undefined,
    private readonly version: number,
    private readonly max = 32,
  ) {
    if (file === undefined) return;
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown; files?: unknown };
      if (doc.version === version && typeof doc.files === 'object' && doc.files !== null) this.previous = doc.files as Record<string, unknown>;
    } catch {
      // none yet, or unreadable: everything is worked out again
    }
  }

  /** The entry kept for `key` by an earlier process, unchecked. */
  old(key: string): unknown {
    return this.previous[key];
  }

  /** `entry` is what `key` gives this time; `fresh` when it was worked out now (not an old one). */
  use(key: string, entry: T, fresh: boolean): void {
    this.next[key] = entry;
    if (fresh) this.changed = true;
  }

  save(): void {
    if (this.file === undefined || !this.changed) return;
    for (const [key, entry] of Object.entries(this.previous)) {
      if (Object.keys(this.next).length >= this.max) break;
      this.next[key] ??= entry as T;
    }
    const temp = `${this.file}.tmp-${process.pid}`;
    try {
      writeFileSync(temp, JSON.stringify({ version: this.version, files: this.next }), { mode: 0o600 });
      renameSync(temp, this.file);
    } catch {
      rmSync(temp, { force: true });
    }
  }
}
