// skiff push against real registries (Debian's docker-registry), as root and
// as the unprivileged test user, read back by skopeo and by skiff's own pull:
// mounts and HEADs instead of uploads, cold pushes of the blobs a pull kept,
// a layer compressed once and kept,
// formats and zstd, TLS with Basic auth, retries after a cut connection, and
// one line for what cannot be pushed.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { integrationEnv, modes, type Mode, describeModes } from './harness.js';
import { busyboxLayer, pushImage, pushIndex, request, startRegistry, startRegistryProxy, type PushedImage, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;
let cold: TestRegistry;
let busybox: PushedImage;
let layered: PushedImage;
const hasSkopeo = spawnSync('skopeo', ['--version']).status === 0;

const file = (name: string, data: string, extra: object = {}) => ({ name, data, mode: 0o644, ...extra });

beforeAll(async () => {
  reg = await startRegistry();
  cold = await startRegistry();
  const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
  busybox = await pushImage(reg, 'busybox', 'latest', { format: 'docker', layers: [bb], config: { Cmd: ['sh'] } });
  layered = await pushImage(reg, 'layered', '1', {
    format: 'oci',
    layers: [
      bb,
      { compression: 'zstd', entries: [{ name: 'srv/', type: '5', mode: 0o755 }, file('srv/owned', 'mine\n', { uid: 1000, gid: 1000 }), file('srv/.wh.gone', '')] },
    ],
    config: { Cmd: ['cat', '/srv/owned'] },
  });
}, 300_000);

afterAll(async () => {
  await reg?.stop();
  await cold?.stop();
});

async function pulled(mode: Mode, ref: string): Promise<TestStore> {
  const s = newStore(mode);
  const r = await s.skiff(['pull', '-q', ref]);
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return s;
}

const idOf = async (s: TestStore, ref: string) => (await s.skiff(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
const skopeo = (args: string[]) => execFileSync('skopeo', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describeModes('push ($name)', (mode) => {
  test('to another repository of the same registry: every layer mounted, the manifest and its digest kept', async () => {
    const s = await pulled(mode, `${reg.host}/busybox`);
    const r = await s.skiff(['push', `${reg.host}/busybox`, `${reg.host}/copies/${mode.name}:1`]);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: `1: digest: ${busybox.manifestDigest} size: ${busybox.manifestBytes.length}\n` });
    expect(r.stderr).toContain(`Copying blob ${busybox.layers[0]!.digest} skipped: already exists`);
    expect(r.stderr).toContain('Writing manifest to image destination');
    // The push is one of the image's names now, as Docker's RepoDigests.
    const digests = (await s.skiff(['image', 'inspect', '--format', '{{json .RepoDigests}}', `${reg.host}/busybox`])).stdout;
    expect(digests).toContain(`${reg.host}/copies/${mode.name}@${busybox.manifestDigest}`);
  });

  test('a cold push of a pulled image sends the pulled blobs (same digests, manifest kept): skopeo reads it, it runs; again, nothing is uploaded', async () => {
    const s = await pulled(mode, `${reg.host}/layered:1`);
    // The pull kept each compressed layer blob as the registry served it.
    for (const l of layered.layers) expect(s.ls('blobs/sha256')).toContain(l.digest.slice(7));
    const proxy = await startRegistryProxy(cold);
    try {
      const dest = `${proxy.host}/layered-${mode.name}:1`;
      const r = await s.skiff(['push', '--digestfile', path.join(s.root, 'digest'), `${reg.host}/layered:1`, dest]);
      expect(r, r.stderr).toMatchObject({ code: 0, stdout: `1: digest: ${layered.manifestDigest} size: ${layered.manifestBytes.length}
` });
      expect(readFileSync(path.join(s.root, 'digest'), 'utf8')).toBe(layered.manifestDigest);
      // The gzip and the zstd layer both went as pulled: the same blobs, not recompressed.
      for (const l of layered.layers) expect(r.stderr).toContain(`Copying blob ${l.digest} done`);
      const put = proxy.requests.filter((q) => q.method === 'PUT' && q.path.includes('/blobs/uploads/'));
      expect(put.map((q) => new URL(q.path, 'http://x').searchParams.get('digest')).sort()).toEqual([...layered.layers.map((l) => l.digest), layered.configDigest].sort());
      if (hasSkopeo) {
        // Straight from the registry: skopeo runs synchronously, and the proxy lives in this process.
        const direct = `${cold.host}/layered-${mode.name}:1`;
        const info = JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${direct}`])) as { Digest: string; Layers: string[] };
        expect(info.Digest).toBe(layered.manifestDigest);
        expect(info.Layers).toEqual(layered.layers.map((l) => l.digest));
        const out = mkdtempSync(path.join(integrationEnv().workDir, 'skopeo-'));
        skopeo(['copy', '--src-tls-verify=false', `docker://${direct}`, `oci:${out}:x`]);
        rmSync(out, { recursive: true, force: true });
      }
      const back = await pulled(mode, dest);
      expect(await idOf(back, dest)).toBe(layered.configDigest);
      const run = await back.skiff(['run', '--rm', '--network', 'none', dest]);
      expect(run, run.stderr).toMatchObject({ code: 0, stdout: 'mine\n' });
      // Again: the registry has every blob; HEADs and the manifest, no upload.
      const before = proxy.requests.length;
      const again = await s.skiff(['push', `${reg.host}/layered:1`, dest]);
      expect(again, again.stderr).toMatchObject({ code: 0, stdout: r.stdout });
      expect(again.stderr.match(/skipped: already exists/g)).toHaveLength(2);
      const second = proxy.requests.slice(before);
      expect(second.filter((q) => q.path.includes('/blobs/uploads/'))).toEqual([]);
      expect(second.filter((q) => q.path.includes('/blobs/')).map((q) => q.method)).toEqual(['HEAD', 'HEAD', 'HEAD']);
    } finally {
      await proxy.stop();
    }
  });

  test('a layer with no kept blob (loaded from a docker-archive) is compressed once: the next push sends that kept blob', async () => {
    const s = await pulled(mode, `${reg.host}/busybox`);
    const archive = path.join(s.root, 'bb.tar');
    const saved = await s.skiff(['save', '-o', archive, `${reg.host}/busybox`]);
    expect(saved, saved.stderr).toMatchObject({ code: 0 });
    const t = newStore(mode);
    const loaded = await t.skiff(['load', '-q', '-i', archive]);
    expect(loaded, loaded.stderr).toMatchObject({ code: 0 });
    expect(t.ls('blobs/sha256')).not.toContain(busybox.layers[0]!.digest.slice(7));
    const first = await t.skiff(['push', `${reg.host}/busybox`, `${cold.host}/once-${mode.name}:1`]);
    expect(first, first.stderr).toMatchObject({ code: 0 });
    const made = /Copying blob (sha256:[a-f0-9]{64}) done/.exec(first.stderr)?.[1];
    expect(made).toBeDefined();
    const kept = path.join(t.root, 'blobs', 'sha256', made!.slice(7));
    const st = statSync(kept);
    // Another registry: the kept blob is uploaded as it is (the same file, not made again).
    const proxy = await startRegistryProxy(reg);
    try {
      const second = await t.skiff(['push', `${reg.host}/busybox`, `${proxy.host}/once-${mode.name}:1`]);
      expect(second, second.stderr).toMatchObject({ code: 0 });
      expect(second.stderr).toContain(`Copying blob ${made} done`);
      const after = statSync(kept);
      expect([after.ino, after.mtimeMs]).toEqual([st.ino, st.mtimeMs]);
      expect(proxy.requests.filter((q) => q.method === 'PUT' && new URL(q.path, 'http://x').searchParams.get('digest') === made)).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
    const back = await pulled(mode, `${reg.host}/once-${mode.name}:1`);
    expect(await idOf(back, `${reg.host}/once-${mode.name}:1`)).toBe(busybox.configDigest);
  });

  test('--compression-format zstd (OCI) and --format v2s2: what the registry gets, and the image id kept', async () => {
    const s = await pulled(mode, `${reg.host}/busybox`);
    const zdest = `${cold.host}/zstd-${mode.name}:1`;
    const z = await s.skiff(['push', '-q', '--format', 'oci', '--compression-format', 'zstd', `${reg.host}/busybox`, zdest]);
    // -q: nothing on either stream, as Podman's; the digest is still --digestfile's.
    expect(z, z.stderr).toMatchObject({ code: 0, stderr: '', stdout: '' });
    const res = await request(`${cold.url}/v2/zstd-${mode.name}/manifests/1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const manifest = JSON.parse(res.body.toString()) as { mediaType: string; layers: { mediaType: string }[] };
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+zstd']);
    if (hasSkopeo) expect(JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${zdest}`])).Layers).toHaveLength(1);
    const back = await pulled(mode, zdest);
    expect(await idOf(back, zdest)).toBe(busybox.configDigest);

    const bad = await s.skiff(['push', '--format', 'v2s2', '--compression-format', 'zstd', `${reg.host}/busybox`, zdest]);
    expect(bad).toMatchObject({ code: 125, stdout: '' });
    expect(bad.stderr).toBe('Error: zstd-compressed layers need the OCI format: use --format oci with --compression-format zstd\n');
  });

  test('a cut connection during an upload is resumed or retried', async () => {
    const s = await pulled(mode, `${reg.host}/busybox`);
    let uploads = 0;
    const proxy = await startRegistryProxy(cold, {
      cutUploadAfter: (method, p) => (method === 'PUT' && p.includes('/blobs/uploads/') && uploads++ === 0 ? 100_000 : undefined),
    });
    try {
      const dest = `${proxy.host}/cut-${mode.name}:1`;
      const r = await s.skiff(['push', '-q', `${reg.host}/busybox`, dest]);
      expect(r, r.stderr).toMatchObject({ code: 0 });
      expect(proxy.requests.filter((q) => q.method === 'PUT' && q.path.includes('/blobs/uploads/') && q.status === -1)).toHaveLength(1);
      const back = await pulled(mode, dest);
      expect(await idOf(back, dest)).toBe(busybox.configDigest);
    } finally {
      await proxy.stop();
    }
  });

  test('chunked uploads (SKIFF_PUSH_CHUNK_BYTES), resumed where the registry stands after a cut', async () => {
    const s = await pulled(mode, `${reg.host}/busybox`);
    let patches = 0;
    const proxy = await startRegistryProxy(cold, {
      cutUploadAfter: (method) => (method === 'PATCH' && ++patches === 3 ? 100_000 : undefined),
    });
    try {
      const dest = `${proxy.host}/chunked-${mode.name}:1`;
      const r = await s.skiff(['push', '-q', `${reg.host}/busybox`, dest], { env: { SKIFF_PUSH_CHUNK_BYTES: String(256 << 10) } });
      expect(r, r.stderr).toMatchObject({ code: 0 });
      const patched = proxy.requests.filter((q) => q.method === 'PATCH');
      expect(patched.length).toBeGreaterThan(3);
      expect(patched.filter((q) => q.status === -1)).toHaveLength(1);
      // The status of the upload was asked once, after the cut.
      expect(proxy.requests.filter((q) => q.method === 'GET' && q.path.includes('/blobs/uploads/'))).toHaveLength(1);
      const back = await pulled(mode, dest);
      expect(await idOf(back, dest)).toBe(busybox.configDigest);
    } finally {
      await proxy.stop();
    }
  });

  test('one line and exit 125: no such image, a missing layer, an id without destination, an archive transport', async () => {
    const s = await pulled(mode, `${reg.host}/busybox`);
    const expectLine = async (args: string[], line: string | RegExp) => {
      const r = await s.skiff([args[0]!, '-q', ...args.slice(1)]);
      expect(r.code, r.stderr).toBe(125);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      if (typeof line === 'string') expect(r.stderr).toBe(`Error: ${line}\n`);
      else expect(r.stderr).toMatch(line);
    };
    await expectLine(['push', 'nosuch:1', `${cold.host}/x:1`], 'no such image: nosuch:1');
    await expectLine(['push', busybox.configDigest.slice(7, 19)], /an image id or digest names no repository to push to: give a destination/);
    await expectLine(['push', `${reg.host}/busybox`, 'oci-archive:/tmp/x.tar'], /push to "oci-archive:" is not supported/);
    // Remove the layer from the store (as its owner would have to: inside the user namespace).
    const layerDir = path.join(s.root, 'layers', busybox.layers[0]!.diffId.slice(7));
    if (mode.user) execFileSync('setpriv', [`--reuid=${mode.user.uid}`, `--regid=${mode.user.gid}`, '--init-groups', 'unshare', '-r', 'rm', '-rf', layerDir]);
    else rmSync(layerDir, { recursive: true, force: true });
    expect(existsSync(layerDir)).toBe(false);
    await expectLine(['push', `${reg.host}/busybox`, `${cold.host}/missing:1`], `layer ${busybox.layers[0]!.diffId} of the image is missing from the store: pull or load the image again`);
  });
});

