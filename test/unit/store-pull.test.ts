// The pull pipeline against a fake registry client: every blob streamed once
// through decompression, diffID check, unpack and materialisation, and
// nothing named when anything is wrong.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SkiffError } from '../../lib/errors.js';
import { pullImage } from '../../lib/images/pull.js';
import { QuietReporter, RecordingReporter, type PullReporter } from '../../lib/images/pull-progress.js';
import type { Descriptor } from '../../lib/oci/image-spec.js';
import { readImageRecord } from '../../lib/store/images.js';
import { lockStore } from '../../lib/store/lock.js';
import { layerDiffDir, readLayerMeta, removeLayer } from '../../lib/store/layers.js';
import { materialiseLayer } from '../../lib/store/materialise.js';
import { listNames } from '../../lib/store/names.js';
import type { Store } from '../../lib/store/store.js';
import { buildImage, fakeClient, pullInto, removeStore, sha256, storeListing, tempStore, useBuiltHelper, type TestImage } from './helpers/store-fixtures.js';

const isRoot = process.getuid?.() === 0;
let store: Store;

beforeAll(() => useBuiltHelper());
afterEach(() => {
  if (store) removeStore(store);
});

const file = (name: string, data: string, extra: object = {}) => ({ name, data, mode: 0o644, ...extra });
const dir = (name: string, extra: object = {}) => ({ name: `${name}/`, type: '5', mode: 0o755, ...extra });

function image(compression: 'gzip' | 'zstd' | 'none', format: 'docker' | 'oci' = 'oci', marker = 'a'): TestImage {
  return {
    format,
    layers: [
      { compression, entries: [dir('etc'), file('etc/hostname', `base-${marker}\n`), dir('bin'), file('bin/tool', '#!/bin/sh\n', { mode: 0o755 })] },
      { compression, entries: [dir('etc'), file('etc/motd', `hello ${marker}\n`, { uid: 1000, gid: 1000 })] },
    ],
    config: { Cmd: ['/bin/tool'], Labels: { purpose: 'test' } },
  };
}

