// The registry client against the real distribution registry: plain HTTP on
// loopback, TLS with a generated CA, Basic and Bearer auth, indexes, media
// types, schema 1, digests, and the failures a test proxy produces. The
// client runs in the test process (it is a library; `skiff pull` is tested
// with the store). registries.conf and the harness itself: 042.
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { MEDIA_TYPE } from '../../lib/oci/image-spec.js';
import { client, layer, readAll, registryClientSuite, simple, streamError, withEnv } from './registry-client-env.js';
import {
  DOCKER_LAYER_TAR,
  DOCKER_LAYER_ZSTD,
  freePort,
  pushImage,
  pushIndex,
  pushSchema1Image,
  startBlobTamperingProxy,
  startRegistryProxy,
} from './registry-harness.js';

const { work, cleanups, registry, authFile } = registryClientSuite();

describe('plain HTTP on loopback', () => {
  test('falls back from HTTPS to HTTP at once and pulls an OCI image with gzip, zstd and uncompressed layers', async () => {
    const reg = await registry();
    const pushed = await pushImage(reg, 'app', 'v1', { format: 'oci', layers: [layer('a'), layer('b', 'zstd'), layer('c', 'none')], config: { Cmd: ['echo', 'hi'], Env: ['A=1'] } });
    const c = client();
    const started = Date.now();
    const image = await c.resolve(`${reg.host}/app:v1`);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(image.reference).toEqual({ registry: reg.host, repository: 'app', tag: 'v1' });
    expect(image.manifestDigest).toBe(pushed.manifestDigest);
    expect(image.manifestBytes.equals(pushed.manifestBytes)).toBe(true);
    expect(image.configBytes.equals(pushed.configBytes)).toBe(true);
    expect(image.config.config?.Cmd).toEqual(['echo', 'hi']);
    expect(image.config.rootfs.diff_ids).toEqual(pushed.layers.map((l) => l.diffId));
    expect(image.indexDigest).toBeUndefined();
    expect(image.manifest.layers.map((l) => l.mediaType)).toEqual([MEDIA_TYPE.ociLayerGzip, MEDIA_TYPE.ociLayerZstd, MEDIA_TYPE.ociLayer]);
    for (const [i, blob] of image.manifest.layers.entries()) {
      let counted = 0;
      const bytes = await readAll(await c.openBlob(image, blob, { onBytes: (n) => (counted += n) }));
      expect(bytes.equals(pushed.layers[i]!.blob)).toBe(true);
      expect(counted).toBe(blob.size);
    }
  });

  test('Docker schema 2 media types', async () => {
    const reg = await registry();
    const pushed = await pushImage(reg, 'dock', 'latest', { format: 'docker', layers: [layer('a'), layer('z', 'zstd'), layer('t', 'none')] });
    const image = await client().resolve(`${reg.host}/dock`);
    expect(image.manifest.mediaType).toBe(MEDIA_TYPE.dockerManifest);
    expect(image.manifest.config.mediaType).toBe(MEDIA_TYPE.dockerConfig);
    expect(image.manifest.layers.map((l) => l.mediaType)).toEqual([MEDIA_TYPE.dockerLayerGzip, DOCKER_LAYER_ZSTD, DOCKER_LAYER_TAR]);
    expect(image.manifestDigest).toBe(pushed.manifestDigest);
  });

  test('a missing image, a missing repository and a refused connection are one line each', async () => {
    const reg = await registry();
    await pushImage(reg, 'app', 'v1', simple('oci'));
    await expect(client().resolve(`${reg.host}/app:nope`)).rejects.toThrow(`image "${reg.host}/app:nope" not found in registry ${reg.host}`);
    await expect(client().resolve(`${reg.host}/nothing`)).rejects.toThrow(`image "${reg.host}/nothing:latest" not found in registry ${reg.host}`);
    const port = await freePort();
    await expect(client().resolve(`127.0.0.1:${port}/app`)).rejects.toThrow(`cannot connect to registry 127.0.0.1:${port}: connection refused`);
  });

  test('by digest: the manifest is verified, and a registry serving other bytes is refused', async () => {
    const reg = await registry();
    const pushed = await pushImage(reg, 'app', 'v1', simple('oci'));
    const image = await client().resolve(`${reg.host}/app@${pushed.manifestDigest}`);
    expect(image.manifestDigest).toBe(pushed.manifestDigest);
    expect(image.reference.digest).toBe(pushed.manifestDigest);
    const other = await pushImage(reg, 'app', 'v2', simple('oci', 'other'));
    // A proxy that answers the digest with another manifest's bytes.
    const proxy = await startRegistryProxy(reg, {
      intercept: ({ path: p }) =>
        p === `/v2/app/manifests/${pushed.manifestDigest}`
          ? { status: 200, headers: { 'content-type': MEDIA_TYPE.ociManifest }, body: other.manifestBytes }
          : undefined,
    });
    cleanups.push(() => proxy.stop());
    await expect(client().resolve(`${proxy.host}/app@${pushed.manifestDigest}`)).rejects.toThrow(
      `the manifest of ${proxy.host}/app@${pushed.manifestDigest} from ${proxy.host} does not match the digest ${pushed.manifestDigest}: the registry served wrong data`,
    );
  });

  test('malformed manifests: not JSON, not a manifest, not an image', async () => {
    const reg = await registry();
    const answers: Record<string, string> = {
      '/v2/bad/manifests/json': '{"schemaVersion": 2, ',
      '/v2/bad/manifests/shape': JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: { digest: 'sha256:x' }, layers: [] }),
      '/v2/bad/manifests/helm': JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociManifest,
        config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 2 },
        layers: [],
      }),
    };
    const proxy = await startRegistryProxy(reg, {
      intercept: ({ path: p }) => (answers[p] ? { status: 200, headers: { 'content-type': MEDIA_TYPE.ociManifest }, body: answers[p] } : undefined),
    });
    cleanups.push(() => proxy.stop());
    await expect(client().resolve(`${proxy.host}/bad:json`)).rejects.toThrow(`the manifest of ${proxy.host}/bad:json is not valid JSON`);
    await expect(client().resolve(`${proxy.host}/bad:shape`)).rejects.toThrow(/is not a valid image manifest: config\.mediaType: /);
    await expect(client().resolve(`${proxy.host}/bad:helm`)).rejects.toThrow(
      `the manifest of ${proxy.host}/bad:helm is not a container image: its config is application/vnd.cncf.helm.config.v1+json`,
    );
  });
});

