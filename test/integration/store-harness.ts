// Helpers for the image tests (050-pull, 055-images): a fresh store per test,
// owned by the mode's user, and skiff run against it.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { integrationEnv, runSkiff, spawnSkiff, type Mode, type Result, type SpawnOptions } from './harness.js';

export interface TestStore {
  root: string;
  mode: Mode;
  /** Runs skiff with this store (SKIFF_ROOT). */
  skiff(args: string[], opts?: SpawnOptions & { input?: string | Buffer }): Promise<Result>;
  spawn(args: string[], opts?: SpawnOptions): ReturnType<typeof spawnSkiff>;
  ls(sub: 'blobs/sha256' | 'layers' | 'images' | 'names' | 'tmp' | 'containers' | 'locks' | 'volumes' | 'names-history'): string[];
  /** The unpacked root of a layer. */
  diff(diffID: string): string;
}

export function newStore(mode: Mode): TestStore {
  const root = mkdtempSync(path.join(integrationEnv().workDir, `store-${mode.name}-`));
  chmodSync(root, 0o755);
  if (mode.user) chownSync(root, mode.user.uid, mode.user.gid);
  const env = (opts?: SpawnOptions) => ({ ...(opts?.env ?? {}), SKIFF_ROOT: root });
  return {
    root,
    mode,
    skiff: (args, opts = {}) => runSkiff(mode, args, { ...opts, env: env(opts) }),
    spawn: (args, opts = {}) => spawnSkiff(mode, args, { ...opts, env: env(opts) }),
    ls: (sub) => {
      const d = path.join(root, sub);
      return existsSync(d) ? readdirSync(d).sort() : [];
    },
    diff: (diffID) => path.join(root, 'layers', diffID.replace(/^sha256:/, ''), 'diff'),
  };
}

/** The host uid that container uid `id` maps to in this mode (rootless: through /etc/subuid). */
export function hostUidFor(mode: Mode, id: number): number {
  if (!mode.user) return id;
  if (id === 0) return mode.user.uid;
  for (const line of readFileSync('/etc/subuid', 'utf8').split('\n')) {
    const [owner, start] = line.split(':');
    if (owner === mode.user.name || owner === String(mode.user.uid)) return Number(start) + id - 1;
  }
  throw new Error(`no /etc/subuid range for ${mode.user.name}`);
}

/** An extended attribute as the host sees it (python3's os.getxattr; no following of symlinks). */
export function getXattr(file: string, name: string): string | undefined {
  try {
    return execFileSync('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())', file, name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

export function isWhiteout(file: string): boolean {
  try {
    const st = lstatSync(file);
    return st.isCharacterDevice() && st.rdev === 0;
  } catch {
    return false;
  }
}
