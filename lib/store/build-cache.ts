// The build cache: one small file per step, named by the step's cache key
// (a digest of its parent image, its instruction with expanded arguments and
// build args, and for COPY/ADD the content it copies), holding the id of the
// image that step made. A hit costs one read; an entry whose image has since
// been removed is a miss. Written whole and renamed, like everything here.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { digestHex } from './digest.js';
import { readImageRecord, type ImageRecord } from './images.js';
import type { StorePaths } from './paths.js';

function stepFile(paths: StorePaths, key: string): string {
  return path.join(paths.buildCache, 'steps', digestHex(key));
}

/** The image a step with this key made, when it is still stored. */
export function lookupBuildStep(paths: StorePaths, key: string): ImageRecord | undefined {
  let id: string;
  try {
    id = readFileSync(stepFile(paths, key), 'utf8').trim();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  if (!/^sha256:[a-f0-9]{64}$/.test(id)) return undefined;
  return readImageRecord(paths, id);
}

export function recordBuildStep(paths: StorePaths, key: string, imageId: string): void {
  mkdirSync(path.join(paths.buildCache, 'steps'), { recursive: true, mode: 0o755 });
  writeFileAtomic(paths, stepFile(paths, key), `${imageId}\n`);
}

/** The directory of one RUN --mount=type=cache (by its id), made on first use; kept until the user removes it. */
export function buildCacheMountDir(paths: StorePaths, idHex: string): string {
  const dir = path.join(paths.buildCache, 'mounts', idHex);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/**
 * The digests of context files a build has hashed, by file identity (device,
 * inode, size, mtime, ctime: any write changes ctime), so that a cached
 * build does not read its context again. A lost update loses only hints.
 */
export function readContextDigests(paths: StorePaths, contextKey: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(path.join(paths.buildCache, 'contexts', digestHex(contextKey)), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/** One file per context directory (`contextKey`: a digest of its path), holding only what its last build used. */
export function writeContextDigests(paths: StorePaths, contextKey: string, digests: Record<string, string>): void {
  mkdirSync(path.join(paths.buildCache, 'contexts'), { recursive: true, mode: 0o755 });
  writeFileAtomic(paths, path.join(paths.buildCache, 'contexts', digestHex(contextKey)), JSON.stringify(digests));
}

/**
 * A Dockerfile parsed before, by its path (`pathKey`: a digest of it): kept
 * with the digest of the text it came from (`textKey`), and given back only
 * for that text, so that a cached build loads no parser. One file per path:
 * an edited Dockerfile replaces its entry.
 */
export function readParsedDockerfile(paths: StorePaths, pathKey: string, textKey: string): unknown {
  try {
    const entry = JSON.parse(readFileSync(path.join(paths.buildCache, 'dockerfiles', digestHex(pathKey)), 'utf8')) as { text?: unknown; parsed?: unknown };
    return entry.text === textKey ? entry.parsed : undefined;
  } catch {
    return undefined;
  }
}

export function writeParsedDockerfile(paths: StorePaths, pathKey: string, textKey: string, parsed: unknown): void {
  mkdirSync(path.join(paths.buildCache, 'dockerfiles'), { recursive: true, mode: 0o755 });
  writeFileAtomic(paths, path.join(paths.buildCache, 'dockerfiles', digestHex(pathKey)), JSON.stringify({ text: textKey, parsed }));
}
