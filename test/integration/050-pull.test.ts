// skiff pull against the real distribution registry, as root and as the
// unprivileged test user: what lands in the store (files, owners, whiteouts),
// every layer format, sharing, concurrency, SIGKILL, and refusals.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { collect, integrationEnv, describeModes } from './harness.js';
import {
  busyboxLayer,
  pushImage,
  pushIndex,
  sha256,
  startBlobTamperingProxy,
  startRegistryProxy,
  startRegistry,
  type PushedImage,
  type TestImage,
  type TestRegistry,
} from './registry-harness.js';
import { getXattr, hostUidFor, isWhiteout, newStore } from './store-harness.js';

let reg: TestRegistry;
const pushed: Record<string, PushedImage> = {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = (name: string, extra: object = {}) => ({ name: `${name}/`, type: '5', mode: 0o755, ...extra });
const file = (name: string, data: string | Buffer, extra: object = {}) => ({ name, data, mode: 0o644, ...extra });

beforeAll(async () => {
  reg = await startRegistry();
  const env = integrationEnv();
  const bb = { entries: busyboxLayer(env.imageRootfs), compression: 'gzip' as const };
  const push = async (repo: string, tag: string, image: TestImage) => {
    pushed[`${repo}:${tag}`] = await pushImage(reg, repo, tag, image);
  };
  await push('busybox', 'latest', { format: 'docker', layers: [bb], config: { Cmd: ['sh'] } });
  await push('owned', '1', {
    format: 'oci',
    layers: [bb, { compression: 'gzip', entries: [dir('home'), dir('home/user', { uid: 1000, gid: 1000, mode: 0o700 }), file('home/user/.profile', 'x=1\n', { uid: 1000, gid: 1000 })] }],
  });
  for (const format of ['docker', 'oci'] as const) {
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      await push('formats', `${format}-${compression}`, {
        format,
        layers: [{ compression, entries: [dir('etc'), file('etc/format', `${format} ${compression}\n`)] }, { compression, entries: [file('top', 'top\n')] }],
      });
    }
  }
  await push('whiteouts', '1', {
    format: 'oci',
    layers: [
      { compression: 'gzip', entries: [dir('etc'), file('etc/passwd', 'root:x:0:0::/root:/bin/sh\n'), dir('var'), file('var/old', 'old\n')] },
      { compression: 'gzip', entries: [dir('etc', { mtime: 1_500_000_000 }), file('etc/.wh.passwd', ''), dir('var', { mtime: 1_500_000_000 }), file('var/.wh..wh..opq', ''), file('var/new', 'new\n')] },
    ],
  });
  await push('devices', '1', {
    format: 'oci',
    layers: [{ compression: 'gzip', entries: [dir('dev'), { name: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666 }, { name: 'dev/zero', type: '3', devmajor: 1, devminor: 5, mode: 0o666 }, { name: 'dev/fifo', type: '6', mode: 0o600 }] }],
  });
  await push('shared', 'a', { format: 'oci', layers: [bb, { compression: 'gzip', entries: [file('a', 'a\n')] }] });
  await push('shared', 'b', { format: 'oci', layers: [bb, { compression: 'gzip', entries: [file('b', 'b\n')] }] });
  // Big enough that a pull takes a while: 48 MB that gzip cannot shrink.
  await push('big', '1', {
    format: 'oci',
    layers: [
      { compression: 'gzip', entries: Array.from({ length: 12 }, (_, i) => file(`blob${i}`, randomBytes(4 << 20))) },
      { compression: 'gzip', entries: [file('small', 'small\n')] },
    ],
  });
  await push('baddiff', '1', {
    format: 'oci',
    layers: [{ compression: 'gzip', entries: [file('x', 'x\n')] }],
    imageConfig: { rootfs: { type: 'layers', diff_ids: [sha256('something else')] } },
  });
  await pushIndex(reg, 'multi', '1', [
    { image: { format: 'oci', layers: [{ compression: 'gzip', entries: [file('arch', 'amd64\n')] }] }, platform: { os: 'linux', architecture: 'amd64' } },
    { image: { format: 'oci', layers: [{ compression: 'gzip', entries: [file('arch', 'arm64\n')] }] }, platform: { os: 'linux', architecture: 'arm64' } },
  ], 'oci');
}, 300_000);

