// lib/code-cache.ts: skiff's bundles compiled with V8's code cache, kept in a
// private directory of the user's. The loader patches Node's module loader,
// so each case runs it in a child Node process (bundled here by esbuild).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeCacheDir } from '../../lib/code-cache.js';
import { NEEDS_ROOT, skipTitle } from '../skip.js';

let work: string;
let loader: string;
let parts: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'skiff-code-cache-'));
  chmodSync(work, 0o755); // another user runs one case
  loader = path.join(work, 'code-cache.cjs');
  await build({ entryPoints: [path.join(__dirname, '../../lib/code-cache.ts')], bundle: true, format: 'cjs', platform: 'node', target: 'node20', outfile: loader, logLevel: 'warning' });
  // Outside the installs' dist/: what their modules require to mark a part, as skiff's bundles carry it.
  parts = path.join(work, 'code-parts.cjs');
  await build({ entryPoints: [path.join(__dirname, '../../lib/code-parts.ts')], bundle: true, format: 'cjs', platform: 'node', target: 'node20', outfile: parts, logLevel: 'warning' });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A dist/ of two modules (one requiring the other and a builtin), and a main that loads it through the loader. */
function install(name: string): { dist: string; main: string } {
  const dist = path.join(work, name, 'dist');
  mkdirSync(path.join(dist, 'lazy'), { recursive: true });
  writeFileSync(path.join(dist, 'lazy', 'part.cjs'), 'exports.twice = (x) => x * 2;\n');
  writeFileSync(
    path.join(dist, 'entry.cjs'),
    "const { twice } = require('./lazy/part.cjs');\nconst os = require('node:os');\nmodule.exports = { answer: twice(21), same: this === module.exports, dir: __dirname, file: __filename, hasOs: typeof os.cpus === 'function', resolved: require.resolve('./lazy/part.cjs') };\n",
  );
  const main = path.join(work, name, 'main.cjs');
  writeFileSync(
    main,
    `require(${JSON.stringify(loader)}).useCodeCache(${JSON.stringify(dist)});\nconst r = require(${JSON.stringify(path.join(dist, 'entry.cjs'))});\nprocess.stdout.write(JSON.stringify(r));\n`,
  );
  return { dist, main };
}

function runMain(main: string, env: Record<string, string>): { status: number | null; result: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, [main], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
  return { status: r.status, result: r.stdout ? (JSON.parse(r.stdout) as Record<string, unknown>) : {}, stderr: r.stderr };
}

