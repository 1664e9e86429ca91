// The store lock: flock(2) on GraphRoot/store.lock. Writers (pull, tag) hold
// it shared, so any number of them run at once, each publishing its work by
// atomic renames; garbage collection (rmi, image prune) holds it exclusive, so
// it never deletes a layer or blob that a running pull has just found present
// and is about to name. flock is the right primitive because the kernel drops
// the lock when its holder dies, SIGKILL included: no stale lock files, no pid
// guessing.
//
// Node has no flock(2). util-linux's flock(1) takes it for us on a shared open
// file description: we open the file, hand the descriptor to `flock -s 3` as
// its fd 3, and when that child exits the lock stays with the description that
// this process still holds (flock(2): locks belong to the open file
// description, not to the process). Closing our descriptor, or dying,
// releases it. Cost: one spawn (~3-5 ms quiet, 20-50 ms on a loaded machine,
// plus ~15 ms to load node:child_process), once per store-writing command.
//
// A command that only reads the store and writes names (a fully cached
// build) may skip the spawn: every exclusive holder makes the generation
// (GraphRoot/store.gen) odd when it has the lock and even again before it
// lets go, so a reader that sees the same even number before and after its
// work knows that no exclusive holder removed anything meanwhile, and that
// any later one sees the names it wrote (sharedWithoutLock; a seqlock). A
// holder killed mid-way leaves the number odd: readers then take the lock, as
// before, until the next exclusive holder finishes.
import { closeSync, constants, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import { findProgram } from '../host/programs.js';
import type { StorePaths } from './paths.js';
import { digestHex } from './digest.js';
import { writeFileAtomic } from './atomic.js';

export interface StoreLock {
  readonly mode: 'shared' | 'exclusive';
  release(): void;
}

function flockBinary(): string {
  const flock = findProgram('flock');
  if (flock) return flock;
  throw new SkiffError("cannot lock the image store: flock(1) is not installed (it is part of util-linux: 'apt-get install util-linux')");
}

export interface LockOptions {
  /** Called once when the lock is not granted at once (another skiff holds it). */
  onWait?: () => void;
  /** Milliseconds before onWait is called. */
  waitNoticeMs?: number;
}

/** Takes the store lock, waiting as long as it takes. */
export async function lockStore(paths: StorePaths, mode: 'shared' | 'exclusive', opts: LockOptions = {}): Promise<StoreLock> {
  const lock = await lockFile(paths.lockFile, mode, opts);
  if (mode === 'shared') return lock;
  // Odd while held (a killed holder's odd number moves on by two).
  const start = readGeneration(paths);
  try {
    writeGeneration(paths, start === undefined ? 1 : start % 2 === 0 ? start + 1 : start + 2);
  } catch (err) {
    lock.release();
    throw new SkiffError(`cannot write ${generationFile(paths)}: ${errnoCode(err) ?? String(err)}`);
  }
  let held = true;
  return {
    mode,
    release() {
      if (!held) return;
      held = false;
      try {
        const now = readGeneration(paths);
        if (now !== undefined && now % 2 === 1) writeGeneration(paths, now + 1);
      } catch {
        // Left odd: readers without the lock take it, which is only slower.
      }
      lock.release();
    },
  };
}

function generationFile(paths: StorePaths): string {
  return path.join(paths.root, 'store.gen');
}

/** The generation (see the top of this file): 0 before any exclusive holder; undefined when unreadable. */
function readGeneration(paths: StorePaths): number | undefined {
  let text: string;
  try {
    text = readFileSync(generationFile(paths), 'utf8');
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? 0 : undefined;
  }
  return /^\d{1,15}\n?$/.test(text) ? Number(text) : undefined;
}

function writeGeneration(paths: StorePaths, n: number): void {
  writeFileAtomic(paths, generationFile(paths), `${n}\n`);
}

export interface LockFreeSection {
  /** True when no exclusive holder took the lock since the section began: its reads and writes stand. */
  unchanged(): boolean;
}

/**
 * Work that would hold the shared lock, done without it: undefined when an
 * exclusive holder is at work now (take the lock instead). At the end, if
 * unchanged() is false, an exclusive holder may have removed what the work
 * found: do it again under the lock. For read-mostly commands whose only
 * writes are names (redone, or left pointing at nothing, which readers treat
 * as absent and garbage collection removes).
 */
export function sharedWithoutLock(paths: StorePaths): LockFreeSection | undefined {
  const start = readGeneration(paths);
  if (start === undefined || start % 2 === 1) return undefined;
  return { unchanged: () => readGeneration(paths) === start };
}

/**
 * The lock of one image name's pull when `run` finds it missing: parallel
 * runs (make -j) pull it once, the others wait and then find it stored.
 */
export async function lockPullOf(paths: StorePaths, name: string): Promise<StoreLock> {
  mkdirSync(path.join(paths.root, 'locks'), { recursive: true, mode: 0o700 });
  // Loaded only here: node:crypto costs several ms, which `run` of a stored image never pays.
  const { createHash } = await import('node:crypto');
  const key = createHash('sha256').update(name).digest('hex').slice(0, 32);
  return lockFile(path.join(paths.root, 'locks', `pull-${key}.lock`), 'exclusive');
}

/**
 * The lock of one build step (by its cache key): parallel builds of one
 * Dockerfile (make -j) run each uncached step once; the others wait, then
 * find it in the build cache.
 */
export async function lockBuildStep(paths: StorePaths, key: string): Promise<StoreLock> {
  mkdirSync(path.join(paths.root, 'locks'), { recursive: true, mode: 0o700 });
  return lockFile(path.join(paths.root, 'locks', `build-${digestHex(key).slice(0, 32)}.lock`), 'exclusive');
}

/**
 * The lock of one layer's fetch (by its diffID): concurrent pulls of one
 * image (or of images sharing a layer) download and unpack it once; the others
 * wait, then find it stored.
 */
export async function lockLayerFetch(paths: StorePaths, diffID: string): Promise<StoreLock> {
  mkdirSync(path.join(paths.root, 'locks'), { recursive: true, mode: 0o700 });
  return lockFile(path.join(paths.root, 'locks', `layer-${digestHex(diffID).slice(0, 32)}.lock`), 'exclusive');
}

/** flock(2) on `file` (created if missing), waiting as long as it takes. */
export async function lockFile(file: string, mode: 'shared' | 'exclusive', opts: LockOptions = {}): Promise<StoreLock> {
  const flock = flockBinary();
  // Loaded here, not at the top: node:child_process (and node:net under it)
  // costs ~15 ms, which `images` and `inspect`, sharing this bundle, never pay.
  const { spawn } = await import('node:child_process');
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_CREAT, 0o644);
  } catch (err) {
    throw new SkiffError(`cannot open the lock ${file}: ${errnoCode(err) ?? String(err)}`);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(flock, [mode === 'shared' ? '--shared' : '--exclusive', '3'], {
        stdio: ['ignore', 'ignore', 'pipe', fd],
      });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = opts.onWait ? setTimeout(opts.onWait, opts.waitNoticeMs ?? 1000) : undefined;
      child.on('error', (err) => {
        if (timer) clearTimeout(timer);
        reject(new SkiffError(`cannot lock the image store: ${err.message}`));
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new SkiffError(`cannot lock ${file}: ${stderr.trim() || `flock ${signal ?? `exited with ${code}`}`}`));
      });
    });
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let held = true;
  return {
    mode,
    release() {
      if (!held) return;
      held = false;
      closeSync(fd);
    },
  };
}