afterAll(async () => {
  await reg?.stop();
});

const idOf = (img: PushedImage) => img.configDigest.slice(7);

/** Every entry of a store (path relative to it) with what a write changes: inode, size, mtime and ctime. */
function storeSnapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const st = lstatSync(path.join(root, rel), { bigint: true });
    out[rel] = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    if (st.isDirectory()) for (const name of readdirSync(path.join(root, rel))) walk(rel === '' ? name : `${rel}/${name}`);
  };
  walk('');
  return out;
}

describeModes('pull ($name)', (mode) => {
  test('pulls a runnable busybox: stdout is the id, one line per blob on stderr, files owned by container root', async () => {
    const s = newStore(mode);
    const img = pushed['busybox:latest']!;
    const r = await s.skiff(['pull', `${reg.host}/busybox`]);
    expect(r.stderr.split('\n')).toEqual([
      `Trying to pull ${reg.host}/busybox:latest...`,
      `Copying blob ${img.layers[0]!.digest} done`,
      `Copying config ${img.configDigest} done`,
      'Writing manifest to image destination',
      '',
    ]);
    expect(r.stdout).toBe(`${idOf(img)}\n`);
    expect(r.code).toBe(0);
    const root = s.diff(img.layers[0]!.diffId);
    const st = lstatSync(path.join(root, 'bin/busybox'));
    expect(st.isFile()).toBe(true);
    expect(st.uid).toBe(hostUidFor(mode, 0));
    expect(s.ls('tmp')).toEqual([]);
    const run = await s.skiff(['run', '--rm', '--rootfs', root, '/bin/busybox', 'echo', 'from the pulled layer']);
    expect(run.stdout).toBe('from the pulled layer\n');
  });

  test('-q prints only the id', async () => {
    const s = newStore(mode);
    const r = await s.skiff(['pull', '-q', `${reg.host}/busybox:latest`]);
    expect(r).toMatchObject({ code: 0, stdout: `${idOf(pushed['busybox:latest']!)}\n`, stderr: '' });
  });

  test('files of other users belong to the matching sub-IDs', async () => {
    const s = newStore(mode);
    const img = pushed['owned:1']!;
    expect((await s.skiff(['pull', '-q', `${reg.host}/owned:1`])).code).toBe(0);
    const root = s.diff(img.layers[1]!.diffId);
    expect(lstatSync(path.join(root, 'home/user/.profile')).uid).toBe(hostUidFor(mode, 1000));
    expect(lstatSync(path.join(root, 'home/user')).uid).toBe(hostUidFor(mode, 1000));
    expect(lstatSync(path.join(root, 'home/user')).mode & 0o7777).toBe(0o700);
    expect(lstatSync(path.join(root, 'home')).uid).toBe(hostUidFor(mode, 0));
  });

  test('Docker and OCI media types with gzip, zstd and uncompressed layers', async () => {
    const s = newStore(mode);
    for (const format of ['docker', 'oci']) {
      for (const compression of ['gzip', 'zstd', 'none']) {
        const img = pushed[`formats:${format}-${compression}`]!;
        const r = await s.skiff(['pull', '-q', `${reg.host}/formats:${format}-${compression}`]);
        expect(r, r.stderr).toMatchObject({ code: 0, stdout: `${idOf(img)}\n` });
        expect(readFileSync(path.join(s.diff(img.layers[0]!.diffId), 'etc/format'), 'utf8')).toBe(`${format} ${compression}\n`);
      }
    }
  });

  test('whiteouts become 0/0 character devices and opaque directories carry user.overlay.opaque=y', async () => {
    const s = newStore(mode);
    const img = pushed['whiteouts:1']!;
    expect(await s.skiff(['pull', '-q', `${reg.host}/whiteouts:1`])).toMatchObject({ code: 0, stderr: '' });
    const top = s.diff(img.layers[1]!.diffId);
    expect(isWhiteout(path.join(top, 'etc/passwd'))).toBe(true);
    expect(existsSync(path.join(top, 'etc/.wh.passwd'))).toBe(false);
    expect(getXattr(path.join(top, 'var'), 'user.overlay.opaque')).toBe('y');
    expect(getXattr(path.join(top, 'etc'), 'user.overlay.opaque')).toBeUndefined();
    expect(lstatSync(path.join(top, 'etc')).mtimeMs).toBe(1_500_000_000_000);
    expect(readFileSync(path.join(top, 'var/new'), 'utf8')).toBe('new\n');
  });

  test('device nodes: made as root; skipped rootless with one warning', async () => {
    const s = newStore(mode);
    const img = pushed['devices:1']!;
    const r = await s.skiff(['pull', '-q', `${reg.host}/devices:1`]);
    expect(r.code).toBe(0);
    const dev = s.diff(img.layers[0]!.diffId);
    expect(lstatSync(path.join(dev, 'dev/fifo')).isFIFO()).toBe(true);
    if (mode.user) {
      expect(r.stderr).toBe('skiff: warning: skipped 2 device nodes of the image (/dev/null, /dev/zero): a rootless user cannot create them; containers get their /dev from skiff\n');
      expect(existsSync(path.join(dev, 'dev/null'))).toBe(false);
    } else {
      expect(r.stderr).toBe('');
      expect(lstatSync(path.join(dev, 'dev/null')).rdev).toBe(lstatSync('/dev/null').rdev);
    }
  });

  test('a layer shared by two images is stored once, and a second pull downloads nothing', async () => {
    const s = newStore(mode);
    const a = pushed['shared:a']!;
    const b = pushed['shared:b']!;
    expect((await s.skiff(['pull', `${reg.host}/shared:a`])).code).toBe(0);
    const second = await s.skiff(['pull', `${reg.host}/shared:b`]);
    expect(second.stderr).toContain(`Copying blob ${b.layers[0]!.digest} skipped: already exists\n`);
    expect(second.stderr).toContain(`Copying blob ${b.layers[1]!.digest} done\n`);
    expect(s.ls('layers')).toHaveLength(3);
    const again = await s.skiff(['pull', `${reg.host}/shared:a`]);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/Copying blob \S+ done/);
    expect(again.stderr.match(/skipped: already exists/g)).toHaveLength(a.layers.length);
  });

  test('warm-pull-one-request: a pull of a stored image asks the registry for its manifest only; the config comes from the store', async () => {
    const s = newStore(mode);
    const img = pushed['busybox:latest']!;
    const proxy = await startRegistryProxy(reg);
    try {
      expect((await s.skiff(['pull', '-q', `${proxy.host}/busybox:latest`])).stdout).toBe(`${idOf(img)}\n`);
      const cold = proxy.requests.splice(0);
      expect(cold.filter((r) => r.path.includes('/blobs/')).map((r) => r.path)).toContain(`/v2/busybox/blobs/${img.configDigest}`);
      const warm = await s.skiff(['pull', '-q', `${proxy.host}/busybox:latest`]);
      expect(warm).toMatchObject({ code: 0, stdout: `${idOf(img)}\n` });
      const paths = proxy.requests.map((r) => `${r.method} ${r.path}`);
      expect(paths.filter((p) => p.includes('/blobs/'))).toEqual([]);
      expect(paths.filter((p) => p.includes('/manifests/'))).toEqual(['GET /v2/busybox/manifests/latest']);
      // A stored config that is not what the manifest names (a damaged store) is asked for again, never used.
      const configFile = path.join(s.root, 'blobs', 'sha256', img.configDigest.replace(/^sha256:/, ''));
      const good = readFileSync(configFile);
      writeFileSync(configFile, Buffer.concat([good.subarray(0, good.length - 2), Buffer.from(' }')]));
      proxy.requests.splice(0);
      expect((await s.skiff(['pull', '-q', `${proxy.host}/busybox:latest`])).stdout).toBe(`${idOf(img)}\n`);
      expect(proxy.requests.map((r) => r.path)).toContain(`/v2/busybox/blobs/${img.configDigest}`);
    } finally {
      await proxy.stop();
    }
  });

  test('warm-pull-writes-nothing: pulling a stored image whose tag has not moved changes no file or directory of the store', async () => {
    const s = newStore(mode);
    const ref = `${reg.host}/shared:a`;
    expect((await s.skiff(['pull', '-q', ref])).code).toBe(0);
    const before = storeSnapshot(s.root);
    const again = await s.skiff(['pull', ref]);
    expect(again, again.stderr).toMatchObject({ code: 0, stdout: `${idOf(pushed['shared:a']!)}\n` });
    expect(again.stderr).toContain('skipped: already exists');
    expect(storeSnapshot(s.root)).toEqual(before);
    // A tag moved here (tag) is moved back by the pull: only its name file is written.
    expect((await s.skiff(['pull', '-q', `${reg.host}/busybox:latest`])).code).toBe(0);
    expect((await s.skiff(['tag', `${reg.host}/busybox:latest`, ref])).code).toBe(0);
    const retagged = storeSnapshot(s.root);
    expect((await s.skiff(['pull', '-q', ref])).stdout).toBe(`${idOf(pushed['shared:a']!)}\n`);
    const after = storeSnapshot(s.root);
    const changed = Object.keys(after).filter((f) => after[f] !== retagged[f]);
    expect(changed.filter((f) => !f.startsWith('tmp') && f !== 'names' && !f.startsWith('names-history')).sort()).toEqual([`names/${reg.host}+shared:a.json`]);
    expect((await s.skiff(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout).toContain(`${ref} ${idOf(pushed['shared:a']!).slice(0, 12)}`);
  });

  test('moved-tag-fetched: a tag the registry moved to another image is pulled anew, its new layer fetched', async () => {
    const s = newStore(mode);
    const tag = `moving-${mode.name}`;
    const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
    const first = await pushImage(reg, 'moving', tag, { format: 'oci', layers: [bb, { compression: 'gzip', entries: [file('which', 'first\n')] }] });
    const ref = `${reg.host}/moving:${tag}`;
    expect((await s.skiff(['pull', '-q', ref])).stdout).toBe(`${idOf(first)}\n`);
    const second = await pushImage(reg, 'moving', tag, { format: 'oci', layers: [bb, { compression: 'gzip', entries: [file('which', 'second\n')] }] });
    const moved = await s.skiff(['pull', ref]);
    expect(moved, moved.stderr).toMatchObject({ code: 0, stdout: `${idOf(second)}\n` });
    expect(moved.stderr).toContain(`Copying blob ${second.layers[0]!.digest} skipped: already exists\n`);
    expect(moved.stderr).toContain(`Copying blob ${second.layers[1]!.digest} done\n`);
    const run = await s.skiff(['run', '--rm', '--network', 'none', ref, 'cat', '/which']);
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: 'second\n' });
  });

  test('a pull that writes no layer stays in the first process: only one that fetches a layer enters the user namespace', async () => {
    const s = newStore(mode);
    const img = pushed['shared:a']!;
    const reexec = /re-executing this command as root of a user namespace/;
    const cold = await s.skiff(['--log-level', 'debug', 'pull', `${reg.host}/shared:a`]);
    expect(cold, cold.stderr).toMatchObject({ code: 0, stdout: `${idOf(img)}\n` });
    if (mode.user) expect(cold.stderr).toMatch(reexec);
    else expect(cold.stderr).not.toMatch(reexec);
    // Once shown by the process that fetches: the first process shows nothing of a pull it hands over.
    expect(cold.stderr.match(/Trying to pull/g)).toHaveLength(1);
    // A new name for stored layers (shared:b's second layer is not stored: it enters).
    const warm = await s.skiff(['--log-level', 'debug', 'pull', `${reg.host}/busybox:latest`]);
    expect(warm, warm.stderr).toMatchObject({ code: 0, stdout: `${idOf(pushed['busybox:latest']!)}\n` });
    expect(warm.stderr).not.toMatch(reexec);
    expect(warm.stderr.split('\n').filter((l) => !l.startsWith('time='))).toEqual([
      `Trying to pull ${reg.host}/busybox:latest...`,
      `Copying blob ${pushed['busybox:latest']!.layers[0]!.digest} skipped: already exists`,
      `Copying config ${pushed['busybox:latest']!.configDigest} done`,
      'Writing manifest to image destination',
      '',
    ]);
    const images = await s.skiff(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(images.stdout.split('\n').sort()).toEqual(['', `${reg.host}/busybox:latest`, `${reg.host}/shared:a`]);
    const again = await s.skiff(['--log-level', 'debug', 'pull', '-q', `${reg.host}/shared:b`]);
    expect(again, again.stderr).toMatchObject({ code: 0, stdout: `${idOf(pushed['shared:b']!)}\n` });
    if (mode.user) expect(again.stderr).toMatch(reexec);
  });

  test('8 concurrent pulls of one image from separate processes all succeed into one consistent store', async () => {
    const s = newStore(mode);
    const img = pushed['busybox:latest']!;
    const results = await Promise.all(Array.from({ length: 8 }, () => s.skiff(['pull', '-q', `${reg.host}/busybox`])));
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0, stdout: `${idOf(img)}\n` });
    expect(s.ls('layers')).toEqual([img.layers[0]!.diffId.slice(7)]);
    expect(s.ls('images')).toEqual([`${idOf(img)}.json`]);
    expect(s.ls('tmp')).toEqual([]);
    const images = await s.skiff(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    expect(images.stdout).toBe(`${reg.host}/busybox:latest ${idOf(img).slice(0, 12)}\n`);
  });

  test('a pull killed with SIGKILL at 50, 200 and 500 ms leaves nothing a fresh pull trips on', async () => {
    const s = newStore(mode);
    const img = pushed['big:1']!;
    // The big layer stalls after 1 MiB, so each pull is surely mid-download when
    // it is killed (straight from the registry it can finish within 200 ms).
    const big = img.layers[0]!.digest;
    const proxy = await startRegistryProxy(reg, { stallAfter: (p) => (p.endsWith(big) ? 1 << 20 : undefined) });
    try {
      for (const delay of [50, 200, 500]) {
        const child = s.spawn(['pull', `${proxy.host}/big:1`]);
        const done = collect(child);
        await sleep(delay);
        child.kill('SIGKILL');
        expect((await done).signal).toBe('SIGKILL');
        const listed = await s.skiff(['images', '-q', '--no-trunc']);
        expect(listed, listed.stderr).toMatchObject({ code: 0, stdout: '' });
      }
    } finally {
      await proxy.stop();
    }
    const r = await s.skiff(['pull', '-q', `${reg.host}/big:1`]);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: `${idOf(img)}\n` });
    expect(readFileSync(path.join(s.diff(img.layers[1]!.diffId), 'small'), 'utf8')).toBe('small\n');
    expect(lstatSync(path.join(s.diff(img.layers[0]!.diffId), 'blob11')).size).toBe(4 << 20);
    expect((await s.skiff(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout).toBe(`${reg.host}/big:1\n`);
    // Junk a killed pull left in tmp/ is gone once garbage is collected.
    expect((await s.skiff(['image', 'prune', '-f'])).code).toBe(0);
    expect(s.ls('tmp')).toEqual([]);
    expect(s.ls('layers')).toHaveLength(2);
  }, 120_000);

  test('a registry serving a tampered blob: one clear line, exit 125, nothing named', async () => {
    const s = newStore(mode);
    const img = pushed['busybox:latest']!;
    const layer = img.layers[0]!.digest;
    const proxy = await startBlobTamperingProxy(reg, { corrupt: (p) => p.endsWith(layer) });
    try {
      const r = await s.skiff(['pull', `${proxy.host}/busybox`]);
      expect(r.code).toBe(125);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(layer);
      expect(s.ls('images')).toEqual([]);
      expect(s.ls('names')).toEqual([]);
      expect(s.ls('layers')).toEqual([]);
      expect(r.stdout).toBe('');
    } finally {
      await proxy.stop();
    }
  });

  test('a layer whose content does not match the config\'s diffID is refused', async () => {
    const s = newStore(mode);
    const img = pushed['baddiff:1']!;
    const r = await s.skiff(['pull', `${reg.host}/baddiff:1`]);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      `Error: layer ${img.layers[0]!.digest} does not match the image: its uncompressed content is ${img.layers[0]!.diffId}, but the image config says ${sha256('something else')}`,
    );
    expect(s.ls('images')).toEqual([]);
    expect(s.ls('layers')).toEqual([]);
    expect(s.ls('tmp')).toEqual([]);
  });

  test('a multi-platform index: the host\'s platform by default, another with --platform', async () => {
    const s = newStore(mode);
    const amd = await s.skiff(['pull', '-q', `${reg.host}/multi:1`]);
    const arm = await s.skiff(['pull', '-q', '--platform', 'linux/arm64', `${reg.host}/multi:1`]);
    expect(amd.code).toBe(0);
    expect(arm.code).toBe(0);
    expect(amd.stdout).not.toBe(arm.stdout);
    const inspect = await s.skiff(['image', 'inspect', '--format', '{{.Architecture}}', arm.stdout.trim()]);
    expect(inspect.stdout).toBe('arm64\n');
  });

  test('by digest: the image is named by its digest only', async () => {
    const s = newStore(mode);
    const img = pushed['busybox:latest']!;
    const r = await s.skiff(['pull', '-q', `${reg.host}/busybox@${img.manifestDigest}`]);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: `${idOf(img)}\n` });
    const listed = await s.skiff(['images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}']);
    expect(listed.stdout).toBe(`${reg.host}/busybox <none> ${img.manifestDigest}\n`);
  });

  test('--authfile gives the credentials of a registry with Basic auth; --tls-verify=false accepts an unknown CA', async () => {
    const s = newStore(mode);
    const user = 'skiff';
    const password = 'secret-pw';
    const authReg = await startRegistry({ basicAuth: { user, password } });
    const tlsReg = await startRegistry({ tls: true });
    try {
      await pushImage(authReg, 'private', '1', { format: 'oci', layers: [{ compression: 'gzip', entries: [file('p', 'p\n')] }] });
      await pushImage(tlsReg, 'secure', '1', { format: 'oci', layers: [{ compression: 'gzip', entries: [file('t', 't\n')] }] });
      const denied = await s.skiff(['pull', '-q', `${authReg.host}/private:1`]);
      expect(denied.code).toBe(125);
      expect(denied.stderr.trim().split('\n')).toHaveLength(1);
      const dir = mkdtempSync(path.join(integrationEnv().workDir, 'auth-'));
      chmodSync(dir, 0o755);
      const authFile = path.join(dir, 'auth.json');
      writeFileSync(authFile, JSON.stringify({ auths: { [authReg.host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }), { mode: 0o644 });
      const allowed = await s.skiff(['pull', '-q', '--authfile', authFile, `${authReg.host}/private:1`]);
      expect(allowed, allowed.stderr).toMatchObject({ code: 0 });

      const unverified = await s.skiff(['pull', '-q', `${tlsReg.host}/secure:1`]);
      expect(unverified.code).toBe(125);
      const insecure = await s.skiff(['pull', '-q', '--tls-verify=false', `${tlsReg.host}/secure:1`]);
      expect(insecure, insecure.stderr).toMatchObject({ code: 0 });
    } finally {
      await authReg.stop();
      await tlsReg.stop();
    }
  });

  test('bad input: one line, exit 125, before any work', async () => {
    const s = newStore(mode);
    const bad = await s.skiff(['pull', 'Not/Valid']);
    expect(bad).toMatchObject({ code: 125, stdout: '', stderr: 'Error: invalid reference format "Not/Valid": repository name must be lowercase\n' });
    const platform = await s.skiff(['pull', '--platform', 'linux', 'busybox']);
    expect(platform.stderr).toBe('Error: invalid platform "linux": expected os/arch[/variant], e.g. linux/arm64 or linux/arm/v7\n');
    expect(platform.code).toBe(125);
    const missing = await s.skiff(['pull', `${reg.host}/nosuchimage:1`]);
    expect(missing.code).toBe(125);
    expect(missing.stderr.split('\n').filter((l) => l.startsWith('Error:'))).toHaveLength(1);
    expect(s.ls('images')).toEqual([]);
    const usage = await s.skiff(['pull']);
    expect(usage).toMatchObject({ code: 125, stderr: `Error: "skiff pull" requires at least 1 argument (see 'skiff pull --help')\n` });
  });
});
