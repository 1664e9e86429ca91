// rmi and image prune with Docker's rules, and garbage collection: shared
// layers stay while an image uses them; nothing else is left behind.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseReference } from '../../lib/oci/reference.js';
import { lockStore, type StoreLock } from '../../lib/store/lock.js';
import { writeName } from '../../lib/store/names.js';
import { pruneImages, removeImages, type RemoveEvent } from '../../lib/store/remove.js';
import { storeImage } from '../../lib/store/image-write.js';
import type { ImageConfig } from '../../lib/oci/image-spec.js';
import type { Store } from '../../lib/store/store.js';
import { layersInUse } from '../../lib/store/usage.js';
import { buildImage, fakeClient, pullInto, removeStore, storeListing, tempStore, type BuiltImage } from './helpers/store-fixtures.js';

let store: Store;
let lock: StoreLock;
let base: BuiltImage;
let app: BuiltImage;
let tool: BuiltImage;

const entries = (name: string) => [{ name, data: `${name}\n` }];
const baseLayer = { compression: 'gzip' as const, entries: entries('base') };

beforeEach(async () => {
  store = tempStore();
  base = buildImage({ format: 'oci', layers: [baseLayer], imageConfig: { created: '2024-01-01T00:00:00Z' } });
  app = buildImage({ format: 'oci', layers: [baseLayer, { compression: 'gzip', entries: entries('app') }], imageConfig: { created: '2024-02-01T00:00:00Z' } });
  tool = buildImage({ format: 'docker', layers: [{ compression: 'gzip', entries: entries('tool') }], imageConfig: { created: '2024-03-01T00:00:00Z' } });
  const client = fakeClient({ 'reg.test/base:1': base, 'reg.test/app:1': app, 'reg.test/tool:1': tool });
  for (const ref of ['reg.test/base:1', 'reg.test/app:1', 'reg.test/tool:1']) await pullInto(store, client, ref);
  lock = await lockStore(store.paths, 'exclusive');
});

afterEach(() => {
  lock.release();
  removeStore(store);
});

const untagged = (value: string): RemoveEvent => ({ kind: 'untagged', value });
const deleted = (value: string): RemoveEvent => ({ kind: 'deleted', value });

