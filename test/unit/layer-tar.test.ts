// A stored layer gives back its exact tar (the tar-split), the parallel gzip
// is plain gzip, and storeLayerFromTar stores a verified layer and blob or
// nothing.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ParallelGzip } from '../../lib/store/compress.js';
import { collectGarbage } from '../../lib/store/gc.js';
import { openLayerTar } from '../../lib/store/layer-read.js';
import { storeLayer, storeLayerFromTar } from '../../lib/store/layer-write.js';
import { layerDir, readLayerMeta } from '../../lib/store/layers.js';
import { blobPath } from '../../lib/store/blobs.js';
import type { Store } from '../../lib/store/store.js';
import { removeStore, storeListing, tempStore, useBuiltHelper } from './helpers/store-fixtures.js';
import { chunked, makeTar, type TarMember } from './helpers/make-tar.js';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const isRoot = process.getuid?.() === 0;
let store: Store;

beforeAll(() => useBuiltHelper());
afterEach(() => {
  if (store) removeStore(store);
});

/** Stores `tar` as pull does (storeLayer, an uncompressed blob); returns its diffID. */
async function pullTar(tar: Buffer): Promise<string> {
  store = tempStore();
  const diffID = sha256(tar);
  const blob = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: diffID, size: tar.length };
  await storeLayer({ store, source: chunked(tar, [1000, 513]), blob, diffID, chown: isRoot, canMknod: isRoot });
  return diffID;
}

const file = (name: string, data: string | Buffer, extra: Partial<TarMember> = {}): TarMember => ({ name, data, mode: 0o644, ...extra });

describe('a pulled layer gives back its exact tar', () => {
  const cases: Record<string, Buffer> = {
    'files, directories, links and PAX records': makeTar([
      { name: 'etc/', type: '5', mode: 0o755 },
      file('etc/hostname', 'box\n'),
      file('etc/empty', ''),
      { name: 'etc/link', type: '2', linkname: 'hostname' },
      { name: 'etc/hard', type: '1', linkname: 'etc/hostname' },
      file('etc/long', randomBytes(70_000)),
      file('etc/short', 'long name', { pax: { path: `etc/${'n'.repeat(150)}`, 'SCHILY.xattr.user.k': 'v' } }),
    ]),
    'whiteouts, an opaque directory and a FIFO': makeTar([
      { name: 'd/', type: '5' },
      file('d/.wh..wh..opq', ''),
      file('.wh.gone', ''),
      { name: 'fifo', type: '6' },
    ]),
    'a file replaced by a later member, and its hard link kept': makeTar([
      file('a', 'first content'),
      { name: 'b', type: '1', linkname: 'a' },
      file('a', 'second, longer content'),
      file('c', 'will be a directory'),
      { name: 'c/', type: '5' },
    ]),
    'skipped AUFS metadata with data, and bytes after the end blocks': makeTar(
      [file('.wh..wh.aufs', 'aufs data'), file('x', 'x')],
      { trailer: Buffer.from('junk after the end') },
    ),
    'no end blocks at all': makeTar([file('x', 'x')], { end: false }),
    // Many files, empty ones, and files of more than one read (1 MiB) between them: all in order.
    'many files, with large ones between': makeTar([
      { name: 'm/', type: '5' },
      ...Array.from({ length: 100 }, (_, i) =>
        file(`m/${i}`, i % 17 === 0 ? randomBytes((1 << 20) + 1 + i) : i % 5 === 0 ? '' : randomBytes(1 + ((i * 7919) % 300_000))),
      ),
    ]),
  };
  for (const [what, tar] of Object.entries(cases)) {
    it(what, async () => {
      const diffID = await pullTar(tar);
      expect(fs.existsSync(path.join(layerDir(store.paths, diffID), 'tar-split.gz'))).toBe(true);
      const back = await buffer(await openLayerTar(store.paths, diffID));
      expect(back.equals(tar)).toBe(true);
    });
  }

  it('fails, rather than ends, when a file of the layer changed', async () => {
    const diffID = await pullTar(makeTar([file('a', 'hello'), file('b', 'world')]));
    const a = path.join(layerDir(store.paths, diffID), 'diff/b');
    fs.chmodSync(a, 0o644);
    fs.writeFileSync(a, 'WORLD');
    await expect(buffer(await openLayerTar(store.paths, diffID))).rejects.toThrow(
      new RegExp(`^layer ${diffID} in the store does not match its diffID`),
    );
    fs.writeFileSync(a, 'WORLD!');
    await expect(buffer(await openLayerTar(store.paths, diffID))).rejects.toThrow(/has a changed file "b"/);
    fs.rmSync(a);
    await expect(buffer(await openLayerTar(store.paths, diffID))).rejects.toThrow(/has lost "b"/);
    // A link where the file was is not followed.
    fs.symlinkSync('a', a);
    await expect(buffer(await openLayerTar(store.paths, diffID))).rejects.toThrow(/has lost "b"/);
  });

  it('fails when one of many files changed size, and when a large file changed its bytes', async () => {
    const members = [...Array.from({ length: 40 }, (_, i) => file(`f${i}`, `content ${i}`)), file('big', randomBytes((1 << 20) + 5))];
    const diffID = await pullTar(makeTar(members));
    const diff = path.join(layerDir(store.paths, diffID), 'diff');
    fs.writeFileSync(path.join(diff, 'f30'), 'changed size');
    await expect(buffer(await openLayerTar(store.paths, diffID))).rejects.toThrow(/has a changed file "f30"/);
    fs.writeFileSync(path.join(diff, 'f30'), 'content 30');
    fs.writeFileSync(path.join(diff, 'big'), randomBytes((1 << 20) + 5));
    await expect(buffer(await openLayerTar(store.paths, diffID))).rejects.toThrow(/does not match its diffID/);
  });

  it('says so for a layer stored without a tar-split', async () => {
    const diffID = await pullTar(makeTar([file('a', 'hello')]));
    fs.rmSync(path.join(layerDir(store.paths, diffID), 'tar-split.gz'));
    await expect(openLayerTar(store.paths, diffID)).rejects.toThrow(/was stored by an older skiff, which kept no copy of its tar/);
  });
});

