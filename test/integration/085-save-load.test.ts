// skiff save and load, as root and as the unprivileged test user: every
// format round-trips to the same image id with its tags, compressed
// archives and stdin load, several images per archive, and bad archives
// (truncated, a wrong digest or diffID, a path escape, a missing file or
// manifest) refused with one line and nothing left in the store.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTar, type TarMember } from '../unit/helpers/make-tar.js';
import { asModeUser, cleanEnv, collect, integrationEnv, skiffBin, type Mode, describeModes } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type PushedImage, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;
let busybox: PushedImage;
let app: PushedImage;
let big: PushedImage;
let secret: PushedImage;
let work: string;

beforeAll(async () => {
  reg = await startRegistry();
  const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
  busybox = await pushImage(reg, 'busybox', 'latest', { format: 'docker', layers: [bb], config: { Cmd: ['sh'] } });
  app = await pushImage(reg, 'app', '2', {
    format: 'oci',
    layers: [bb, { compression: 'zstd', entries: [{ name: 'app/', type: '5', mode: 0o755 }, { name: 'app/run', data: 'echo app\n', mode: 0o755, uid: 1000, gid: 1000 }, { name: 'app/.wh.x', data: '' }] }],
    config: { Cmd: ['sh', '/app/run'] },
  });
  // Large enough that a save or load takes a while: 24 MB gzip cannot shrink.
  big = await pushImage(reg, 'big', '1', {
    format: 'oci',
    layers: [{ compression: 'gzip', entries: Array.from({ length: 6 }, (_, i) => ({ name: `blob${i}`, data: randomBytes(4 << 20), mode: 0o644 })) }],
  });
  // A file only its owner (uid 1000 of the image: a sub-ID, rootless) may read.
  secret = await pushImage(reg, 'secret', '1', {
    format: 'oci',
    layers: [bb, { compression: 'gzip', entries: [{ name: 'home/', type: '5', mode: 0o755 }, { name: 'home/key', data: 'private\n', mode: 0o600, uid: 1000, gid: 1000 }] }],
  });
  work = mkdtempSync(path.join(integrationEnv().workDir, 'save-load-'));
  chmodSync(work, 0o777);
}, 300_000);

afterAll(async () => {
  await reg?.stop();
});

async function pulled(mode: Mode, ...refs: string[]): Promise<TestStore> {
  const s = newStore(mode);
  for (const ref of refs) {
    const r = await s.skiff(['pull', '-q', ref]);
    expect(r, r.stderr).toMatchObject({ code: 0 });
  }
  return s;
}

