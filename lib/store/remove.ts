// rmi and image prune, with Docker's rules (daemon/images/image_delete.go):
// removing a name untags; removing the last tag of a repository also drops
// that repository's digest names; an image is deleted when no name is left,
// or when named by id and all its names are one repository's; a used image
// needs -f, and a running container's image cannot be removed at all. A
// deleted image's parents (a build's step images) go with it while nothing
// names them, no other image grows from them and no container uses them
// (Docker's prune of parents; rmi --no-prune keeps them); image prune leaves
// an unnamed image that has children to go with its last child.
// Everything here runs under the exclusive store lock.
import { EXIT_SKIFF_FAILED, SkiffError } from '../errors.js';
import { familiarName, formatReference } from '../oci/reference.js';
import { imageEvent } from '../events/log.js';
import { removeBlob } from './blobs.js';
import { shortDigest } from './digest.js';
import { collectGarbage } from './gc.js';
import { prunableByFilters, type PruneFilters } from './image-filter.js';
import { listImageRecords, removeImageRecord, type ImageRecord } from './images.js';
import { removeLayer } from './layers.js';
import type { StoreLock } from './lock.js';
import { findImage } from './lookup.js';
import { listNames, removeName, type StoredName } from './names.js';
import type { Store } from './store.js';
import { layersInUse, NO_CONTAINERS, type ContainerUsage, type ImageUser } from './usage.js';

export interface RemoveEvent {
  kind: 'untagged' | 'deleted';
  /** A familiar name for "untagged", a digest for "deleted". */
  value: string;
}

/**
 * What containers use comes from the caller (the store cannot see them):
 * `rmi` and `image prune` pass lib/containers' answer; without it, no
 * container uses anything.
 */
export interface RemoveOptions extends Partial<ContainerUsage> {
  force?: boolean;
  /** rmi --no-prune: keep a deleted image's unnamed parents. */
  noPrune?: boolean;
  /**
   * rmi --all (Podman's rmi -a): an image named by id goes with every name it
   * has, where rmi ID alone refuses an image of several repositories; a
   * container using it still needs force.
   */
  everyName?: boolean;
}

export interface RemoveResult {
  events: RemoveEvent[];
  /** One line per argument that failed, in order. */
  errors: SkiffError[];
  reclaimed: number;
}

const repoOf = (n: StoredName) => `${n.ref.registry}/${n.ref.repository}`;

function namesOf(store: Store, id: string): StoredName[] {
  return listNames(store.paths).filter((n) => n.image === id);
}

function untag(name: StoredName, events: RemoveEvent[]): void {
  removeName(name);
  events.push({ kind: 'untagged', value: familiarName(name.ref) });
  imageEvent('untag', name.image, formatReference(name.ref));
}

/** Docker's isSingleReference: at most one tag, and every name in one repository. */
function isSingleReference(names: StoredName[]): boolean {
  if (names.length <= 1) return names.length === 1;
  const tags = names.filter((n) => n.ref.digest === undefined);
  if (tags.length > 1) return false;
  const repos = new Set(names.map(repoOf));
  return repos.size === 1;
}

function conflict(id: string, users: ImageUser[], hardOnly: boolean, multipleNames: boolean): SkiffError | undefined {
  const running = users.find((u) => u.running);
  if (running) return new SkiffError(`conflict: unable to delete ${shortDigest(id)} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`, EXIT_SKIFF_FAILED, 'conflict');
  if (hardOnly) return undefined;
  if (multipleNames) return new SkiffError(`conflict: unable to delete ${shortDigest(id)} (must be forced) - image is referenced in multiple repositories`);
  const stopped = users[0];
  if (stopped) return new SkiffError(`conflict: unable to delete ${shortDigest(id)} (must be forced) - image is being used by stopped container ${stopped.id.slice(0, 12)}`, EXIT_SKIFF_FAILED, 'conflict');
  return undefined;
}

/** Deletes an image with no names left, then its layers and blobs that nothing else uses. */
function deleteImage(store: Store, record: ImageRecord, containerLayers: ContainerUsage['containerLayers'], events: RemoveEvent[]): number {
  const p = store.paths;
  removeImageRecord(p, record.id);
  events.push({ kind: 'deleted', value: record.id });
  imageEvent('remove', record.id);
  let reclaimed = 0;
  const used = layersInUse(store, containerLayers());
  for (const diffID of new Set(record.layers)) {
    if (used.has(diffID)) continue;
    reclaimed += removeLayer(p, diffID);
    events.push({ kind: 'deleted', value: diffID });
  }
  const others = listImageRecords(p);
  for (const blob of [record.id, record.manifest, record.index]) {
    if (blob === undefined || others.some((o) => o.id === blob || o.manifest === blob || o.index === blob)) continue;
    reclaimed += removeBlob(p, blob);
  }
  return reclaimed;
}

/**
 * After `record` was deleted: its parent too when nothing names it, no other
 * image is its child and no container uses it, then that one's parent, and
 * so on (Docker's imageDeleteHelper with prune).
 */