describe('code cache', () => {
  it('lives under $XDG_CACHE_HOME, else ~/.cache; none without an absolute home', () => {
    expect(codeCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe('/x/cache/skiff/code-cache');
    expect(codeCacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/skiff/code-cache');
    expect(codeCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' })).toBe('/home/u/.cache/skiff/code-cache');
    expect(codeCacheDir({})).toBeUndefined();
  });

  it('modules load as Node loads them; the first run writes a private cache of each, later runs leave it as it is', () => {
    const { dist, main } = install('plain');
    const cache = path.join(work, 'plain-cache');
    const first = runMain(main, { XDG_CACHE_HOME: cache });
    expect(first).toMatchObject({ status: 0, stderr: '' });
    expect(first.result).toEqual({ answer: 42, same: true, dir: dist, file: path.join(dist, 'entry.cjs'), hasOs: true, resolved: path.join(dist, 'lazy', 'part.cjs') });
    const dir = path.join(cache, 'skiff', 'code-cache');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir).sort();
    expect(files.map((f) => f.split('-')[0])).toEqual(['entry.cjs', 'part.cjs']);
    for (const f of files) expect(statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    const written = files.map((f) => statSync(path.join(dir, f)).mtimeMs);
    const second = runMain(main, { XDG_CACHE_HOME: cache });
    expect(second).toMatchObject({ status: 0, stderr: '', result: first.result });
    // Taken, not written again.
    expect(readdirSync(dir).sort()).toEqual(files);
    expect(files.map((f) => statSync(path.join(dir, f)).mtimeMs)).toEqual(written);
  });

  it('a run that takes a part of the code its cache was written without writes the cache again, with it, once', () => {
    const { dist, main } = install('parts');
    // A function only a run with PART=1 calls (so compiles), after marking the part.
    writeFileSync(
      path.join(dist, 'lazy', 'part.cjs'),
      `exports.twice = (x) => x * 2;\nfunction privateOnly(n) { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }\nif (process.env.PART === '1') { require(${JSON.stringify(parts)}).useCodePart('privateNetwork'); exports.extra = privateOnly(4); }\n`,
    );
    const cache = path.join(work, 'parts-cache');
    const dir = path.join(cache, 'skiff', 'code-cache');
    const state = () => Object.fromEntries(readdirSync(dir).map((f) => [f.split('-')[0], { mask: readFileSync(path.join(dir, f))[0], size: statSync(path.join(dir, f)).size, mtime: statSync(path.join(dir, f)).mtimeMs }]));
    expect(runMain(main, { XDG_CACHE_HOME: cache })).toMatchObject({ status: 0, stderr: '', result: { answer: 42 } });
    const none = state();
    expect(Object.keys(none).sort()).toEqual(['entry.cjs', 'part.cjs']);
    expect([none['entry.cjs']!.mask, none['part.cjs']!.mask]).toEqual([0, 0]);
    // The part taken: both caches written again (one file each), recording it; part.cjs's now holds privateOnly too.
    expect(runMain(main, { XDG_CACHE_HOME: cache, PART: '1' })).toMatchObject({ status: 0, stderr: '', result: { answer: 42 } });
    const taken = state();
    expect(Object.keys(taken).sort()).toEqual(['entry.cjs', 'part.cjs']);
    expect([taken['entry.cjs']!.mask, taken['part.cjs']!.mask]).toEqual([1, 1]);
    expect(taken['part.cjs']!.size).toBeGreaterThan(none['part.cjs']!.size);
    // Taken again, or not: left as it is.
    expect(runMain(main, { XDG_CACHE_HOME: cache, PART: '1' }).status).toBe(0);
    expect(runMain(main, { XDG_CACHE_HOME: cache }).status).toBe(0);
    expect(state()).toEqual(taken);
  });

  it('a cache V8 refuses (garbage) costs only the compile, and is written anew', () => {
    const { main } = install('garbage');
    const cache = path.join(work, 'garbage-cache');
    expect(runMain(main, { XDG_CACHE_HOME: cache }).status).toBe(0);
    const dir = path.join(cache, 'skiff', 'code-cache');
    const entry = readdirSync(dir).find((f) => f.startsWith('entry.cjs-'))!;
    writeFileSync(path.join(dir, entry), 'not a code cache');
    const r = runMain(main, { XDG_CACHE_HOME: cache });
    expect(r).toMatchObject({ status: 0, stderr: '', result: { answer: 42 } });
    expect(statSync(path.join(dir, entry)).size).toBeGreaterThan('not a code cache'.length);
  });

  it('a cache directory others may write is neither read nor written', () => {
    const { main } = install('open');
    const cache = path.join(work, 'open-cache');
    const dir = path.join(cache, 'skiff', 'code-cache');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    const r = runMain(main, { XDG_CACHE_HOME: cache });
    expect(r).toMatchObject({ status: 0, stderr: '', result: { answer: 42 } });
    expect(readdirSync(dir)).toEqual([]);
  });

  const isRoot = process.geteuid?.() === 0;
  it.skipIf(!isRoot)(skipTitle("root with another user's HOME makes nothing in it", isRoot ? undefined : NEEDS_ROOT), () => {
    const { main } = install('other');
    const home = path.join(work, 'other-home');
    mkdirSync(home);
    chownSync(home, 65534, 65534);
    expect(runMain(main, { HOME: home })).toMatchObject({ status: 0, stderr: '', result: { answer: 42 } });
    expect(readdirSync(home)).toEqual([]);
  });

  it('no home: modules load from their source', () => {
    const { main } = install('nohome');
    expect(runMain(main, {})).toMatchObject({ status: 0, stderr: '', result: { answer: 42 } });
  });
});
