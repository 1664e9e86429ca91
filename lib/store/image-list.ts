// What `images` lists: each image with its names, and the rows Docker prints
// for them (one per repository and tag; digest-only names as "<none>" tags).
import { familiarName } from '../oci/reference.js';
import { shortDigest } from './digest.js';
import { goTimeString, humanSize, since } from '../humanize.js';
import { listImageRecords, type ImageRecord } from './images.js';
import { listNames, type StoredName } from './names.js';
import type { Store } from './store.js';
import { byCodeUnit } from '../compare.js';

export interface ImageSummary {
  record: ImageRecord;
  /** Names with a tag. */
  tags: StoredName[];
  /** Names by digest (Docker's RepoDigests). */
  digests: StoredName[];
}

/** Every image with its names, newest first (by the config's "created"). */
export function imageSummaries(store: Store): ImageSummary[] {
  const byId = new Map<string, ImageSummary>();
  for (const record of listImageRecords(store.paths)) byId.set(record.id, { record, tags: [], digests: [] });
  for (const name of listNames(store.paths)) {
    const s = byId.get(name.image);
    if (!s) continue; // names an image removed meanwhile
    (name.ref.digest !== undefined ? s.digests : s.tags).push(name);
  }
  const created = (s: ImageSummary) => Date.parse(s.record.created ?? '') || 0;
  const all = [...byId.values()];
  for (const s of all) {
    s.tags.sort((a, b) => byCodeUnit(a.name, b.name));
    s.digests.sort((a, b) => byCodeUnit(a.name, b.name));
  }
  return all.sort((a, b) => created(b) - created(a) || byCodeUnit(a.record.id, b.record.id));
}

/** Docker's RepoTags and RepoDigests: familiar names. */
export function repoTags(s: ImageSummary): string[] {
  return s.tags.map((n) => familiarName(n.ref));
}

export function repoDigests(s: ImageSummary): string[] {
  return s.digests.map((n) => familiarName(n.ref));
}

/**
 * Podman's intermediate image: no name at all, and its layers are the bottom
 * of another image's, or (Docker's rule) another image was built from it (a
 * build step's image). `images` hides those unless -a.
 */
export function isIntermediate(s: ImageSummary, all: ImageSummary[]): boolean {
  if (s.tags.length > 0 || s.digests.length > 0) return false;
  const mine = s.record.layers;
  return all.some(
    (o) => o !== s && (o.record.parent === s.record.id || (o.record.layers.length > mine.length && mine.every((l, i) => o.record.layers[i] === l))),
  );
}

/** One row of `images`, with the field names of Docker's --format. */
export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  /** Podman's: the same as ID. */
  Id: string;
  /** Podman's: the image's names with a tag (familiar; its digests are in Digest). */
  Names: string[];
  /** Podman's: the config's labels; only when asked for (it reads each image's config). */
  Labels?: Record<string, string> | null;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

export interface RowOptions {
  digests?: boolean;
  noTrunc?: boolean;
  now?: number;
}

const NONE = '<none>';

function familiarRepository(n: StoredName): string {
  return familiarName({ registry: n.ref.registry, repository: n.ref.repository });
}

/** Docker's rows for one image (cli/command/formatter/image.go). */
export function imageRows(s: ImageSummary, opts: RowOptions = {}): ImageRow[] {
  const base = {
    Containers: 'N/A',
    CreatedAt: goTimeString(s.record.created),
    CreatedSince: since(s.record.created, opts.now),
    ID: opts.noTrunc ? s.record.id : shortDigest(s.record.id),
    Id: opts.noTrunc ? s.record.id : shortDigest(s.record.id),
    Names: repoTags(s),
    SharedSize: 'N/A',
    Size: humanSize(s.record.size, 3),
    UniqueSize: 'N/A',
    VirtualSize: humanSize(s.record.size),
  };
  const row = (Repository: string, Tag: string, Digest: string): ImageRow => ({ ...base, Repository, Tag, Digest });
  const tagsByRepo = new Map<string, string[]>();
  const digestsByRepo = new Map<string, string[]>();
  for (const n of s.tags) tagsByRepo.set(familiarRepository(n), [...(tagsByRepo.get(familiarRepository(n)) ?? []), n.ref.tag!]);
  for (const n of s.digests) digestsByRepo.set(familiarRepository(n), [...(digestsByRepo.get(familiarRepository(n)) ?? []), n.ref.digest!]);
  const rows: ImageRow[] = [];
  for (const [repo, tags] of tagsByRepo) {
    const digests = opts.digests ? (digestsByRepo.get(repo) ?? []) : [];
    digestsByRepo.delete(repo);
    for (const tag of tags) {
      if (digests.length === 0) rows.push(row(repo, tag, NONE));
      else for (const d of digests) rows.push(row(repo, tag, d));
    }
  }
  for (const [repo, digests] of digestsByRepo) {
    if (opts.digests) for (const d of digests) rows.push(row(repo, NONE, d));
    else rows.push(row(repo, NONE, NONE));
  }
  if (rows.length === 0) rows.push(row(NONE, NONE, NONE));
  return rows;
}
