// Finding images by name, short name, id and id prefix; names as files; the
// atomic write primitives.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseReference } from '../../lib/oci/reference.js';
import { cleanTmp, makeTmpDir, renameDirIntoPlace, writeFileAtomic } from '../../lib/store/atomic.js';
import { writeImageRecord, type ImageRecord } from '../../lib/store/images.js';
import { findImage } from '../../lib/store/lookup.js';
import { listNames, readName, writeName } from '../../lib/store/names.js';
import { currentStoreLocations, storeLocations } from '../../lib/store/paths.js';
import type { Store } from '../../lib/store/store.js';
import { removeStore, tempStore } from './helpers/store-fixtures.js';

let store: Store;
afterEach(() => removeStore(store));

function record(hex: string): ImageRecord {
  return { id: `sha256:${hex.padEnd(64, '0')}`, manifest: `sha256:${'f'.repeat(64)}`, manifestMediaType: 'x', layers: [], size: 0, pulled: '2024-01-01T00:00:00Z' };
}

async function name(text: string, image: ImageRecord): Promise<void> {
  await writeName(store.paths, parseReference(text), image.id);
}

describe('findImage', () => {
  it('finds by full name, by a short name on any registry, by id, by "sha256:" id and by a unique prefix', async () => {
    store = tempStore();
    const a = record('abc1');
    const b = record('abd2');
    writeImageRecord(store.paths, a);
    writeImageRecord(store.paths, b);
    await name('127.0.0.1:5000/busybox:latest', a);
    await name('docker.io/library/alpine:3', b);

    expect((await findImage(store, '127.0.0.1:5000/busybox')).record.id).toBe(a.id);
    expect((await findImage(store, 'busybox')).name?.name).toBe('127.0.0.1:5000/busybox:latest');
    expect((await findImage(store, 'alpine:3')).record.id).toBe(b.id);
    expect((await findImage(store, a.id)).record.id).toBe(a.id);
    expect((await findImage(store, a.id.slice(7))).record.id).toBe(a.id);
    expect((await findImage(store, 'abc')).record.id).toBe(a.id);
    expect((await findImage(store, 'sha256:abd')).record.id).toBe(b.id);
  });

  it('prefers a name over an id prefix, as Docker does', async () => {
    store = tempStore();
    const a = record('abc1');
    const b = record('fed2');
    writeImageRecord(store.paths, a);
    writeImageRecord(store.paths, b);
    await name('abc', b);
    expect((await findImage(store, 'abc')).record.id).toBe(b.id);
  });

  it('says which id prefix is ambiguous, what is missing, and what is malformed, in one line', async () => {
    store = tempStore();
    writeImageRecord(store.paths, record('abc1'));
    writeImageRecord(store.paths, record('abd2'));
    await expect(findImage(store, 'ab')).rejects.toThrow('image id prefix "ab" is ambiguous: it matches 2 images; give more characters');
    await expect(findImage(store, 'nothere')).rejects.toThrow('no such image: nothere:latest');
    await expect(findImage(store, 'sha256:99')).rejects.toThrow('no such image: sha256:99');
    await expect(findImage(store, 'Bad//Name')).rejects.toThrow(/^invalid reference format "Bad\/\/Name"/);
  });

  it('refuses a short name that two repositories carry', async () => {
    store = tempStore();
    const a = record('abc1');
    const b = record('abd2');
    writeImageRecord(store.paths, a);
    writeImageRecord(store.paths, b);
    await name('one.test/app:1', a);
    await name('two.test/app:1', b);
    await expect(findImage(store, 'app:1')).rejects.toThrow('short name "app:1" matches images in several repositories (one.test/app:1, two.test/app:1): use the full name');
  });

  it('ignores a name whose image is gone', async () => {
    store = tempStore();
    await name('reg.test/ghost:1', record('dead'));
    await expect(findImage(store, 'reg.test/ghost:1')).rejects.toThrow('no such image: reg.test/ghost:1');
  });
});