describe('TLS with a CA the tests generate', () => {
  test('works with the CA in a certs.d directory, fails clearly without it, and --tls-verify=false skips it', async () => {
    const reg = await registry({ tls: true });
    const pushed = await pushImage(reg, 'app', 'v1', simple('oci'));
    await withEnv('SKIFF_CERTS_DIR', reg.certsDir!, async () => {
      const c = client();
      const image = await c.resolve(`${reg.host}/app:v1`);
      expect(image.manifestDigest).toBe(pushed.manifestDigest);
      expect((await readAll(await c.openBlob(image, image.manifest.layers[0]!))).equals(pushed.layers[0]!.blob)).toBe(true);
    });
    // Without the CA: never a silent fall-back to plain HTTP for a server that does speak TLS.
    await expect(client().resolve(`${reg.host}/app:v1`)).rejects.toThrow(
      `registry ${reg.host}: x509: certificate signed by unknown authority: add the CA to ${path.join(work(), 'no-certs', reg.host)}/ca.crt or use --tls-verify=false`,
    );
    expect((await client({ tlsVerify: false }).resolve(`${reg.host}/app:v1`)).manifestDigest).toBe(pushed.manifestDigest);
  });

  test('an insecure registry in registries.conf skips verification', async () => {
    const reg = await registry({ tls: true });
    const pushed = await pushImage(reg, 'app', 'v1', simple('docker'));
    const conf = path.join(work(), 'insecure.conf');
    writeFileSync(conf, `[[registry]]\nlocation = "${reg.host}"\ninsecure = true\n`);
    await withEnv('SKIFF_REGISTRIES_CONF', conf, async () => {
      expect((await client().resolve(`${reg.host}/app:v1`)).manifestDigest).toBe(pushed.manifestDigest);
    });
  });
});