function getxattr(p: string, name: string): string | undefined {
  try {
    return execFileSync('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())', p, name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

describe('pull into the store', () => {
  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    for (const format of ['docker', 'oci'] as const) {
      it(`stores a ${format} image with ${compression} layers: blobs verified, layers unpacked, names given`, async () => {
        store = tempStore();
        const built = buildImage(image(compression, format));
        const client = fakeClient({ 'reg.test/app:1': built });
        const result = await pullInto(store, client, 'reg.test/app:1');
        expect(result.id).toBe(built.configDigest);
        expect(result.downloaded).toBe(2);

        const p = store.paths;
        for (const digest of [built.configDigest, built.manifestDigest]) {
          const bytes = fs.readFileSync(path.join(p.blobs, digest.slice(7)));
          expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(digest);
        }
        const [base, top] = built.layers;
        expect(fs.readFileSync(path.join(layerDiffDir(p, base!.diffId), 'etc/hostname'), 'utf8')).toBe('base-a\n');
        expect(fs.statSync(path.join(layerDiffDir(p, base!.diffId), 'bin/tool')).mode & 0o777).toBe(0o755);
        const motd = path.join(layerDiffDir(p, top!.diffId), 'etc/motd');
        expect(fs.readFileSync(motd, 'utf8')).toBe('hello a\n');
        if (isRoot) expect(fs.statSync(motd).uid).toBe(1000);
        expect(readLayerMeta(p, top!.diffId)).toMatchObject({ diffID: top!.diffId, size: 8, tarSize: top!.tar.length, compressed: [{ digest: top!.digest, mediaType: top!.mediaType }] });

        const record = readImageRecord(p, built.configDigest)!;
        expect(record).toMatchObject({ id: built.configDigest, manifest: built.manifestDigest, layers: [base!.diffId, top!.diffId], size: 7 + 10 + 8 });
        expect(listNames(p).map((n) => n.name).sort()).toEqual([`reg.test/app:1`, `reg.test/app@${built.manifestDigest}`]);
        expect(storeListing(store).tmp).toEqual([]);
      });
    }
  }

  it('downloads nothing the second time, and a layer shared with another image once', async () => {
    store = tempStore();
    const first = buildImage(image('gzip'));
    const other = buildImage({ ...image('gzip'), layers: [image('gzip').layers[0]!, { compression: 'gzip', entries: [file('other', 'x')] }] });
    const client = fakeClient({ 'reg.test/app:1': first, 'reg.test/other:1': other });
    await pullInto(store, client, 'reg.test/app:1');
    expect(client.opened).toHaveLength(2);
    const again = await pullInto(store, client, 'reg.test/app:1');
    expect(again).toMatchObject({ downloaded: 0, skipped: 2 });
    expect(client.opened).toHaveLength(2);
    await pullInto(store, client, 'reg.test/other:1');
    // The first image's two layers are fetched side by side, in either order; the shared one is not fetched again.
    expect(client.opened.slice(0, 2).sort()).toEqual([first.layers[0]!.digest, first.layers[1]!.digest].sort());
    expect(client.opened.slice(2)).toEqual([other.layers[1]!.digest]);
    expect(storeListing(store).layers).toHaveLength(3);
  });

  it('canWriteLayers: false names an image whose layers are all stored, and hands over (writing nothing) when one is missing', async () => {
    store = tempStore();
    const first = buildImage(image('gzip'));
    const other = buildImage({ ...image('gzip'), layers: [image('gzip').layers[0]!, { compression: 'gzip', entries: [file('other', 'x')] }] });
    const client = fakeClient({ 'reg.test/app:1': first, 'reg.test/other:1': other });
    const cold = await pullImage('reg.test/app:1', { store, client, reporter: new QuietReporter(), canWriteLayers: false });
    expect(cold).toBeUndefined();
    expect(client.opened).toEqual([]);
    expect(storeListing(store)).toMatchObject({ blobs: [], layers: [], images: [], names: [] });
    await pullInto(store, client, 'reg.test/app:1');
    const before = storeListing(store);
    // A second image sharing one layer: still a layer to write.
    expect(await pullImage('reg.test/other:1', { store, client, reporter: new QuietReporter(), canWriteLayers: false })).toBeUndefined();
    expect(storeListing(store)).toEqual(before);
    // Every layer stored: named in this process, with the lines a pull shows, and no lock taken when no exclusive holder ran.
    fs.rmSync(path.join(store.paths.names), { recursive: true });
    fs.mkdirSync(store.paths.names);
    const lines: string[] = [];
    const reporter = new RecordingReporter();
    const warm = await pullImage('reg.test/app:1', { store, client, reporter, canWriteLayers: false });
    expect(warm).toMatchObject({ id: first.configDigest, downloaded: 0, skipped: 2 });
    expect(listNames(store.paths).map((n) => n.name).sort()).toEqual([`reg.test/app:1`, `reg.test/app@${first.manifestDigest}`].sort());
    const quiet = new QuietReporter();
    const listener: PullReporter = {
      ...Object.fromEntries((['waiting', 'layerStarted', 'layerBytes', 'layerDone', 'warn'] as const).map((k) => [k, quiet[k].bind(quiet)])),
      start: (t: string) => void lines.push(`start ${t}`),
      layerSkipped: (b: Descriptor) => void lines.push(`skipped ${b.digest}`),
      configDone: (d: string) => void lines.push(`config ${d}`),
      finish: (ok: boolean) => void lines.push(`finish ${ok}`),
    } as PullReporter;
    reporter.replay(listener);
    expect(lines).toEqual(['start reg.test/app:1', ...first.layers.map((l) => `skipped ${l.digest}`), `config ${first.configDigest}`, 'finish true']);
    expect(client.opened).toHaveLength(2);
  });

  it('a pull of stored layers with an exclusive holder at work waits for it and then names the image, or hands over when it removed a layer', async () => {
    store = tempStore();
    const built = buildImage(image('gzip'));
    const client = fakeClient({ 'reg.test/app:1': built });
    await pullInto(store, client, 'reg.test/app:1');
    const gc = await lockStore(store.paths, 'exclusive');
    const pending = pullImage('reg.test/app:1', { store, client, reporter: new QuietReporter(), canWriteLayers: false });
    await new Promise((r) => setTimeout(r, 300));
    removeLayer(store.paths, built.layers[1]!.diffId);
    gc.release();
    expect(await pending).toBeUndefined();
    await pullInto(store, client, 'reg.test/app:1');
    const gc2 = await lockStore(store.paths, 'exclusive');
    const waiting = pullImage('reg.test/app:1', { store, client, reporter: new QuietReporter(), canWriteLayers: false });
    await new Promise((r) => setTimeout(r, 300));
    gc2.release();
    expect(await waiting).toMatchObject({ id: built.configDigest, downloaded: 0 });
  });

  it('refuses a layer whose content does not match its diffID, and names nothing', async () => {
    store = tempStore();
    const good = buildImage(image('gzip'));
    const claimed = sha256(Buffer.from('not this layer'));
    const wrong = buildImage({ ...image('gzip'), imageConfig: { rootfs: { type: 'layers', diff_ids: [good.layers[0]!.diffId, claimed] } } });
    const client = fakeClient({ 'reg.test/bad:1': wrong });
    const err = await pullInto(store, client, 'reg.test/bad:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SkiffError);
    expect((err as Error).message).toBe(
      `layer ${wrong.layers[1]!.digest} does not match the image: its uncompressed content is ${wrong.layers[1]!.diffId}, but the image config says ${claimed}`,
    );
    const listing = storeListing(store);
    expect(listing.images).toEqual([]);
    expect(listing.names).toEqual([]);
    expect(listing.tmp).toEqual([]);
    // The first layer (right diffID) may have been committed; nothing names it, and GC removes it.
    expect(listing.layers.every((l) => l === good.layers[0]!.diffId.slice(7))).toBe(true);
  });

  it('fails with the client\'s error on a tampered blob, and names nothing', async () => {
    store = tempStore();
    const built = buildImage(image('gzip'));
    const bad = built.layers[1]!.digest;
    const client = fakeClient({ 'reg.test/app:1': built }, { corrupt: new Set([bad]) });
    const err = (await pullInto(store, client, 'reg.test/app:1').catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/failed verification|cannot be decompressed \(gzip: .*\): the blob is damaged or not what the registry says/);
    expect(err.message).toContain(bad);
    const listing = storeListing(store);
    expect(listing.images).toEqual([]);
    expect(listing.names).toEqual([]);
    expect(listing.layers).not.toContain(built.layers[1]!.diffId.slice(7));
    expect(listing.tmp).toEqual([]);
  });

  it('refuses a tar that climbs out of its layer, and leaves nothing', async () => {
    store = tempStore();
    const built = buildImage({ format: 'oci', layers: [{ compression: 'gzip', entries: [file('../escape', 'x')] }] });
    await expect(pullInto(store, fakeClient({ 'reg.test/evil:1': built }), 'reg.test/evil:1')).rejects.toThrow(
      `layer ${built.layers[0]!.digest}: unsafe layer entry "../escape": "../escape" climbs out of the layer root; the layer was not unpacked`,
    );
    expect(storeListing(store)).toMatchObject({ layers: [], images: [], names: [], tmp: [] });
  });

  it('refuses an image whose config lists fewer diff_ids than its manifest has layers, before fetching', async () => {
    store = tempStore();
    const built = buildImage({ ...image('gzip'), imageConfig: { rootfs: { type: 'layers', diff_ids: [] } } });
    const client = fakeClient({ 'reg.test/app:1': built });
    await expect(pullInto(store, client, 'reg.test/app:1')).rejects.toThrow('image reg.test/app:1 is inconsistent: its manifest has 2 layers, its config lists 0 diff_ids');
    expect(client.opened).toEqual([]);
  });

  it('stores whiteouts as 0/0 character devices and opaque directories with user.overlay.opaque=y, keeping directory times', async () => {
    store = tempStore();
    const built = buildImage({
      format: 'oci',
      layers: [
        { compression: 'gzip', entries: [dir('etc', { mtime: 1_500_000_000 }), file('etc/.wh.passwd', ''), dir('var', { mtime: 1_500_000_000 }), file('var/.wh..wh..opq', ''), file('var/new', 'n')] },
      ],
    });
    await pullInto(store, fakeClient({ 'reg.test/wh:1': built }), 'reg.test/wh:1');
    const root = layerDiffDir(store.paths, built.layers[0]!.diffId);
    const wh = fs.lstatSync(path.join(root, 'etc/passwd'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(getxattr(path.join(root, 'var'), 'user.overlay.opaque')).toBe('y');
    expect(getxattr(path.join(root, 'etc'), 'user.overlay.opaque')).toBeUndefined();
    expect(fs.lstatSync(path.join(root, 'etc')).mtimeMs).toBe(1_500_000_000_000);
    expect(fs.existsSync(path.join(root, 'etc/.wh.passwd'))).toBe(false);
  });

  it.runIf(isRoot)('creates device nodes as real root, with their owner and time', async () => {
    store = tempStore();
    const built = buildImage({
      format: 'oci',
      layers: [{ compression: 'none', entries: [dir('dev'), { name: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666, uid: 5, gid: 6, mtime: 1_400_000_000 }, { name: 'dev/fifo', type: '6', mode: 0o600 }] }],
    });
    await pullInto(store, fakeClient({ 'reg.test/dev:1': built }), 'reg.test/dev:1');
    const root = layerDiffDir(store.paths, built.layers[0]!.diffId);
    const st = fs.lstatSync(path.join(root, 'dev/null'));
    expect(st.isCharacterDevice()).toBe(true);
    expect([st.rdev >> 8, st.rdev & 0xff, st.uid, st.gid, st.mode & 0o777, st.mtimeMs]).toEqual([1, 3, 5, 6, 0o666, 1_400_000_000_000]);
    expect(fs.lstatSync(path.join(root, 'dev/fifo')).isFIFO()).toBe(true);
  });
});

describe('materialiseLayer', () => {
  it('skips devices a rootless user cannot create, but makes whiteouts and FIFOs', async () => {
    store = tempStore();
    const root = path.join(store.paths.tmp, 'layer');
    fs.mkdirSync(path.join(root, 'dev'), { recursive: true });
    const when = new Date(1_400_000_000_000);
    const device = { uid: 0, gid: 0, mtime: when, mode: 0o666 };
    const result = await materialiseLayer(
      root,
      {
        entries: 4,
        bytes: 0,
        whiteouts: ['dev/gone'],
        opaqueDirs: ['.'],
        devices: [
          { ...device, path: 'dev/null', type: 'char', major: 1, minor: 3 },
          { ...device, path: 'dev/fifo', type: 'fifo', major: 0, minor: 0 },
        ],
        xattrs: [{ path: 'dev/null', name: 'user.x', value: Buffer.from('1') }],
        rootMode: null,
      },
      { canMknod: false, chown: false, whiteouts: 'overlay' },
    );
    expect(result).toEqual({ skippedDevices: ['dev/null'], ignoredRootAttributes: ['user.overlay.opaque'] });
    expect(fs.existsSync(path.join(root, 'dev/null'))).toBe(false);
    expect(fs.lstatSync(path.join(root, 'dev/fifo')).isFIFO()).toBe(true);
    expect(fs.lstatSync(path.join(root, 'dev/gone')).isCharacterDevice()).toBe(true);
  });

  it("a vfs store's layer keeps the tar's records: .wh.NAME and .wh..wh..opq files, no device, no xattr; the directories' times kept", async () => {
    store = tempStore();
    const root = path.join(store.paths.tmp, 'layer-tar');
    fs.mkdirSync(path.join(root, 'etc/opq'), { recursive: true });
    const when = new Date(1_400_000_000_000);
    for (const d of ['etc', 'etc/opq']) fs.utimesSync(path.join(root, d), when, when);
    const result = await materialiseLayer(
      root,
      { entries: 3, bytes: 0, whiteouts: ['etc/gone'], opaqueDirs: ['etc/opq'], devices: [], xattrs: [], rootMode: null },
      { canMknod: false, chown: false, whiteouts: 'tar' },
    );
    expect(result).toEqual({ skippedDevices: [], ignoredRootAttributes: [] });
    expect(fs.readdirSync(path.join(root, 'etc')).sort()).toEqual(['.wh.gone', 'opq']);
    expect(fs.readdirSync(path.join(root, 'etc/opq'))).toEqual(['.wh..wh..opq']);
    for (const f of ['etc/.wh.gone', 'etc/opq/.wh..wh..opq']) {
      const st = fs.lstatSync(path.join(root, f));
      expect([st.isFile(), st.size]).toEqual([true, 0]);
    }
    for (const d of ['etc', 'etc/opq']) expect(fs.statSync(path.join(root, d)).mtimeMs).toBe(when.getTime());
  });
});