describe('rmi', () => {
  it('untags a name when the image has others, and deletes it with its unused layer and blobs when it was the last', async () => {
    await writeName(store.paths, parseReference('reg.test/app:2'), app.configDigest);
    const first = await removeImages(store, lock, ['reg.test/app:1']);
    expect(first.events).toEqual([untagged('reg.test/app:1')]);
    expect(first.errors).toEqual([]);

    const second = await removeImages(store, lock, ['reg.test/app:2']);
    expect(second.events).toEqual([
      untagged('reg.test/app:2'),
      untagged(`reg.test/app@${app.manifestDigest}`),
      deleted(app.configDigest),
      deleted(app.layers[1]!.diffId),
    ]);
    // The layer's content (4 bytes), the config, the manifest and the layer's blob the pull kept.
    expect(second.reclaimed).toBe(4 + app.configBytes.length + app.manifestBytes.length + app.layers[1]!.size);
    const listing = storeListing(store);
    expect(listing.layers).toContain(base.layers[0]!.diffId.slice(7)); // still used by base
    expect(listing.layers).not.toContain(app.layers[1]!.diffId.slice(7));
    expect(listing.blobs).not.toContain(app.configDigest.slice(7));
    expect(listing.blobs).not.toContain(app.manifestDigest.slice(7));
    expect(listing.blobs).not.toContain(app.layers[1]!.digest.slice(7));
    expect(listing.blobs).toContain(base.layers[0]!.digest.slice(7));
    expect(listing.images).toHaveLength(2);
  });

  it('removes the shared layer with the last image that uses it', async () => {
    await removeImages(store, lock, ['reg.test/app:1']);
    const r = await removeImages(store, lock, ['reg.test/base:1']);
    expect(r.events.at(-1)).toEqual(deleted(base.layers[0]!.diffId));
    expect(storeListing(store).layers).toEqual([tool.layers[0]!.diffId.slice(7)]);
    expect(layersInUse(store)).toEqual(new Set([tool.layers[0]!.diffId]));
  });

  it('deletes by id when all names are one repository\'s, and needs -f when they span several', async () => {
    const byId = await removeImages(store, lock, [tool.configDigest.slice(7, 19)]);
    expect(byId.events.map((e) => e.kind)).toEqual(['untagged', 'untagged', 'deleted', 'deleted']);

    await writeName(store.paths, parseReference('other.test/base:x'), base.configDigest);
    const refused = await removeImages(store, lock, [base.configDigest]);
    expect(refused.errors.map((e) => e.message)).toEqual([`conflict: unable to delete ${base.configDigest.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`]);
    expect(refused.events).toEqual([]);
    const forced = await removeImages(store, lock, [base.configDigest], { force: true });
    expect(forced.events.filter((e) => e.kind === 'untagged')).toHaveLength(3);
    expect(forced.events).toContainEqual(deleted(base.configDigest));
    expect(storeListing(store).layers).toContain(base.layers[0]!.diffId.slice(7)); // app still uses it
  });

  it('refuses an image a container uses without -f, and one a running container uses even with -f', async () => {
    const users = (_s: Store, id: string) => (id === tool.configDigest ? [{ id: 'c0ffee'.padEnd(64, '0'), running: false }] : []);
    const r = await removeImages(store, lock, ['reg.test/tool:1'], { users });
    expect(r.errors[0]?.message).toBe(`conflict: unable to remove repository reference "reg.test/tool:1" (must force) - container c0ffee000000 is using its referenced image ${tool.configDigest.slice(7, 19)}`);
    const byId = await removeImages(store, lock, [tool.configDigest], { users });
    expect(byId.errors[0]?.message).toBe(`conflict: unable to delete ${tool.configDigest.slice(7, 19)} (must be forced) - image is being used by stopped container c0ffee000000`);
    // -f overrides a stopped container, as in Docker (the container keeps its layers through layersInUse).
    const forced = await removeImages(store, lock, ['reg.test/tool:1'], { users, force: true });
    expect(forced.events.slice(0, 3)).toEqual([untagged('reg.test/tool:1'), untagged(`reg.test/tool@${tool.manifestDigest}`), deleted(tool.configDigest)]);

    const running = (_s: Store, id: string) => (id === base.configDigest ? [{ id: 'beef'.padEnd(64, '0'), running: true }] : []);
    const hard = await removeImages(store, lock, [base.configDigest], { users: running, force: true });
    expect(hard.errors[0]?.message).toBe(`conflict: unable to delete ${base.configDigest.slice(7, 19)} (cannot be forced) - image is being used by running container beef00000000`);
    const byName = await removeImages(store, lock, ['reg.test/base:1'], { users: running, force: true });
    expect(byName.events).toEqual([untagged('reg.test/base:1'), untagged(`reg.test/base@${base.manifestDigest}`)]);
    expect(storeListing(store).images).toContain(`${base.configDigest.slice(7)}.json`);
  });

  it('reports each failing argument and goes on with the others', async () => {
    const r = await removeImages(store, lock, ['nope', 'reg.test/tool:1', 'Bad:Ref']);
    expect(r.errors.map((e) => e.message)).toEqual(['no such image: nope:latest', 'invalid reference format "Bad:Ref": repository name must be lowercase']);
    expect(r.events).toContainEqual(deleted(tool.configDigest));
  });

  it('collects layers and blobs a killed pull left unnamed, and the junk in tmp/', async () => {
    const stray = path.join(store.paths.layers, 'a'.repeat(64));
    fs.mkdirSync(path.join(stray, 'diff'), { recursive: true });
    fs.writeFileSync(path.join(store.paths.blobs, 'b'.repeat(64)), '{}');
    fs.mkdirSync(path.join(store.paths.tmp, `${process.pid}-9-00000000-layer`));
    await removeImages(store, lock, ['reg.test/tool:1']);
    const listing = storeListing(store);
    expect(listing.layers).not.toContain('a'.repeat(64));
    expect(listing.blobs).not.toContain('b'.repeat(64));
    expect(listing.tmp).toEqual([]);
  });
});

/**
 * A build's chain over the named base: step images that only change the
 * config, each the parent of the next (Docker's Parent), the last named.
 */
