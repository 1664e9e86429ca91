// `npm run build` (scripts/build.mjs) as a reader sees it: a build killed
// midway leaves the build before it in use and whole; the next build removes
// what the killed one left. Run in a copy of the sources, never this checkout.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { collect } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tree = mkdtempSync(path.join(tmpdir(), 'skiff-build-'));
for (const part of ['bin', 'lib', 'scripts', 'package.json', 'tsconfig.json']) cpSync(path.join(root, part), path.join(tree, part), { recursive: true });
symlinkSync(path.join(root, 'node_modules'), path.join(tree, 'node_modules'));

afterAll(() => rmSync(tree, { recursive: true, force: true }));

const build = () => spawnSync(process.execPath, ['scripts/build.mjs', '--ts-only'], { cwd: tree, encoding: 'utf8' });
const version = () => spawnSync(path.join(tree, 'bin/skiff'), ['version'] /* its own lazy bundle */, { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tree } });
/** Every skiff.cjs the builds have written so far, by inode. */
const bundles = (): number[] => {
  const found: number[] = [];
  for (const dir of [path.join(tree, 'dist'), ...readdirSafe(path.join(tree, '.dist-builds')).map((n) => path.join(tree, '.dist-builds', n))]) {
    try {
      found.push(statSync(path.join(dir, 'skiff.cjs')).ino);
    } catch {
      // not written yet
    }
  }
  return found;
};

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

describe('npm run build', () => {
  test('a build killed midway leaves the one before in use, whole; the next build removes its leftovers', async () => {
    const first = build();
    expect(first.status, first.stderr).toBe(0);
    const firstDir = realpathSync(path.join(tree, 'dist'));
    const firstBundle = statSync(path.join(firstDir, 'skiff.cjs')).ino;
    // As open as a directory the build's umask lets it make: other users (the rootless ones) run it.
    mkdirSync(path.join(tree, 'plain'));
    expect(statSync(firstDir).mode & 0o777).toBe(statSync(path.join(tree, 'plain')).mode & 0o777);
    expect(version().stdout).toMatch(/^Version: +0\.1\.0$/m);

    // Killed as soon as it has written its first bundle: the lazy ones are still to come.
    const second = spawn(process.execPath, ['scripts/build.mjs', '--ts-only'], { cwd: tree, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const ended = collect(second);
    while (!bundles().some((ino) => ino !== firstBundle)) {
      if (second.exitCode !== null) throw new Error('the second build ended before it could be killed');
      await new Promise((r) => setTimeout(r, 2));
    }
    process.kill(-second.pid!, 'SIGKILL');
    await ended;
    expect(realpathSync(path.join(tree, 'dist'))).toBe(firstDir);
    const run = version();
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toMatch(/^Version: +0\.1\.0$/m);

    const third = build();
    expect(third.status, third.stderr).toBe(0);
    const thirdDir = realpathSync(path.join(tree, 'dist'));
    expect(thirdDir).not.toBe(firstDir);
    // The build before stays (a process may have resolved dist just before); the killed one's is gone.
    expect(readdirSync(path.join(tree, '.dist-builds')).sort()).toEqual([path.basename(firstDir), path.basename(thirdDir)].sort());
    expect(readdirSync(tree).filter((n) => n.startsWith('.dist-link-'))).toEqual([]);
    expect(version().stdout).toMatch(/^Version: +0\.1\.0$/m);
  }, 180_000);
});