describe('Basic auth (htpasswd) over TLS', () => {
  test('the right credentials pull; none and wrong ones are refused clearly', async () => {
    const reg = await registry({ tls: true, basicAuth: { user: 'alice', password: 's3cret' } });
    const pushed = await pushImage(reg, 'private/app', 'v1', simple('oci'));
    await withEnv('SKIFF_CERTS_DIR', reg.certsDir!, async () => {
      const good = authFile({ [reg.host]: ['alice', 's3cret'] });
      const c = client({ authFile: good });
      const image = await c.resolve(`${reg.host}/private/app:v1`);
      expect(image.manifestDigest).toBe(pushed.manifestDigest);
      expect((await readAll(await c.openBlob(image, image.manifest.layers[0]!))).equals(pushed.layers[0]!.blob)).toBe(true);

      await expect(client().resolve(`${reg.host}/private/app:v1`)).rejects.toThrow(
        `pulling ${reg.host}/private/app:v1: unauthorized: ${reg.host} requires authentication: run 'skiff login ${reg.host}'`,
      );
      const bad = authFile({ [reg.host]: ['alice', 'wrong'] });
      await expect(client({ authFile: bad }).resolve(`${reg.host}/private/app:v1`)).rejects.toThrow(
        `pulling ${reg.host}/private/app:v1: unauthorized: ${reg.host} refused the credentials from ${bad}: run 'skiff login ${reg.host}'`,
      );
    });
  });
});

describe('Bearer token flow', () => {
  test('one token request per scope per invocation, reused for the config and every layer', async () => {
    const reg = await registry({ tokenAuth: true, basicAuth: { user: 'bob', password: 'pw' } });
    const pushed = await pushImage(reg, 'team/app', 'v1', { format: 'oci', layers: [layer('1'), layer('2'), layer('3', 'zstd')] });
    const issuer = reg.tokenIssuer!;
    const c = client({ authFile: authFile({ [reg.host]: ['bob', 'pw'] }) });
    const image = await c.resolve(`${reg.host}/team/app:v1`);
    await Promise.all(image.manifest.layers.map(async (l, i) => expect((await readAll(await c.openBlob(image, l))).equals(pushed.layers[i]!.blob)).toBe(true)));
    await c.resolve(`${reg.host}/team/app:v1`);
    expect(issuer.requests).toEqual([
      { scopes: ['repository:team/app:pull'], service: issuer.service, account: 'bob', user: 'bob', granted: true },
    ]);
  });

  test('an "access_token" answer works, and a refused or missing login is one line', async () => {
    const reg = await registry({ tokenAuth: true, basicAuth: { user: 'bob', password: 'pw' } });
    await pushImage(reg, 'app', 'v1', simple('docker'));
    reg.tokenIssuer!.tokenField = 'access_token';
    expect((await client({ authFile: authFile({ [reg.host]: ['bob', 'pw'] }) }).resolve(`${reg.host}/app:v1`)).manifest.layers).toHaveLength(1);
    const bad = authFile({ [reg.host]: ['bob', 'nope'] });
    await expect(client({ authFile: bad }).resolve(`${reg.host}/app:v1`)).rejects.toThrow(
      `pulling ${reg.host}/app:v1: unauthorized: ${reg.host} refused the credentials from ${bad}: run 'skiff login ${reg.host}'`,
    );
    await expect(client().resolve(`${reg.host}/app:v1`)).rejects.toThrow(
      `pulling ${reg.host}/app:v1: unauthorized: ${reg.host} requires authentication: run 'skiff login ${reg.host}'`,
    );
  });

  test("an identity token from a credential helper is exchanged with the OAuth2 form", async () => {
    const reg = await registry({ tokenAuth: true, basicAuth: { user: 'bob', password: 'pw' }, refreshTokens: { 'refresh-abc': 'bob' } });
    const pushed = await pushImage(reg, 'app', 'v1', simple('oci'));
    const bin = mkdtempSync(path.join(work(), 'bin-'));
    writeFileSync(path.join(bin, 'docker-credential-idtok'), `#!/bin/sh\ncat >/dev/null\necho '{"ServerURL":"x","Username":"<token>","Secret":"refresh-abc"}'\n`, { mode: 0o755 });
    const file = path.join(bin, 'config.json');
    writeFileSync(file, JSON.stringify({ credHelpers: { [reg.host]: 'idtok' } }));
    await withEnv('PATH', `${bin}:${process.env['PATH']}`, async () => {
      expect((await client({ authFile: file }).resolve(`${reg.host}/app:v1`)).manifestDigest).toBe(pushed.manifestDigest);
    });
    expect(reg.tokenIssuer!.requests).toEqual([
      { scopes: ['repository:app:pull'], grantType: 'refresh_token', service: reg.tokenIssuer!.service, user: 'bob', granted: true },
    ]);
  });

  test('a token the registry turns down (expired, revoked) is replaced once', async () => {
    const reg = await registry({ tokenAuth: true });
    const pushed = await pushImage(reg, 'app', 'v1', simple('oci'));
    const issuer = reg.tokenIssuer!;
    let refusals = 0;
    const challenge = `Bearer realm="${issuer.realm}",service="${issuer.service}",scope="repository:app:pull",error="invalid_token"`;
    const proxy = await startRegistryProxy(reg, {
      intercept: ({ path: p, headers }) =>
        p === '/v2/app/manifests/v1' && headers.authorization && refusals++ === 0 ? { status: 401, headers: { 'www-authenticate': challenge } } : undefined,
    });
    cleanups.push(() => proxy.stop());
    expect((await client().resolve(`${proxy.host}/app:v1`)).manifestDigest).toBe(pushed.manifestDigest);
    expect(refusals).toBe(2);
    expect(issuer.requests.map((r) => r.scopes)).toEqual([['repository:app:pull'], ['repository:app:pull']]);
  });

  test('anonymous tokens when the issuer serves anyone', async () => {
    const reg = await registry({ tokenAuth: true });
    const pushed = await pushImage(reg, 'public', 'v1', simple('oci'));
    expect((await client().resolve(`${reg.host}/public:v1`)).manifestDigest).toBe(pushed.manifestDigest);
    expect(reg.tokenIssuer!.requests.map((r) => [r.scopes, r.user])).toEqual([[['repository:public:pull'], undefined]]);
  });
});

