// Several processes on one store at once, as `make -j16` would run skiff:
// concurrent pulls of one image, a removal during a pull, a pull killed with
// SIGKILL. Real processes (the store code bundled by esbuild), real flock,
// real renames.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockStore, sharedWithoutLock } from '../../lib/store/lock.js';
import { readImageRecord } from '../../lib/store/images.js';
import { layerDiffDir } from '../../lib/store/layers.js';
import { QuietReporter } from '../../lib/images/pull-progress.js';
import { pullImage } from '../../lib/images/pull.js';
import type { Store } from '../../lib/store/store.js';
import { removeStore, storeListing, tempStore } from './helpers/store-fixtures.js';
import { fixtureClient, fixtureImages } from './helpers/store-worker.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let bundleDir: string;
let worker: string;
let store: Store;

beforeAll(async () => {
  bundleDir = fs.mkdtempSync(path.join(tmpdir(), 'skiff-worker-'));
  worker = path.join(bundleDir, 'store-worker.cjs');
  await build({
    entryPoints: [path.join(here, 'helpers/store-worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: worker,
    logLevel: 'error',
    define: { 'import.meta.url': '__workerUrl' },
    banner: { js: "var __workerUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
}, 60_000);

afterAll(() => fs.rmSync(bundleDir, { recursive: true, force: true }));
afterEach(() => removeStore(store));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ended: number;
}

function run(args: string[], onSpawn?: (kill: () => void) => void, onStderr?: (text: string) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ended: Date.now() }));
    onSpawn?.(() => child.kill('SIGKILL'));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('concurrent store writers', () => {
  it('8 processes pulling the same image at once all succeed and leave one consistent copy', async () => {
    store = tempStore();
    const { built } = fixtureClient();
    const app = built['reg.test/app:1']!;
    const results = await Promise.all(Array.from({ length: 8 }, () => run(['pull', store.paths.root, 'reg.test/app:1', '2'])));
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0, stdout: `${app.configDigest}\n` });
    const listing = storeListing(store);
    expect(listing.layers.sort()).toEqual(app.layers.map((l) => l.diffId.slice(7)).sort());
    expect(listing.images).toEqual([`${app.configDigest.slice(7)}.json`]);
    expect(listing.names).toHaveLength(2);
    expect(listing.tmp).toEqual([]);
    expect(readImageRecord(store.paths, app.configDigest)?.layers).toEqual(app.layers.map((l) => l.diffId));
    const appDir = layerDiffDir(store.paths, app.layers[1]!.diffId);
    expect(fs.readdirSync(path.join(appDir, 'app'))).toHaveLength(200);
    const f7 = fixtureImages()['reg.test/app:1']!.layers[1]!.entries.find((e) => e.name === 'app/f7')!;
    expect(fs.readFileSync(path.join(appDir, 'app/f7')).equals(f7.data as Buffer)).toBe(true);
  }, 120_000);

  it('rmi waits for a pull in flight, so it never deletes a layer that pull has found present', async () => {
    store = tempStore();
    const { built, client } = fixtureClient();
    const base = built['reg.test/base:1']!;
    const app = built['reg.test/app:1']!;
    await pullImage('reg.test/base:1', { store, client, reporter: new QuietReporter() });
    // The pull skips the base layer (present), then spends a while on the others.
    let started!: () => void;
    const pullStarted = new Promise<void>((resolve) => (started = resolve));
    const pull = run(['pull', store.paths.root, 'reg.test/app:1', '5'], undefined, (text) => text.includes('started') && started());
    await pullStarted;
    const rmi = run(['rmi', store.paths.root, 'reg.test/base:1']);
    const [p, r] = await Promise.all([pull, rmi]);
    expect(p, p.stderr).toMatchObject({ code: 0 });
    expect(r, r.stderr).toMatchObject({ code: 0 });
    // (Which process the test sees end first is up to the scheduler: the store's
    // contents below are what proves rmi waited.)
    expect(JSON.parse(r.stdout).events).toContainEqual({ kind: 'deleted', value: base.configDigest });
    const listing = storeListing(store);
    expect(listing.images).toEqual([`${app.configDigest.slice(7)}.json`]);
    expect(listing.layers.sort()).toEqual(app.layers.map((l) => l.diffId.slice(7)).sort());
  }, 120_000);

  it('a pull killed with SIGKILL at any moment leaves only temp junk: the lock is free and the next pull succeeds and cleans up', async () => {
    store = tempStore();
    const { built, client } = fixtureClient();
    const app = built['reg.test/app:1']!;
    for (const delay of [50, 200, 500]) {
      const killed = await run(['pull', store.paths.root, 'reg.test/app:1', '5'], (kill) => setTimeout(kill, delay));
      expect(killed.signal).toBe('SIGKILL');
      const lock = await Promise.race([lockStore(store.paths, 'exclusive'), sleep(5000).then(() => undefined)]);
      expect(lock, 'the store lock is free after its holder was killed').toBeDefined();
      lock!.release();
      expect(storeListing(store).images.filter((i) => i !== `${app.configDigest.slice(7)}.json`)).toEqual([]);
    }
    const r = await pullImage('reg.test/app:1', { store, client, reporter: new QuietReporter() });
    expect(r.id).toBe(app.configDigest);
    const listing = storeListing(store);
    expect(listing.tmp).toEqual([]);
    expect(listing.layers.sort()).toEqual(app.layers.map((l) => l.diffId.slice(7)).sort());
  }, 120_000);

  it('work done without the lock (a fully cached build) sees every exclusive holder: one that ran meanwhile, one at work, one killed at work', async () => {
    store = tempStore();
    const before = sharedWithoutLock(store.paths);
    expect(before?.unchanged()).toBe(true);
    const gc = await lockStore(store.paths, 'exclusive');
    expect(sharedWithoutLock(store.paths)).toBeUndefined();
    gc.release();
    expect(before!.unchanged()).toBe(false);
    const after = sharedWithoutLock(store.paths);
    expect(after?.unchanged()).toBe(true);

    // Killed while holding it: readers take the lock (which the kernel freed) until the next holder finishes.
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    let kill!: () => void;
    const holder = run(['hold', store.paths.root], (k) => (kill = k), (text) => text.includes('held') && held());
    await holding;
    kill();
    expect(await holder).toMatchObject({ signal: 'SIGKILL' });
    expect(after!.unchanged()).toBe(false);
    expect(sharedWithoutLock(store.paths)).toBeUndefined();
    (await lockStore(store.paths, 'shared')).release();
    (await lockStore(store.paths, 'exclusive')).release();
    expect(sharedWithoutLock(store.paths)?.unchanged()).toBe(true);
  }, 60_000);
});
