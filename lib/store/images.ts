// images/<config-hex>.json: one record per image. The image id is the digest of
// its config, as in Docker; the record names the manifest (and index) it came
// from and its layers, so that listing images reads no blob.
import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { digestHex } from './digest.js';
import type { StorePaths } from './paths.js';

export interface ImageRecord {
  /** sha256 of the config blob: the image id. */
  id: string;
  /** The image manifest's digest (blobs/). */
  manifest: string;
  manifestMediaType: string;
  /** The index or manifest list the manifest was chosen from, when there was one. */
  index?: string;
  /** The config's rootfs.diff_ids, bottom first. */
  layers: string[];
  /** Bytes of all its distinct layers, unpacked. */
  size: number;
  /** The config's "created", when it has one. */
  created?: string;
  /** The image a build step made this one from (Docker's Parent): `images` hides an untagged parent. */
  parent?: string;
  /** When this store got it (RFC 3339). */
  pulled: string;
}

export function imageRecordPath(paths: StorePaths, id: string): string {
  return path.join(paths.images, `${digestHex(id)}.json`);
}

export function writeImageRecord(paths: StorePaths, record: ImageRecord): void {
  writeFileAtomic(paths, imageRecordPath(paths, record.id), `${JSON.stringify(record)}\n`);
}

export function readImageRecord(paths: StorePaths, id: string): ImageRecord | undefined {
  try {
    return JSON.parse(readFileSync(imageRecordPath(paths, id), 'utf8')) as ImageRecord;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Every image in the store. A record removed while listing is left out. */
export function listImageRecords(paths: StorePaths): ImageRecord[] {
  let files: string[];
  try {
    files = readdirSync(paths.images);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: ImageRecord[] = [];
  for (const f of files) {
    if (!/^[a-f0-9]{64}\.json$/.test(f)) continue;
    const record = readImageRecord(paths, `sha256:${f.slice(0, 64)}`);
    if (record) out.push(record);
  }
  return out;
}

export function removeImageRecord(paths: StorePaths, id: string): void {
  rmSync(imageRecordPath(paths, id), { force: true });
  rmSync(namesHistoryPath(paths, id), { force: true });
}

/**
 * names-history/<hex>: every tag the image was given, one a line, oldest
 * first (Podman's NamesHistory, which keeps a name after an untag). Appended
 * with O_APPEND, one short write per name, so concurrent taggers need no lock.
 */
export function namesHistoryPath(paths: StorePaths, id: string): string {
  return path.join(paths.namesHistory, digestHex(id));
}

export function appendNameHistory(paths: StorePaths, id: string, name: string): void {
  mkdirSync(paths.namesHistory, { recursive: true, mode: 0o755 });
  appendFileSync(namesHistoryPath(paths, id), `${name}\n`, { mode: 0o644 });
}

/** Podman's NamesHistory: the names the image has had, the latest first, each once. */
export function readNamesHistory(paths: StorePaths, id: string): string[] {
  let text: string;
  try {
    text = readFileSync(namesHistoryPath(paths, id), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const names = text.split('\n').filter((l) => l !== '');
  return [...new Set(names.reverse())];
}

/** Garbage collection: the names histories of images no longer recorded. */
export function removeOrphanNamesHistories(paths: StorePaths, ids: ReadonlySet<string>): void {
  let files: string[];
  try {
    files = readdirSync(paths.namesHistory);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  for (const f of files) {
    if (/^[a-f0-9]{64}$/.test(f) && !ids.has(`sha256:${f}`)) rmSync(path.join(paths.namesHistory, f), { force: true });
  }
}
