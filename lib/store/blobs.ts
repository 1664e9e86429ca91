// blobs/sha256/<hex>: manifests, indexes and configs, exactly as served.
// A blob is verified against its digest before it is named.
import { existsSync, readFileSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { digestHex, sha256 } from './digest.js';
import type { StorePaths } from './paths.js';

export function blobPath(paths: StorePaths, digest: string): string {
  return path.join(paths.blobs, digestHex(digest));
}

/** Stores `data` as blob `digest` after checking that it is. Already present: nothing to do (not even the hash). */
export async function writeBlob(paths: StorePaths, digest: string, data: Buffer): Promise<void> {
  const dest = blobPath(paths, digest);
  if (existsSync(dest)) return;
  const actual = await sha256(data);
  if (actual !== digest) throw new SkiffError(`blob ${digest} does not match its digest (its content is ${actual}): not stored`);
  writeFileAtomic(paths, dest, data, 0o644);
}

/** The blob's bytes, or undefined when the store does not have it. */
export function readBlob(paths: StorePaths, digest: string): Buffer | undefined {
  try {
    return readFileSync(blobPath(paths, digest));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Every stored blob, as digests. */
export function listBlobs(paths: StorePaths): string[] {
  try {
    return readdirSync(paths.blobs)
      .filter((n) => /^[a-f0-9]{64}$/.test(n))
      .map((n) => `sha256:${n}`);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** A blob's size on disk, or 0 when the store does not have it. */
export function blobSize(paths: StorePaths, digest: string): number {
  try {
    return statSync(blobPath(paths, digest)).size;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
}

/** Removes a blob; returns its size, or 0 when it was not there. */
export function removeBlob(paths: StorePaths, digest: string): number {
  const p = blobPath(paths, digest);
  try {
    const size = statSync(p).size;
    unlinkSync(p);
    return size;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
}
