// names/<file>.json: what an image is called. A name is a full canonical
// reference, either tagged ("127.0.0.1:5000/busybox:latest") or by digest
// ("docker.io/library/busybox@sha256:…", recorded by a pull like Docker's
// RepoDigests). One file per name, so that tagging, re-tagging and untagging
// are each one atomic rename or unlink, with no index to lock.
//
// The file name is the reference with "/" written as "+" (a character no
// reference contains); a reference too long for one file name is named by its
// sha256 instead. The file holds the name itself, so listing reads no key.
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { formatReference, parseReference, type ImageReference } from '../oci/reference.js';
import { writeFileAtomic } from './atomic.js';
import { appendNameHistory } from './images.js';
import { sha256 } from './digest.js';
import type { StorePaths } from './paths.js';

export interface NameRecord {
  /** The canonical reference: formatReference() of a reference with a tag or a digest (not both). */
  name: string;
  /** The image id it names. */
  image: string;
}

export interface StoredName extends NameRecord {
  ref: ImageReference;
  /** The file, for removal. */
  file: string;
}

/** Longest name kept readable in its file name (NAME_MAX is 255, minus ".json"). */
const MAX_PLAIN = 240;

async function nameFile(paths: StorePaths, name: string): Promise<string> {
  const plain = name.replace(/\//g, '+');
  const base = Buffer.byteLength(plain) <= MAX_PLAIN ? plain : `#${(await sha256(name)).slice(7)}`;
  return path.join(paths.names, `${base}.json`);
}

/** The canonical name of a reference: a tag or a digest, never both (a digest wins, as in Docker). */
export function canonicalNameOf(ref: ImageReference): string {
  return ref.digest !== undefined ? formatReference({ registry: ref.registry, repository: ref.repository, digest: ref.digest }) : formatReference(ref);
}

export async function writeName(paths: StorePaths, ref: ImageReference, image: string): Promise<void> {
  const name = canonicalNameOf(ref);
  const record: NameRecord = { name, image };
  writeFileAtomic(paths, await nameFile(paths, name), `${JSON.stringify(record)}\n`);
  // Tags only, as Podman's NamesHistory: a digest is RepoDigests'.
  if (ref.digest === undefined) appendNameHistory(paths, image, name);
}

function parseRecord(text: string, file: string): StoredName | undefined {
  try {
    const r = JSON.parse(text) as NameRecord;
    return { name: r.name, image: r.image, ref: parseReference(r.name, { implicitLatest: false }), file };
  } catch {
    return undefined; // not ours, or damaged by hand: a name that names nothing
  }
}

export async function readName(paths: StorePaths, ref: ImageReference): Promise<StoredName | undefined> {
  const file = await nameFile(paths, canonicalNameOf(ref));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  return parseRecord(text, file);
}

/** Every name in the store. */
export function listNames(paths: StorePaths): StoredName[] {
  let files: string[];
  try {
    files = readdirSync(paths.names);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: StoredName[] = [];
  for (const f of files) {
    if (!f.endsWith('.json')) continue;
    const file = path.join(paths.names, f);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue; // untagged meanwhile
      throw err;
    }
    const record = parseRecord(text, file);
    if (record) out.push(record);
  }
  return out;
}

/** Removes a name. Callers hold the exclusive store lock, so no pull or tag re-points it meanwhile. */
export function removeName(name: StoredName): void {
  rmSync(name.file, { force: true });
}