describe('names', () => {
  it('keeps one file per name, re-pointed atomically, and names too long for a file name by their digest', async () => {
    store = tempStore();
    const a = record('abc1');
    const b = record('abd2');
    await name('reg.test/app:1', a);
    await name('reg.test/app:1', b);
    const long = `reg.test/${'x'.repeat(150)}/${'y'.repeat(100)}:${'t'.repeat(120)}`;
    await name(long, a);
    expect((await readName(store.paths, parseReference('reg.test/app:1')))?.image).toBe(b.id);
    expect((await readName(store.paths, parseReference(long)))?.image).toBe(a.id);
    const files = fs.readdirSync(store.paths.names).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^#[a-f0-9]{64}\.json$/);
    expect(files[1]).toBe('reg.test+app:1.json');
    expect(listNames(store.paths).map((n) => n.name).sort()).toEqual(['reg.test/app:1', long].sort());
  });
});

describe('atomic writes', () => {
  it('writes through a temp file renamed into place, leaving nothing in tmp/', () => {
    store = tempStore();
    const dest = path.join(store.paths.root, 'file');
    writeFileAtomic(store.paths, dest, 'one');
    writeFileAtomic(store.paths, dest, 'two');
    expect(fs.readFileSync(dest, 'utf8')).toBe('two');
    expect(fs.readdirSync(store.paths.tmp)).toEqual([]);
  });

  it('tells a finished directory from one another process put there first', () => {
    store = tempStore();
    const dest = path.join(store.paths.layers, 'x');
    const first = makeTmpDir(store.paths);
    fs.writeFileSync(path.join(first, 'f'), '1');
    const second = makeTmpDir(store.paths);
    fs.writeFileSync(path.join(second, 'f'), '2');
    expect(renameDirIntoPlace(first, dest)).toBe(true);
    expect(renameDirIntoPlace(second, dest)).toBe(false);
    expect(fs.readFileSync(path.join(dest, 'f'), 'utf8')).toBe('1');
  });

  it('cleans the temp entries of dead processes only, or all of them when told no writer runs', () => {
    store = tempStore();
    const mine = makeTmpDir(store.paths);
    // pid 2^22+1 is above the kernel's pid_max limit: never alive.
    const dead = path.join(store.paths.tmp, `${4194305}-1-deadbeef-layer`);
    fs.mkdirSync(path.join(dead, 'diff'), { recursive: true });
    fs.writeFileSync(path.join(store.paths.tmp, 'junk-without-pid'), '');
    expect(cleanTmp(store.paths)).toBe(2);
    expect(fs.readdirSync(store.paths.tmp)).toEqual([path.basename(mine)]);
    expect(cleanTmp(store.paths, true)).toBe(1);
    expect(fs.readdirSync(store.paths.tmp)).toEqual([]);
  });
});

describe('store locations', () => {
  it('follows SKIFF_ROOT, then XDG_DATA_HOME, then ~/.local/share; root uses /var/lib/skiff', () => {
    store = tempStore();
    const user = { uid: 1000, home: '/home/a' };
    expect(storeLocations(user, {}).graphRoot).toBe('/home/a/.local/share/skiff');
    expect(storeLocations(user, { XDG_DATA_HOME: '/data' }).graphRoot).toBe('/data/skiff');
    expect(storeLocations(user, { XDG_DATA_HOME: 'relative' }).graphRoot).toBe('/home/a/.local/share/skiff');
    expect(storeLocations(user, { SKIFF_ROOT: '/t/s', XDG_DATA_HOME: '/data' }).graphRoot).toBe('/t/s');
    expect(storeLocations({ uid: 0, home: '/root' }, {})).toEqual({ graphRoot: '/var/lib/skiff', runRoot: '/run/skiff' });
    expect(storeLocations(user, { XDG_RUNTIME_DIR: '/run/user/1000' }).runRoot).toBe('/run/user/1000/skiff');
    expect(storeLocations(user, {}).runRoot).toBe('/tmp/skiff-1000');
    expect(currentStoreLocations({ SKIFF_ROOT: '/x', HOME: '/h' }).graphRoot).toBe('/x');
  });
});
