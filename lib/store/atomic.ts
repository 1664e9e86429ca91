// Every write to the store is a complete temp file or directory under tmp/,
// renamed into place: a reader sees the old state or the new one, never half.
// Temp names start with the writer's pid, so that a later process can tell the
// junk of a killed writer (pid gone) from the work of a live one.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import type { StorePaths } from './paths.js';

let counter = 0;

/** A name under tmp/ that no other live process uses: "<pid>-<n>-<random>[-label]". */
export function tmpPath(paths: StorePaths, label = ''): string {
  counter++;
  const random = Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return path.join(paths.tmp, `${process.pid}-${counter}-${random}${label ? `-${label}` : ''}`);
}

/** Writes `data` to `dest` atomically (temp file in the same filesystem, then rename). */
export function writeFileAtomic(paths: StorePaths, dest: string, data: string | Buffer, mode = 0o644): void {
  for (;;) {
    const tmp = tmpPath(paths, 'file');
    try {
      writeFileSync(tmp, data, { flag: 'wx', mode });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') continue; // the junk of a dead process with our pid
      throw err;
    }
    try {
      renameSync(tmp, dest);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    return;
  }
}

/** A new, empty directory under tmp/ (mode 0700 until renamed into place). */
export function makeTmpDir(paths: StorePaths, label = ''): string {
  for (;;) {
    const dir = tmpPath(paths, label);
    try {
      mkdirSync(dir, 0o700);
      return dir;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
  }
}

/**
 * Renames a complete directory to `dest`. False when `dest` already exists
 * (another process finished the same work first): the caller discards its copy.
 */
export function renameDirIntoPlace(dir: string, dest: string): boolean {
  try {
    renameSync(dir, dest);
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EEXIST' || code === 'ENOTEMPTY') return false;
    throw err;
  }
}

export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** Moves a tree out of sight at once (rename), then deletes it. */
export function removeTree(paths: StorePaths, target: string): void {
  const trash = tmpPath(paths, 'trash');
  try {
    renameSync(target, trash);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  rmSync(trash, { recursive: true, force: true });
}

/**
 * Removes what killed writers left in tmp/: entries whose pid no longer runs,
 * or every entry when `all` (the caller holds the store's exclusive lock, so no
 * writer is running). Returns how many entries were removed.
 */
export function cleanTmp(paths: StorePaths, all = false): number {
  let names: string[];
  try {
    names = readdirSync(paths.tmp);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!all && Number.isSafeInteger(pid) && pid > 0 && pidAlive(pid)) continue;
    rmSync(path.join(paths.tmp, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
