// `images --filter`: reference=PATTERN (Go path.Match on the familiar name,
// with or without its tag, with or without its registry; several are ORed), dangling=true|false (no tag),
// before=IMAGE, since=IMAGE (by creation time), label=KEY or label=KEY=VALUE
// (all must match). Different keys are ANDed, as in Docker.
import { SkiffError } from '../errors.js';
import { parseSince } from '../humanize.js';
import type { ImageRecord } from './images.js';
import { familiarName } from '../oci/reference.js';
import type { ImageConfig } from '../oci/image-spec.js';
import { readBlob } from './blobs.js';
import type { ImageSummary } from './image-list.js';
import { findImage } from './lookup.js';
import type { StoredName } from './names.js';
import type { Store } from './store.js';

export interface ImageFilters {
  reference: RegExp[];
  dangling?: boolean;
  before?: string;
  since?: string;
  labels: Array<{ key: string; value?: string }>;
}

const KEYS = ['reference', 'dangling', 'before', 'since', 'label'];

function invalid(text: string, why: string): SkiffError {
  return new SkiffError(`invalid filter "${text}": ${why}`);
}

/** Go's path.Match pattern as a RegExp: * and ? stop at "/", [...] classes, \ escapes. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= pattern.length) throw new Error('trailing backslash');
      re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new Error('unterminated character class');
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('^')) body = `^${body.slice(1).replace(/[\]\\]/g, '\\$&')}`;
      else body = body.replace(/[\]\\^]/g, '\\$&');
      re += `[${body}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function parseImageFilters(list: string[]): ImageFilters {
  const f: ImageFilters = { reference: [], labels: [] };
  for (const text of list) {
    const eq = text.indexOf('=');
    const key = eq < 0 ? text : text.slice(0, eq);
    const value = eq < 0 ? '' : text.slice(eq + 1);
    if (!KEYS.includes(key)) throw invalid(text, `supported filters are ${KEYS.join(', ')}`);
    if (eq < 0 || value === '') throw invalid(text, `expected ${key}=VALUE`);
    switch (key) {
      case 'reference':
        try {
          f.reference.push(globToRegExp(value));
        } catch (err) {
          throw invalid(text, `bad pattern (${(err as Error).message})`);
        }
        break;
      case 'dangling':
        if (!['true', 'false', '1', '0'].includes(value.toLowerCase())) throw invalid(text, 'dangling takes true or false');
        f.dangling = ['true', '1'].includes(value.toLowerCase());
        break;
      case 'before':
      case 'since':
        f[key] = value;
        break;
      case 'label': {
        const e = value.indexOf('=');
        f.labels.push(e < 0 ? { key: value } : { key: value.slice(0, e), value: value.slice(e + 1) });
        break;
      }
    }
  }
  return f;
}

function matchesReference(n: StoredName, patterns: RegExp[]): boolean {
  const full = familiarName(n.ref);
  const name = familiarName({ registry: n.ref.registry, repository: n.ref.repository });
  // Also without the registry, as Podman matches and as a short name finds an
  // image (lookup.ts): "app" and "app:1" match 127.0.0.1:5000/app:1 and localhost/app:1.
  const path = n.ref.repository.replace(/^library\//, '');
  const pathWithTag = path + full.slice(name.length);
  return patterns.some((p) => p.test(full) || p.test(name) || p.test(path) || p.test(pathWithTag));
}

function labelsOf(store: Store, s: ImageSummary): Record<string, string> {
  const blob = readBlob(store.paths, s.record.id);
  if (!blob) return {};
  try {
    return (JSON.parse(blob.toString('utf8')) as ImageConfig).config?.Labels ?? {};
  } catch {
    return {};
  }
}

/** The summaries the filters keep; a reference filter also keeps only the matching names. */
export async function filterImages(store: Store, all: ImageSummary[], f: ImageFilters): Promise<ImageSummary[]> {
  const createdOf = async (text: string) => Date.parse((await findImage(store, text)).record.created ?? '') || 0;
  const before = f.before !== undefined ? await createdOf(f.before) : undefined;
  const after = f.since !== undefined ? await createdOf(f.since) : undefined;
  const out: ImageSummary[] = [];
  for (const s0 of all) {
    let s = s0;
    if (f.reference.length > 0) {
      s = { ...s, tags: s.tags.filter((n) => matchesReference(n, f.reference)), digests: s.digests.filter((n) => matchesReference(n, f.reference)) };
      if (s.tags.length === 0 && s.digests.length === 0) continue;
    }
    if (f.dangling !== undefined && (s0.tags.length === 0) !== f.dangling) continue;
    const created = Date.parse(s.record.created ?? '') || 0;
    if (before !== undefined && !(created < before)) continue;
    if (after !== undefined && !(created > after)) continue;
    if (f.labels.length > 0) {
      const labels = labelsOf(store, s);
      if (!f.labels.every((l) => Object.hasOwn(labels, l.key) && (l.value === undefined || labels[l.key] === l.value))) continue;
    }
    out.push(s);
  }
  return out;
}

/** `image prune --filter` (and `system prune`): until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE]. */
export interface PruneFilters {
  /** Only images created before this (ms since the epoch). */
  until?: number;
  labels: Array<{ key: string; value?: string; negate: boolean }>;
}

export function parsePruneFilters(list: string[], now = Date.now()): PruneFilters {
  const f: PruneFilters = { labels: [] };
  for (const text of list) {
    const m = /^(until|label!?)=(.*)$/.exec(text);
    if (!m || m[2] === '') throw invalid(text, 'prune takes until=TIME, label=KEY[=VALUE] and label!=KEY[=VALUE]');
    if (m[1] === 'until') {
      f.until = parseSince(m[2]!, now, 'the until filter');
      continue;
    }
    const e = m[2]!.indexOf('=');
    const label = e < 0 ? { key: m[2]! } : { key: m[2]!.slice(0, e), value: m[2]!.slice(e + 1) };
    f.labels.push({ ...label, negate: m[1] === 'label!' });
  }
  return f;
}

/** Whether the filters let prune remove this image. */
export function prunableByFilters(store: Store, record: ImageRecord, f: PruneFilters): boolean {
  if (f.until !== undefined && !((Date.parse(record.created ?? '') || 0) < f.until)) return false;
  if (f.labels.length === 0) return true;
  const labels = labelsOf(store, { record, tags: [], digests: [] });
  return f.labels.every((l) => {
    const has = Object.hasOwn(labels, l.key) && (l.value === undefined || labels[l.key] === l.value);
    return l.negate ? !has : has;
  });
}