function deleteUnnamedParents(store: Store, record: ImageRecord, usage: ContainerUsage, events: RemoveEvent[]): number {
  let reclaimed = 0;
  const names = listNames(store.paths);
  const remaining = new Map(listImageRecords(store.paths).map((r) => [r.id, r]));
  for (let id = record.parent; id !== undefined; ) {
    const parent = remaining.get(id);
    if (!parent) break;
    if (names.some((n) => n.image === id)) break;
    if ([...remaining.values()].some((r) => r.parent === id)) break;
    if (usage.users(store, id).length > 0) break;
    reclaimed += deleteImage(store, parent, usage.containerLayers, events);
    remaining.delete(id);
    id = parent.parent;
  }
  return reclaimed;
}

async function removeOne(store: Store, text: string, force: boolean, noPrune: boolean, everyName: boolean, usage: ContainerUsage, events: RemoveEvent[]): Promise<number> {
  const found = await findImage(store, text);
  const id = found.record.id;
  const users = usage.users(store, id);
  let names = namesOf(store, id);
  let quiet = false;
  if (found.name) {
    const named = found.name;
    if (users.length > 0 && !force && isSingleReference(names)) {
      throw new SkiffError(
        `conflict: unable to remove repository reference "${text}" (must force) - container ${users[0]!.id.slice(0, 12)} is using its referenced image ${shortDigest(id)}`,
        EXIT_SKIFF_FAILED,
        'conflict',
      );
    }
    untag(named, events);
    names = names.filter((n) => n.file !== named.file);
    if (named.ref.digest === undefined && !names.some((n) => n.ref.digest === undefined && repoOf(n) === repoOf(named))) {
      for (const n of names.filter((d) => d.ref.digest !== undefined && repoOf(d) === repoOf(named))) untag(n, events);
      names = namesOf(store, id);
    }
    if (names.length > 0) return 0;
    quiet = true;
  } else if (isSingleReference(names)) {
    const c = conflict(id, users, force, false);
    if (c) throw c;
    for (const n of names) untag(n, events);
    names = [];
  }
  const c = conflict(id, users, force, names.length > 0 && !everyName);
  if (c) {
    // The last name is gone but a container still uses the image: it stays, dangling.
    if (quiet) return 0;
    throw c;
  }
  for (const n of names) untag(n, events);
  const reclaimed = deleteImage(store, found.record, usage.containerLayers, events);
  return reclaimed + (noPrune ? 0 : deleteUnnamedParents(store, found.record, usage, events));
}

function containerUsage(opts: Partial<ContainerUsage>): ContainerUsage {
  return { users: opts.users ?? NO_CONTAINERS.users, containerLayers: opts.containerLayers ?? NO_CONTAINERS.containerLayers };
}

/** `rmi [-f] REF…`: each argument in turn; a failure is reported and the next one tried. */
export async function removeImages(store: Store, lock: StoreLock, texts: string[], opts: RemoveOptions = {}): Promise<RemoveResult> {
  if (lock.mode !== 'exclusive') throw new Error('internal: removing images needs the exclusive store lock');
  const usage = containerUsage(opts);
  const result: RemoveResult = { events: [], errors: [], reclaimed: 0 };
  for (const text of texts) {
    try {
      result.reclaimed += await removeOne(store, text, opts.force === true, opts.noPrune === true, opts.everyName === true, usage, result.events);
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      result.errors.push(err);
    }
  }
  result.reclaimed += collectGarbage(store, lock, usage.containerLayers()).reclaimed;
  return result;
}

export interface PruneOptions extends Partial<ContainerUsage> {
  /** Every image no container uses, not only the dangling ones (those without a tag). */
  all?: boolean;
  /** --filter until= label= label!=: only images these let go. */
  filters?: PruneFilters;
}

/** `image prune [-a]`. */
export function pruneImages(store: Store, lock: StoreLock, opts: PruneOptions = {}): { events: RemoveEvent[]; reclaimed: number } {
  if (lock.mode !== 'exclusive') throw new Error('internal: pruning images needs the exclusive store lock');
  const usage = containerUsage(opts);
  const events: RemoveEvent[] = [];
  let reclaimed = 0;
  const names = listNames(store.paths);
  const records = listImageRecords(store.paths);
  const gone = new Set<string>();
  for (const record of records) {
    if (gone.has(record.id)) continue;
    const own = names.filter((n) => n.image === record.id);
    const dangling = !own.some((n) => n.ref.digest === undefined);
    if ((!dangling && !opts.all) || usage.users(store, record.id).length > 0) continue;
    // Docker: an unnamed image with children (a build step under a tagged image) is not dangling; it goes with its last child.
    if (own.length === 0 && records.some((r) => r.parent === record.id && !gone.has(r.id))) continue;
    if (opts.filters && !prunableByFilters(store, record, opts.filters)) continue;
    for (const n of own) untag(n, events);
    const before = events.length;
    reclaimed += deleteImage(store, record, usage.containerLayers, events);
    reclaimed += deleteUnnamedParents(store, record, usage, events);
    for (const e of events.slice(before)) gone.add(e.value);
  }
  reclaimed += collectGarbage(store, lock, usage.containerLayers()).reclaimed;
  return { events, reclaimed };
}