describe('multi-arch indexes', () => {
  for (const format of ['oci', 'docker'] as const) {
    test(`${format}: the host's platform by default, --platform picks another, a missing one lists what there is`, async () => {
      const reg = await registry();
      const pushed = await pushIndex(
        reg,
        'multi',
        'v1',
        [
          { image: simple(format, 'amd64'), platform: { os: 'linux', architecture: 'amd64' } },
          { image: simple(format, 'arm64'), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
          { image: simple(format, 'armv7'), platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
        ],
        format,
      );
      const amd = await client().resolve(`${reg.host}/multi:v1`);
      expect(amd.indexDigest).toBe(pushed.indexDigest);
      expect(amd.indexBytes!.equals(pushed.indexBytes)).toBe(true);
      expect(amd.manifestDigest).toBe(pushed.images[0]!.manifestDigest);
      expect(amd.config.architecture).toBe('amd64');
      const arm = await client({ platform: { os: 'linux', architecture: 'arm64' } }).resolve(`${reg.host}/multi:v1`);
      expect(arm.manifestDigest).toBe(pushed.images[1]!.manifestDigest);
      const armv6 = client({ platform: { os: 'linux', architecture: 'arm', variant: 'v6' } });
      await expect(armv6.resolve(`${reg.host}/multi:v1`)).rejects.toThrow(
        `image ${reg.host}/multi:v1 has no variant for platform linux/arm/v6 (it offers linux/amd64, linux/arm64/v8, linux/arm/v7): choose one with --platform`,
      );
      const s390 = client({ platform: { os: 'linux', architecture: 's390x' } });
      await expect(s390.resolve(`${reg.host}/multi:v1`)).rejects.toThrow(/has no variant for platform linux\/s390x \(it offers linux\/amd64, /);
      // By the index's digest, too.
      expect((await client().resolve(`${reg.host}/multi@${pushed.indexDigest}`)).manifestDigest).toBe(pushed.images[0]!.manifestDigest);
    });
  }
});

test('Docker schema 1 is refused with what to do', async () => {
  const reg = await registry({ schema1: true });
  await pushSchema1Image(reg, 'old', 'v1', [{ name: 'a', data: 'x' }]);
  await expect(client().resolve(`${reg.host}/old:v1`)).rejects.toThrow(
    `the manifest of ${reg.host}/old:v1 uses Docker schema 1, which skiff does not support: rebuild or re-push the image with a current Docker/Podman/Buildah`,
  );
});

describe('blobs', () => {
  test('a registry serving a wrong blob: the stream fails naming blob and registry, and never ends', async () => {
    const reg = await registry();
    const pushed = await pushImage(reg, 'app', 'v1', simple('oci'));
    const victim = pushed.layers[0]!.digest;
    const proxy = await startBlobTamperingProxy(reg, { corrupt: (p) => p.endsWith(victim) });
    cleanups.push(() => proxy.stop());
    const c = client();
    const image = await c.resolve(`${proxy.host}/app:v1`);
    const err = await streamError(await c.openBlob(image, image.manifest.layers[0]!));
    expect(err.message).toBe(`blob ${victim} from ${proxy.host} does not match its digest: the registry served wrong data`);
  });

  test('a missing blob rejects openBlob itself, in one line', async () => {
    const reg = await registry();
    await pushImage(reg, 'app', 'v1', simple('oci'));
    const c = client();
    const image = await c.resolve(`${reg.host}/app:v1`);
    const missing = { mediaType: MEDIA_TYPE.ociLayerGzip, digest: `sha256:${'0'.repeat(64)}`, size: 5 };
    await expect(c.openBlob(image, missing)).rejects.toThrow(`blob ${missing.digest} of image ${reg.host}/app:v1 not found in registry ${reg.host}`);
  });

  test('a cut connection is resumed with Range, also when the server ignores Range', async () => {
    const reg = await registry();
    const big = Buffer.alloc(3 << 20);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    const pushed = await pushImage(reg, 'big', 'v1', { format: 'oci', layers: [{ entries: [{ name: 'big.bin', data: big }], compression: 'none' }] });
    const blob = pushed.layers[0]!;
    for (const ignoreRange of [false, true]) {
      const proxy = await startRegistryProxy(reg, { ignoreRange, cutAfter: (_p, attempt) => (attempt <= 2 ? attempt * 1_000_000 : undefined) });
      cleanups.push(() => proxy.stop());
      const c = client();
      const image = await c.resolve(`${proxy.host}/big:v1`);
      let counted = 0;
      const bytes = await readAll(await c.openBlob(image, image.manifest.layers[0]!, { onBytes: (n) => (counted += n) }));
      expect(bytes.equals(blob.blob)).toBe(true);
      expect(counted).toBe(blob.size);
      const gets = proxy.requests.filter((r) => r.path.endsWith(blob.digest));
      expect(gets.map((r) => r.range)).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/), expect.stringMatching(/^bytes=\d+-$/)]);
    }
  });

  test('redirects are followed without sending the registry credentials to another host', async () => {
    const reg = await registry({ basicAuth: { user: 'u', password: 'p' } });
    const pushed = await pushImage(reg, 'app', 'v1', simple('oci'));
    const blob = pushed.layers[0]!;
    const http = await import('node:http');
    const seen: (string | undefined)[] = [];
    const storage = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-length': String(blob.size) }).end(blob.blob);
    });
    await new Promise<void>((r) => storage.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => storage.close(() => r())));
    const port = (storage.address() as { port: number }).port;
    // "localhost" is another origin than the registry's 127.0.0.1.
    const proxy = await startRegistryProxy(reg, {
      intercept: ({ method, path: p }) =>
        method === 'GET' && p.endsWith(`/blobs/${blob.digest}`) ? { status: 307, headers: { location: `http://localhost:${port}/storage/blob` } } : undefined,
    });
    cleanups.push(() => proxy.stop());
    const c = client({ authFile: authFile({ [proxy.host]: ['u', 'p'] }) });
    const image = await c.resolve(`${proxy.host}/app:v1`);
    expect((await readAll(await c.openBlob(image, image.manifest.layers[0]!))).equals(blob.blob)).toBe(true);
    expect(seen).toEqual([undefined]);
    expect(proxy.requests.find((r) => r.path.endsWith(`/blobs/${blob.digest}`))?.authorized).toBe(true);
  });

  test('5xx and 429 answers are retried with backoff', async () => {
    const reg = await registry();
    const pushed = await pushImage(reg, 'app', 'v1', simple('oci'));
    let failures = 0;
    const proxy = await startRegistryProxy(reg, {
      intercept: ({ path: p }) => {
        if (!p.startsWith('/v2/app/') || failures >= 3) return undefined;
        failures++;
        return failures === 2 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 503 };
      },
    });
    cleanups.push(() => proxy.stop());
    const started = Date.now();
    expect((await client().resolve(`${proxy.host}/app:v1`)).manifestDigest).toBe(pushed.manifestDigest);
    expect(failures).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});