describe('manifest inspect', () => {
  test("prints the registry's manifest or index as JSON; one line for what is not there", async () => {
    const s = newStore(modes()[0]!);
    const one = await s.skiff(['manifest', 'inspect', `${reg.host}/busybox`]);
    expect(one, one.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(one.stdout)).toEqual(JSON.parse(busybox.manifestBytes.toString()));
    const index = await pushIndex(reg, 'multi', '1', [
      { image: { format: 'oci', layers: [{ compression: 'gzip', entries: [file('arch', 'amd64\n')] }] }, platform: { os: 'linux', architecture: 'amd64' } },
      { image: { format: 'oci', layers: [{ compression: 'gzip', entries: [file('arch', 'arm64\n')] }] }, platform: { os: 'linux', architecture: 'arm64' } },
    ], 'oci');
    const listed = await s.skiff(['manifest', 'inspect', `${reg.host}/multi:1`]);
    expect(listed, listed.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(listed.stdout).manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    expect(JSON.parse(index.indexBytes.toString()).manifests).toHaveLength(2);
    const missing = await s.skiff(['manifest', 'inspect', `${reg.host}/busybox:nope`]);
    expect(missing).toMatchObject({ code: 125, stdout: '' });
    expect(missing.stderr).toMatch(new RegExp(`^Error: no manifest for ${reg.host}/busybox:nope: ${reg.host}: manifest unknown`));
  });
});

describe('push to a registry with TLS and Basic auth', () => {
  test('needs credentials (one line), takes --creds or login, verifies its certificate', async () => {
    const mode = modes()[0]!;
    const tls = await startRegistry({ tls: true, basicAuth: { user: 'pusher', password: 'secret' } });
    try {
      const s = await pulled(mode, `${reg.host}/busybox`);
      const env = { SKIFF_CERTS_DIR: tls.certsDir! };
      const dest = `${tls.host}/secure:1`;
      const anonymous = await s.skiff(['push', '-q', `${reg.host}/busybox`, dest], { env });
      expect(anonymous).toMatchObject({ code: 125, stdout: '' });
      expect(anonymous.stderr).toBe(`Error: pushing ${tls.host}/secure: unauthorized: ${tls.host} requires authentication: run 'skiff login ${tls.host}'\n`);
      const wrong = await s.skiff(['push', '--creds', 'pusher:nope', `${reg.host}/busybox`, dest], { env });
      expect(wrong.code).toBe(125);
      expect(wrong.stderr).toMatch(/unauthorized: .*refused the credentials from --creds/);
      const noCa = await s.skiff(['push', '--creds', 'pusher:secret', `${reg.host}/busybox`, dest]);
      expect(noCa.code).toBe(125);
      expect(noCa.stderr).toMatch(/x509: certificate signed by unknown authority/);
      const ok = await s.skiff(['push', '--creds', 'pusher:secret', `${reg.host}/busybox`, dest], { env });
      expect(ok, ok.stderr).toMatchObject({ code: 0 });
      const login = await s.skiff(['login', '-u', 'pusher', '--password-stdin', tls.host], { env, input: 'secret\n' });
      expect(login, login.stderr).toMatchObject({ code: 0 });
      const viaLogin = await s.skiff(['push', '-q', `${reg.host}/busybox`, `${tls.host}/secure:2`], { env });
      expect(viaLogin, viaLogin.stderr).toMatchObject({ code: 0 });
      if (hasSkopeo) {
        const info = JSON.parse(skopeo(['inspect', '--cert-dir', path.join(tls.certsDir!, tls.host), '--creds', 'pusher:secret', `docker://${tls.host}/secure:2`])) as { Digest: string; Layers: string[] };
        // The pulled blobs and manifest went as they were: the same digest.
        expect([info.Digest, info.Layers]).toEqual([busybox.manifestDigest, [busybox.layers[0]!.digest]]);
        // skopeo copies it out too, every blob checked against its digest on the way.
        const out = mkdtempSync(path.join(integrationEnv().workDir, 'skopeo-tls-'));
        skopeo(['copy', '--src-cert-dir', path.join(tls.certsDir!, tls.host), '--src-creds', 'pusher:secret', `docker://${tls.host}/secure:2`, `oci:${out}:x`]);
        const index = JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
        expect(index.manifests).toHaveLength(1);
        rmSync(out, { recursive: true, force: true });
      }
      chmodSync(s.root, 0o755);
    } finally {
      await tls.stop();
    }
  });
});