describe('parallel gzip', () => {
  for (const size of [0, 1, 1 << 20, (1 << 20) + 1, 5 * (1 << 20) + 12345]) {
    it(`${size} bytes: one gzip member, the same bytes back, the same output every time`, async () => {
      const data = Buffer.concat([randomBytes(Math.floor(size / 2)), Buffer.alloc(size - Math.floor(size / 2), 'text ')]);
      const gz1 = await buffer(Readable.from([data.subarray(0, 7), data.subarray(7)]).pipe(new ParallelGzip(6, 4)));
      const gz2 = await buffer(chunked(data, [100_000]).pipe(new ParallelGzip(6, 2)));
      expect(gz1.equals(gz2)).toBe(true);
      expect(gunzipSync(gz1).equals(data)).toBe(true);
      // gzip -t agrees (one member: its trailer's CRC and size cover everything).
      execFileSync('gzip', ['-t'], { input: gz1 });
    });
  }
});

describe('storeLayerFromTar', () => {
  const tar = makeTar([{ name: 'app/', type: '5' }, file('app/main', 'echo hi\n', { mode: 0o755, uid: 0 }), file('.wh.old', '')]);

  for (const compression of ['gzip', 'zstd'] as const) {
    it(`stores the layer and a ${compression} blob of it, both verified`, async () => {
      store = tempStore();
      const got = await storeLayerFromTar({ store, source: chunked(tar, [300]), compression, chown: isRoot, canMknod: isRoot });
      expect(got.meta.diffID).toBe(sha256(tar));
      expect(got.empty).toBe(false);
      expect(got.committed).toBe(true);
      const blob = fs.readFileSync(blobPath(store.paths, got.blob.digest));
      expect(sha256(blob)).toBe(got.blob.digest);
      expect(got.blob.size).toBe(blob.length);
      expect(got.blob.mediaType).toBe(`application/vnd.oci.image.layer.v1.tar+${compression}`);
      const unpacked = compression === 'gzip' ? gunzipSync(blob) : execFileSync('zstd', ['-dc'], { input: blob });
      expect(unpacked.equals(tar)).toBe(true);
      expect(readLayerMeta(store.paths, got.meta.diffID)?.compressed).toEqual([got.blob]);
      expect(fs.readFileSync(path.join(layerDir(store.paths, got.meta.diffID), 'diff/app/main'), 'utf8')).toBe('echo hi\n');
      expect((await buffer(await openLayerTar(store.paths, got.meta.diffID))).equals(tar)).toBe(true);
      expect(storeListing(store).tmp).toEqual([]);
    });
  }

  it('says when the tar holds nothing (an empty change)', async () => {
    store = tempStore();
    const got = await storeLayerFromTar({ store, source: Readable.from([Buffer.alloc(1024)]), compression: 'gzip', chown: false, canMknod: false });
    expect(got.empty).toBe(true);
    expect(got.meta.diffID).toBe('sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef');
  });

  it('a second store of the same tar keeps one layer, and its blob listed', async () => {
    store = tempStore();
    const a = await storeLayerFromTar({ store, source: chunked(tar), compression: 'gzip', chown: false, canMknod: false });
    const b = await storeLayerFromTar({ store, source: chunked(tar), compression: 'zstd', chown: false, canMknod: false });
    expect(b.committed).toBe(false);
    expect(readLayerMeta(store.paths, a.meta.diffID)?.compressed.map((c) => c.digest)).toEqual([a.blob.digest, b.blob.digest]);
    expect(storeListing(store).tmp).toEqual([]);
  });

  it('a wrong diffID, or a tar that escapes, leaves nothing in the store', async () => {
    store = tempStore();
    const before = storeListing(store);
    await expect(
      storeLayerFromTar({ store, source: chunked(tar), compression: 'gzip', chown: false, canMknod: false, diffID: `sha256:${'0'.repeat(64)}`, what: 'layer 1 of x.tar' }),
    ).rejects.toThrow(/^layer 1 of x\.tar does not match its diffID: its content is sha256:/);
    expect(storeListing(store)).toEqual(before);
    const evil = makeTar([file('../escape', 'x')]);
    await expect(storeLayerFromTar({ store, source: chunked(evil), compression: 'zstd', chown: false, canMknod: false })).rejects.toThrow(
      /unsafe layer entry "..\/escape": .* climbs out of the layer root/,
    );
    expect(storeListing(store)).toEqual(before);
  });

  it('garbage collection keeps the blob of a layer in use and removes it with the layer', async () => {
    store = tempStore();
    const got = await storeLayerFromTar({ store, source: chunked(tar), compression: 'gzip', chown: false, canMknod: false });
    const { lockStore } = await import('../../lib/store/lock.js');
    const lock = await lockStore(store.paths, 'exclusive');
    try {
      collectGarbage(store, lock, [got.meta.diffID]);
      expect(fs.existsSync(blobPath(store.paths, got.blob.digest))).toBe(true);
      collectGarbage(store, lock, []);
      expect(fs.existsSync(blobPath(store.paths, got.blob.digest))).toBe(false);
      expect(storeListing(store).layers).toEqual([]);
    } finally {
      lock.release();
    }
  });
});
