// The registry client and registries.conf (short names, mirrors, blocked
// registries), and the test harness's own image building.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { modes } from './harness.js';
import { client, readAll, registryClientSuite, simple, withEnv } from './registry-client-env.js';
import { busyboxLayer, freePort, pushImage, startRegistryProxy } from './registry-harness.js';

const { work, cleanups, registry } = registryClientSuite();

describe('registries.conf', () => {
  function withConf<T>(text: string, fn: () => Promise<T>): Promise<T> {
    const conf = path.join(mkdtempSync(path.join(work(), 'conf-')), 'registries.conf');
    writeFileSync(conf, text);
    return withEnv('SKIFF_REGISTRIES_CONF', conf, fn);
  }

  test('short names search the unqualified-search registries in order', async () => {
    const empty = await registry();
    const full = await registry();
    // Only Docker Hub puts one-component names in library/.
    const pushed = await pushImage(full, 'tool', 'v1', simple('oci'));
    await withConf(`unqualified-search-registries = ["${empty.host}", "${full.host}"]\n`, async () => {
      const image = await client().resolve('tool:v1');
      expect(image.reference).toEqual({ registry: full.host, repository: 'tool', tag: 'v1' });
      expect(image.manifestDigest).toBe(pushed.manifestDigest);
      await expect(client().resolve('missing')).rejects.toThrow(`image "missing" not found in any unqualified-search registry (${empty.host}, ${full.host})`);
    });
  });

  test('a mirror is tried first, and a dead mirror falls back to the primary', async () => {
    const primary = await registry();
    const mirror = await registry();
    await pushImage(primary, 'app', 'v1', simple('oci', 'primary'));
    const fromMirror = await pushImage(mirror, 'app', 'v1', simple('oci', 'mirror'));
    const dead = await freePort();
    await withConf(`[[registry]]\nlocation = "${primary.host}"\n[[registry.mirror]]\nlocation = "${mirror.host}"\n`, async () => {
      const image = await client().resolve(`${primary.host}/app:v1`);
      expect(image.source.registry).toBe(mirror.host);
      expect(image.reference.registry).toBe(primary.host);
      expect(image.manifestDigest).toBe(fromMirror.manifestDigest);
    });
    await withConf(`[[registry]]\nlocation = "${primary.host}"\n[[registry.mirror]]\nlocation = "127.0.0.1:${dead}"\n`, async () => {
      expect((await client().resolve(`${primary.host}/app:v1`)).source.registry).toBe(primary.host);
    });
  });

  test('a blocked registry is refused before any request', async () => {
    const reg = await registry();
    const proxy = await startRegistryProxy(reg);
    cleanups.push(() => proxy.stop());
    await withConf(`[[registry]]\nlocation = "${proxy.host}"\nblocked = true\n`, async () => {
      await expect(client().resolve(`${proxy.host}/app:v1`)).rejects.toThrow(
        new RegExp(`^cannot pull ${proxy.host}/app:v1: registry "${proxy.host}" is blocked in .*registries\\.conf$`),
      );
    });
    expect(proxy.requests).toEqual([]);
  });
});

test('the harness turns the busybox rootfs into a layer: owner 0:0, modes and symlinks kept', async () => {
  const reg = await registry();
  const pushed = await pushImage(reg, 'busybox', 'latest', { format: 'oci', layers: [{ entries: busyboxLayer(modes()[0]!.rootfs), compression: 'gzip' }], config: { Cmd: ['sh'] } });
  const c = client();
  const image = await c.resolve(`${reg.host}/busybox`);
  const blob = await readAll(await c.openBlob(image, image.manifest.layers[0]!));
  expect(blob.equals(pushed.layers[0]!.blob)).toBe(true);
  const listing = execFileSync('tar', ['-tvzf', '-', '--numeric-owner'], { input: blob, encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n');
  expect(listing.find((l) => / bin\/busybox$/.test(l))).toMatch(/^-rwxr-xr-x 0\/0 /);
  expect(listing.find((l) => / bin\/sh -> /.test(l))).toMatch(/^lrwxrwxrwx 0\/0 .* bin\/sh -> \/bin\/busybox$/);
  expect(listing.find((l) => / tmp\/$/.test(l))).toMatch(/^drwxrwxrwt 0\/0 /);
  expect(listing.find((l) => / etc\/passwd$/.test(l))).toMatch(/^-rw-r--r-- 0\/0 /);
});