async function buildChain(names: string[], steps: number, from = base.configDigest): Promise<string[]> {
  const ids: string[] = [];
  let parent = from;
  for (let i = 0; i < steps; i++) {
    const config = { ...(JSON.parse(base.configBytes.toString('utf8')) as ImageConfig), created: `2024-04-0${i + 1}T00:00:00Z`, config: { Env: [`STEP=${i}`, `CHAIN=${names.join(',')}`] } };
    parent = (await storeImage(store, { config, parent })).id;
    ids.push(parent);
  }
  for (const n of names) await writeName(store.paths, parseReference(n), parent);
  return ids;
}

describe('the steps of a build (Docker\'s parents)', () => {
  it('rmi deletes the image and its unnamed parents, up to one that is named, has another child, or a container uses; --no-prune keeps them', async () => {
    const [s1, s2, top] = await buildChain(['reg.test/built:1'], 3);
    const r = await removeImages(store, lock, ['reg.test/built:1']);
    expect(r.events).toEqual([untagged('reg.test/built:1'), deleted(top!), deleted(s2!), deleted(s1!)]);
    expect(storeListing(store).images).toHaveLength(3); // base, app, tool

    const [a1, a2] = await buildChain(['reg.test/one:1'], 2);
    const [b1] = await buildChain(['reg.test/two:1'], 1, a1);
    const one = await removeImages(store, lock, ['reg.test/one:1']);
    expect(one.events).toEqual([untagged('reg.test/one:1'), deleted(a2!)]); // a1 is two's parent
    const two = await removeImages(store, lock, ['reg.test/two:1']);
    expect(two.events).toEqual([untagged('reg.test/two:1'), deleted(b1!), deleted(a1!)]);

    const [c1, c2] = await buildChain(['reg.test/used:1'], 2);
    const users = (_s: Store, id: string) => (id === c1 ? [{ id: 'c'.repeat(64), running: false }] : []);
    expect((await removeImages(store, lock, ['reg.test/used:1'], { users })).events).toEqual([untagged('reg.test/used:1'), deleted(c2!)]);

    const [d1, d2] = await buildChain(['reg.test/kept:1'], 2);
    expect((await removeImages(store, lock, ['reg.test/kept:1'], { noPrune: true })).events).toEqual([untagged('reg.test/kept:1'), deleted(d2!)]);
    expect(storeListing(store).images).toContain(`${d1!.slice(7)}.json`);
  });

  it('image prune keeps the steps under a named image, and takes a dangling image\'s with it', async () => {
    const [s1, s2] = await buildChain(['reg.test/built:1'], 2);
    expect(pruneImages(store, lock).events).toEqual([]);
    fs.rmSync(path.join(store.paths.names, 'reg.test+built:1.json'));
    expect(pruneImages(store, lock).events).toEqual([deleted(s2!), deleted(s1!)]);
    expect(storeListing(store).images).toHaveLength(3);
  });
});

describe('image prune', () => {
  it('removes dangling images only, or every unused image with -a', async () => {
    // A dangling image: its tag moved on (here: removed by hand), its digest name stays.
    const dangling = buildImage({ format: 'oci', layers: [{ compression: 'none', entries: entries('dangling') }] });
    lock.release();
    await pullInto(store, fakeClient({ 'reg.test/d:1': dangling }), 'reg.test/d:1');
    lock = await lockStore(store.paths, 'exclusive');
    fs.rmSync(path.join(store.paths.names, 'reg.test+d:1.json'));

    const some = pruneImages(store, lock);
    expect(some.events).toEqual([untagged(`reg.test/d@${dangling.manifestDigest}`), deleted(dangling.configDigest), deleted(dangling.layers[0]!.diffId)]);
    expect(storeListing(store).images).toHaveLength(3);

    const all = pruneImages(store, lock, { all: true });
    expect(all.events.filter((e) => e.kind === 'untagged')).toHaveLength(6);
    expect(all.events.filter((e) => e.kind === 'deleted')).toHaveLength(3 + 3);
    expect(storeListing(store)).toEqual({ blobs: [], layers: [], images: [], names: [], tmp: [] });
  });

  it('keeps images containers use', () => {
    const users = (_s: Store, id: string) => (id === base.configDigest ? [{ id: 'c'.repeat(64), running: false }] : []);
    pruneImages(store, lock, { all: true, users });
    expect(storeListing(store).images).toEqual([`${base.configDigest.slice(7)}.json`]);
    expect(storeListing(store).layers).toEqual([base.layers[0]!.diffId.slice(7)]);
  });
});
