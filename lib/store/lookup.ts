// Finding a local image by what the user typed, in Docker's order: a name
// ("busybox", "127.0.0.1:5000/app:1", "app@sha256:…"), then a full image id or
// a unique prefix of one ("sha256:" optional).
import { EXIT_SKIFF_FAILED, SkiffError } from '../errors.js';
import { familiarName, isUnqualifiedName, parseReference, type ImageReference } from '../oci/reference.js';
import { listImageRecords, readImageRecord, type ImageRecord } from './images.js';
import { listNames, readName, type StoredName } from './names.js';
import type { Store } from './store.js';

export interface FoundImage {
  record: ImageRecord;
  /** The name the text matched, when it was a name rather than an id. */
  name?: StoredName;
}

const ID_PREFIX = /^(?:sha256:)?([a-f0-9]{1,64})$/;

/** Images whose id starts with the hex prefix. */
function byIdPrefix(store: Store, hex: string): ImageRecord[] {
  if (hex.length === 64) {
    const r = readImageRecord(store.paths, `sha256:${hex}`);
    return r ? [r] : [];
  }
  return listImageRecords(store.paths).filter((r) => r.id.startsWith(`sha256:${hex}`));
}

/**
 * A short name matches any stored name of the same repository path and tag on
 * any registry ("busybox" finds "127.0.0.1:5000/busybox:latest"), when exactly
 * one image has such a name.
 */
function byShortName(store: Store, ref: ImageReference): StoredName[] {
  const path = ref.repository.replace(/^library\//, '');
  return listNames(store.paths).filter(
    (n) =>
      (n.ref.repository === path || n.ref.repository === `library/${path}`) &&
      n.ref.tag === ref.tag &&
      n.ref.digest === ref.digest,
  );
}

/** The reference text as Docker shows it in "No such image": familiar, with the default tag. */
function shown(ref: ImageReference): string {
  return familiarName(ref);
}

/** Finds one image; throws a one-line SkiffError when there is none or the text is ambiguous. */
export async function findImage(store: Store, text: string): Promise<FoundImage> {
  const idMatch = ID_PREFIX.exec(text);
  let ref: ImageReference | undefined;
  let refError: unknown;
  if (!text.startsWith('sha256:') && !(idMatch && idMatch[1]!.length === 64)) {
    try {
      ref = parseReference(text);
    } catch (err) {
      refError = err;
    }
  }
  if (ref) {
    const name = await readName(store.paths, ref);
    const record = name && readImageRecord(store.paths, name.image);
    if (name && record) return { record, name };
    if (isUnqualifiedName(text)) {
      const matches = byShortName(store, ref).filter((n) => readImageRecord(store.paths, n.image));
      const images = new Set(matches.map((n) => n.image));
      if (images.size === 1) return { record: readImageRecord(store.paths, matches[0]!.image)!, name: matches[0]! };
      if (images.size > 1) {
        throw new SkiffError(
          `short name "${text}" matches images in several repositories (${matches.map((n) => n.name).join(', ')}): use the full name`,
        );
      }
    }
  }
  if (idMatch) {
    const records = byIdPrefix(store, idMatch[1]!);
    if (records.length === 1) return { record: records[0]! };
    if (records.length > 1) {
      throw new SkiffError(`image id prefix "${text}" is ambiguous: it matches ${records.length} images; give more characters`);
    }
  }
  if (refError && !idMatch) throw refError;
  throw new SkiffError(`no such image: ${ref ? shown(ref) : text}`, EXIT_SKIFF_FAILED, 'not-found');
}