const idOf = async (s: TestStore, ref: string) => (await s.skiff(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
/** A path in the shared work dir the mode's user can write. */
const out = (name: string) => path.join(work, `${name}-${Math.random().toString(36).slice(2, 8)}`);
const listing = (s: TestStore) => ({ images: s.ls('images'), names: s.ls('names'), layers: s.ls('layers'), tmp: s.ls('tmp') });

describeModes('save and load ($name)', (mode) => {
  for (const format of ['docker-archive', 'oci-archive'] as const) {
    test(`${format}: save, rmi, load gives the same image ids and tags, and they run`, async () => {
      const s = await pulled(mode, `${reg.host}/busybox`, `${reg.host}/app:2`);
      const file = out(`${format}.tar`);
      const saved = await s.skiff(['save', '--format', format, '-o', file, `${reg.host}/busybox`, `${reg.host}/app:2`]);
      expect(saved, saved.stderr).toMatchObject({ code: 0, stdout: '' });
      expect(statSync(file).size).toBeGreaterThan(1000);
      expect(readdirSync(work).some((n) => n.startsWith(`.${path.basename(file)}.skiff-tmp`))).toBe(false);
      expect((await s.skiff(['rmi', `${reg.host}/busybox`, `${reg.host}/app:2`])).code).toBe(0);
      expect(s.ls('layers')).toEqual([]);
      const loaded = await s.skiff(['load', '-i', file]);
      expect(loaded, loaded.stderr).toMatchObject({ code: 0, stdout: `Loaded image: ${reg.host}/busybox:latest\nLoaded image: ${reg.host}/app:2\n` });
      expect(await idOf(s, `${reg.host}/busybox`)).toBe(busybox.configDigest);
      expect(await idOf(s, `${reg.host}/app:2`)).toBe(app.configDigest);
      const run = await s.skiff(['run', '--rm', `${reg.host}/app:2`]);
      expect(run, run.stderr).toMatchObject({ code: 0, stdout: 'app\n' });
      const owner = await s.skiff(['run', '--rm', `${reg.host}/app:2`, 'stat', '-c', '%u:%g', '/app/run']);
      expect(owner.stdout).toBe('1000:1000\n');
      // Loading again changes nothing.
      const again = await s.skiff(['load', '-q', '-i', file]);
      expect(again, again.stderr).toMatchObject({ code: 0, stderr: '' });
      expect(s.ls('tmp')).toEqual([]);
    });
  }

  test('rootless, save reads the layers as the user when it may (one Node), and in the store\'s user namespace when a file is a sub-ID\'s own', async () => {
    const s = await pulled(mode, busybox.reference, secret.reference);
    for (const [img, reexec] of [
      [busybox, false],
      [secret, mode.user !== undefined && mode.user !== null],
    ] as const) {
      const file = out('whose');
      const r = await s.skiff(['--log-level', 'debug', 'save', '-o', file, img.reference]);
      expect(r, r.stderr).toMatchObject({ code: 0 });
      expect(r.stderr.includes('re-executing this command as root of a user namespace')).toBe(reexec);
      const fresh = newStore(mode);
      const loaded = await fresh.skiff(['load', '-q', '-i', file]);
      expect(loaded, loaded.stderr).toMatchObject({ code: 0 });
      expect(await idOf(fresh, img.reference)).toBe(img.configDigest);
    }
  });

  test('stdout and stdin; the whole archive gzip- or zstd-compressed; an untagged image', async () => {
    const s = await pulled(mode, `${reg.host}/app:2`);
    // save to a pipe (stdout is not a terminal), then compress it.
    const child = s.spawn(['save', `${reg.host}/app:2`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => chunks.push(c));
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    const tar = Buffer.concat(chunks);
    const gz = out('x.tar.gz');
    writeFileSync(gz, execFileSync('gzip', ['-c'], { input: tar, maxBuffer: 1 << 28 }));
    const zst = out('x.tar.zst');
    writeFileSync(zst, execFileSync('zstd', ['-q', '-c'], { input: tar, maxBuffer: 1 << 28 }));
    chmodSync(gz, 0o644);
    chmodSync(zst, 0o644);
    expect((await s.skiff(['rmi', `${reg.host}/app:2`])).code).toBe(0);
    const fromGz = await s.skiff(['load', '-q', '-i', gz]);
    expect(fromGz, fromGz.stderr).toMatchObject({ code: 0, stdout: `Loaded image: ${reg.host}/app:2\n` });
    expect((await s.skiff(['rmi', `${reg.host}/app:2`])).code).toBe(0);
    const viaStdin = s.spawn(['load']);
    viaStdin.stdin!.end(readFileSync(zst));
    const fromStdin = await collect(viaStdin, null);
    expect(fromStdin, fromStdin.stderr).toMatchObject({ code: 0, stdout: `Loaded image: ${reg.host}/app:2\n` });
    expect(await idOf(s, `${reg.host}/app:2`)).toBe(app.configDigest);
    // Saved by id: no tag goes into the archive, and load says the id.
    const byId = out('byid.tar');
    expect((await s.skiff(['save', '-o', byId, app.configDigest.slice(7, 19)])).code).toBe(0);
    expect((await s.skiff(['rmi', `${reg.host}/app:2`])).code).toBe(0);
    const untagged = await s.skiff(['load', '-i', byId]);
    expect(untagged, untagged.stderr).toMatchObject({ code: 0, stdout: `Loaded image ID: ${app.configDigest}\n` });
  });

  test('save to a pipe whose reader is slow: the whole archive, not its tail lost at exit', async () => {
    const s = await pulled(mode, `${reg.host}/app:2`);
    const file = out('whole.tar');
    expect((await s.skiff(['save', '-o', file, `${reg.host}/app:2`])).code).toBe(0);
    const whole = statSync(file).size;
    // 4 KiB reads with a pause between: what skiff has written but the pipe has not taken waits in Node's queue when it exits.
    const reader = 'import os, time\nn = 0\nwhile True:\n    b = os.read(0, 4096)\n    if not b: break\n    n += len(b)\n    time.sleep(0.0002)\nprint(n)';
    for (let i = 0; i < 3; i++) {
      const argv = asModeUser(mode, ['sh', '-c', '"$0" save "$1" | python3 -c "$2"', skiffBin(), `${reg.host}/app:2`, reader]);
      const sh = spawnSync(argv[0]!, argv.slice(1), { env: { ...cleanEnv(mode), SKIFF_ROOT: s.root }, encoding: 'utf8' });
      expect(sh.stderr).toBe('');
      expect(Number(sh.stdout.trim())).toBe(whole);
    }
  });

  test('oci-dir and docker-dir: the layouts skopeo reads, with --compress', async () => {
    const s = await pulled(mode, `${reg.host}/app:2`);
    const oci = out('oci-dir');
    expect((await s.skiff(['save', '--format', 'oci-dir', '-o', oci, `${reg.host}/app:2`])).code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(oci, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(path.join(oci, 'index.json'), 'utf8'));
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe(`${reg.host}/app:2`);
    // Uncompressed layers: each blob's digest is its diffID.
    for (const l of app.layers) expect(existsSync(path.join(oci, 'blobs/sha256', l.diffId.slice(7)))).toBe(true);
    const dir = out('docker-dir');
    expect((await s.skiff(['save', '--format', 'docker-dir', '--compress', '-o', dir, `${reg.host}/app:2`])).code).toBe(0);
    expect(readFileSync(path.join(dir, 'version'), 'utf8')).toBe('Directory Transport Version: 1.1\n');
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(Array(2).fill('application/vnd.docker.image.rootfs.diff.tar.gzip'));
    if (spawnSync('skopeo', ['--version']).status === 0) {
      for (const ref of [`oci:${oci}:${reg.host}/app:2`, `dir:${dir}`]) {
        const info = JSON.parse(execFileSync('skopeo', ['inspect', '--config', ref], { encoding: 'utf8' }));
        expect(info.rootfs.diff_ids).toEqual(app.layers.map((l) => l.diffId));
      }
    }
    const again = await s.skiff(['save', '--format', 'oci-dir', '-o', oci, `${reg.host}/app:2`]);
    expect(again).toMatchObject({ code: 125, stderr: `Error: ${oci} exists and is not an empty directory: choose a new one\n` });
  });

  test('save -o into a directory that does not exist: one line, exit 125, nothing written', async () => {
    const s = await pulled(mode, `${reg.host}/busybox`);
    const missing = out('missing');
    for (const format of ['docker-archive', 'oci-archive']) {
      const r = await s.skiff(['save', '--format', format, '-o', path.join(missing, 'x.tar'), `${reg.host}/busybox`]);
      expect(r).toMatchObject({ code: 125, stdout: '', stderr: `Error: cannot write ${path.join(missing, 'x.tar')}: the directory ${missing} does not exist\n` });
    }
    expect(existsSync(missing)).toBe(false);
  });

  test('save and load killed with SIGKILL at 50, 200 and 500 ms: no archive named unless whole, the store as it was', async () => {
    const s = await pulled(mode, `${reg.host}/big:1`);
    const whole = out('whole.tar');
    expect((await s.skiff(['save', '-o', whole, `${reg.host}/big:1`])).code).toBe(0);
    const size = statSync(whole).size;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (const delay of [50, 200, 500]) {
      const file = out(`killed-${delay}.tar`);
      const child = s.spawn(['save', '-o', file, `${reg.host}/big:1`]);
      const done = collect(child);
      await sleep(delay);
      child.kill('SIGKILL');
      await done;
      // Rootless, the save re-executed in the user namespace may finish after its parent died: wait for it.
      for (let i = 0; i < 50 && readdirSync(work).some((n) => n.startsWith(`.${path.basename(file)}.skiff-tmp-`)); i++) await sleep(100);
      if (existsSync(file)) expect(statSync(file).size).toBe(size);
    }
    const empty = newStore(mode);
    for (const delay of [50, 200, 500]) {
      const child = empty.spawn(['load', '-i', whole]);
      const done = collect(child);
      await sleep(delay);
      child.kill('SIGKILL');
      await done;
      const listed = await empty.skiff(['images', '-q', '--no-trunc']);
      expect(['', `${big.configDigest}\n`]).toContain(listed.stdout);
    }
    const loaded = await empty.skiff(['load', '-q', '-i', whole]);
    expect(loaded, loaded.stderr).toMatchObject({ code: 0, stdout: `Loaded image: ${reg.host}/big:1\n` });
    expect((await empty.skiff(['image', 'prune', '-f'])).code).toBe(0);
    expect(empty.ls('tmp')).toEqual([]);
    expect(empty.ls('layers')).toHaveLength(1);
  }, 180_000);

  test('bad archives: one line, exit 125, nothing in the store', async () => {
    const s = await pulled(mode, `${reg.host}/app:2`);
    const good = out('good.tar');
    expect((await s.skiff(['save', '-o', good, `${reg.host}/app:2`])).code).toBe(0);
    expect((await s.skiff(['rmi', `${reg.host}/app:2`])).code).toBe(0);
    const before = listing(s);
    const bytes = readFileSync(good);
    const members = parseTar(bytes);
    const layerName = members.find((m) => m.name.endsWith('/layer.tar') && m.data.length > 10_000)!.name;
    const write = (name: string, tarMembers: TarMember[]) => {
      const f = out(name);
      writeFileSync(f, makeTar(tarMembers));
      chmodSync(f, 0o644);
      return f;
    };
    const flip = (data: Buffer) => {
      const d = Buffer.from(data);
      const at = Math.floor(d.length / 2); // inside the busybox binary's content
      d[at] = d[at]! ^ 0xff;
      return d;
    };
    const truncated = out('truncated.tar');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    chmodSync(truncated, 0o644);
    const cases: [string, RegExp][] = [
      [truncated, /is not a valid tar archive: unexpected end of data in .* \(the archive is truncated\)/],
      [write('wrong-diffid.tar', members.map((m) => (m.name === layerName ? { ...m, data: flip(m.data) } : m))), /does not match its diffID: its content is sha256:[a-f0-9]{64}, the config says sha256:/],
      [write('escape.tar', [...members, { name: '../escape', data: 'x' }]), /its entry "..\/escape" leads out of the archive/],
      [write('absolute.tar', [{ name: '/etc/x', data: 'x' }, ...members]), /its entry "\/etc\/x" has an absolute name/],
      [write('link-escape.tar', [{ name: 'x', type: '2', linkname: '../../etc/passwd' }, ...members]), /its link "x" points out of the archive \("..\/..\/etc\/passwd"\)/],
      [write('no-manifest.tar', members.filter((m) => m.name !== 'manifest.json')), /it has neither a manifest\.json \(docker-archive\) nor an index\.json \(oci-archive\)/],
      [write('missing-layer.tar', members.filter((m) => m.name !== layerName)), /names ".*\/layer\.tar", which is not in the archive/],
      [write('escaping-layer.tar', members.map((m) => (m.name === layerName ? { ...m, data: makeTar([{ name: '../../outside', data: 'x' }]) } : m))), /is not a layer: .*climbs out of the layer root/],
    ];
    for (const [file, line] of cases) {
      const r = await s.skiff(['load', '-q', '-i', file]);
      expect(r.code, `${file}: ${r.stderr}`).toBe(125);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n').filter(Boolean), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(line);
      expect(listing(s), file).toEqual(before);
    }
  });
});

/** The members of an uncompressed tar (regular files and directories), for rewriting archives. */
function parseTar(buf: Buffer): { name: string; type: string; data: Buffer }[] {
  const out: { name: string; type: string; data: Buffer }[] = [];
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.toString('latin1', 0, 100).replace(/\0.*$/s, '');
    const size = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(h[156]!);
    off += 512;
    out.push({ name, type: type === '5' ? '5' : '0', data: Buffer.from(buf.subarray(off, off + size)) });
    off += Math.ceil(size / 512) * 512;
  }
  return out;
}
