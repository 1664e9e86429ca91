// system df, system prune, and the prune filters (until=, label=, label!=),
// as root and as the unprivileged test user.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { humanSize } from '../../lib/humanize.js';
import { integrationEnv, type Mode, describeModes } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type PushedImage, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;
let old: PushedImage;
let gold: PushedImage;
let shared: PushedImage;

const file = (name: string, data: string) => ({ name, data, mode: 0o644 });
const baseLayer = { compression: 'gzip' as const, entries: [{ name: 'bin/', type: '5', mode: 0o755 }, file('bin/base', 'b'.repeat(10_000))] };

beforeAll(async () => {
  reg = await startRegistry();
  old = await pushImage(reg, 'old', '1', { format: 'oci', layers: [baseLayer], imageConfig: { created: '2019-01-01T00:00:00Z' } });
  gold = await pushImage(reg, 'gold', '1', {
    format: 'oci',
    layers: [baseLayer, { compression: 'gzip', entries: [file('gold', 'g'.repeat(5000))] }],
    config: { Labels: { tier: 'gold' } },
    imageConfig: { created: '2022-01-01T00:00:00Z' },
  });
  await pushImage(reg, 'bb', '1', { format: 'oci', layers: [{ compression: 'gzip', entries: busyboxLayer(integrationEnv().imageRootfs) }] });
  shared = await pushImage(reg, 'shared', '1', {
    format: 'oci',
    layers: [baseLayer, { compression: 'gzip', entries: [file('shared', 's'.repeat(3000))] }],
    imageConfig: { created: '2023-01-01T00:00:00Z' },
  });
}, 300_000);

afterAll(async () => {
  await reg?.stop();
});

async function storeWith(mode: Mode, ...repos: string[]): Promise<TestStore> {
  const s = newStore(mode);
  for (const repo of repos) {
    const r = await s.skiff(['pull', '-q', `${reg.host}/${repo}`]);
    expect(r, r.stderr).toMatchObject({ code: 0 });
  }
  return s;
}

const tags = async (s: TestStore) => (await s.skiff(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n').filter(Boolean).sort();

describeModes('disk use and pruning ($name)', (mode) => {
  test('image prune -a --filter label= / label!= / until= removes only what they let go', async () => {
    const s = await storeWith(mode, 'old:1', 'gold:1', 'shared:1');
    const gone = await s.skiff(['image', 'prune', '-a', '-f', '--filter', 'label=tier=gold']);
    expect(gone, gone.stderr).toMatchObject({ code: 0 });
    expect(gone.stdout).toContain(`deleted: ${gold.configDigest}`);
    expect(await tags(s)).toEqual([`${reg.host}/old:1`, `${reg.host}/shared:1`]);
    const before2021 = await s.skiff(['image', 'prune', '-a', '-f', '--filter', 'until=2021-01-01T00:00:00Z']);
    expect(before2021.stdout).toContain(`deleted: ${old.configDigest}`);
    expect(await tags(s)).toEqual([`${reg.host}/shared:1`]);
    const unlabelled = await s.skiff(['image', 'prune', '-a', '-f', '--filter', 'label!=tier']);
    expect(unlabelled.stdout).toContain(`deleted: ${shared.configDigest}`);
    expect(await tags(s)).toEqual([]);
    expect(s.ls('layers')).toEqual([]);
    const bad = await s.skiff(['image', 'prune', '-f', '--filter', 'dangling=maybe']);
    expect(bad).toMatchObject({ code: 125, stdout: '' });
    expect(bad.stderr).toMatch(/^Error: invalid filter "dangling=maybe": prune takes until=TIME, label=KEY\[=VALUE\] and label!=KEY\[=VALUE\]\n$/);
  });

  test('system df: images (a shared layer counted once, with the compressed blobs the store keeps) and containers, -v and --format', async () => {
    const s = await storeWith(mode, 'gold:1', 'shared:1');
    const made = await s.skiff(['create', '--name', 'writer', '-v', 'data:/data', `${reg.host}/gold:1`, 'true']);
    expect(made, made.stderr).toMatchObject({ code: 0 });
    expect((await s.skiff(['volume', 'create', 'spare'])).code).toBe(0);
    // A layer takes its unpacked files and its gzip blob as pulled (kept for push and save); an image its config and manifest too.
    const own = (img: PushedImage) => img.configBytes.length + img.manifestBytes.length;
    const base = 10_000 + gold.layers[0]!.size;
    const goldOwn = 5_000 + gold.layers[1]!.size + own(gold);
    const sharedOwn = 3_000 + shared.layers[1]!.size + own(shared);
    const total = base + goldOwn + sharedOwn;
    // What is on disk: the unpacked content, and every file of blobs/.
    const blobs = s.ls('blobs/sha256').reduce((n, f) => n + statSync(path.join(s.root, 'blobs/sha256', f)).size, 0);
    expect(total).toBe(18_000 + blobs);
    const r = await s.skiff(['system', 'df']);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/ {2,}/));
    expect(lines[0]).toEqual(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE']);
    // gold is in use: shared's own layer, blob, config and manifest can go.
    const reclaimable = `${humanSize(sharedOwn, 3)} (${Math.floor((sharedOwn * 100) / total)}%)`;
    expect(lines[1]).toEqual(['Images', '2', '1', humanSize(total, 3), reclaimable]);
    expect(lines[2]![0]).toBe('Containers');
    expect(lines[2]!.slice(1, 3)).toEqual(['1', '0']);
    expect(lines[3]).toEqual(['Local Volumes', '2', '1', '0B', '0B']);
    const json = (await s.skiff(['system', 'df', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(json[0]).toEqual({ Type: 'Images', TotalCount: '2', Active: '1', Size: humanSize(total, 3), Reclaimable: reclaimable });
    expect((await s.skiff(['system', 'df', '--format', '{{.Type}}={{.TotalCount}}'])).stdout).toBe('Images=2\nContainers=1\nLocal Volumes=2\n');
    const v = await s.skiff(['system', 'df', '-v']);
    expect(v.stdout).toMatch(/^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\n/);
    const row = [humanSize(base + goldOwn, 3), humanSize(base, 3), humanSize(goldOwn, 3)].map((x) => x.replace('.', '\\.')).join(' +');
    expect(v.stdout).toMatch(new RegExp(`${reg.host}/gold +1 +${gold.configDigest.slice(7, 19)} .* ${row} +1\\n`));
    expect(v.stdout).toMatch(/Containers space usage:\n\nCONTAINER ID +IMAGE +COMMAND +LOCAL VOLUMES +SIZE +CREATED +STATUS +NAMES\n[0-9a-f]{12} .* "true" +1 +0B .* writer\n/);
    expect(v.stdout).toMatch(/Local Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\ndata +1 +0B\nspare +0 +0B\n$/);
  });

  test('system df counts what a prune frees: kept blobs, keep-id copies (rootless); image prune -a removes them all', async () => {
    const s = await storeWith(mode, 'gold:1');
    const own = (img: PushedImage) => img.configBytes.length + img.manifestBytes.length;
    let total = 10_000 + gold.layers[0]!.size + 5_000 + gold.layers[1]!.size + own(gold);
    if (mode.user) {
      // --userns keep-id copies the image's layers once with their owners moved (when the container is made): their content again.
      const made = await s.skiff(['create', '--name', 'keepid', '--network', 'none', '--userns', 'keep-id', `${reg.host}/gold:1`, 'true']);
      expect(made, made.stderr).toMatchObject({ code: 0 });
      expect((await s.skiff(['rm', 'keepid'])).code).toBe(0);
      total += 15_000;
    }
    const df = async () => JSON.parse((await s.skiff(['system', 'df', '--format', 'json'])).stdout.split('\n')[0]!) as { Size: string; Reclaimable: string };
    expect(await df()).toEqual({ Type: 'Images', TotalCount: '1', Active: '0', Size: humanSize(total, 3), Reclaimable: `${humanSize(total, 3)} (100%)` });
    const pruned = await s.skiff(['image', 'prune', '-a', '-f']);
    expect(pruned, pruned.stderr).toMatchObject({ code: 0 });
    expect(pruned.stdout).toMatch(new RegExp(`Total reclaimed space: ${humanSize(total).replace('.', '\\.')}\n$`));
    expect(s.ls('blobs/sha256')).toEqual([]);
    expect(s.ls('layers')).toEqual([]);
  });

  test('system prune: stopped containers and dangling images; -a every image no container uses', async () => {
    // old pulled by digest only: no tag, dangling.
    const s = await storeWith(mode, `old@${old.manifestDigest}`, 'gold:1', 'shared:1', 'bb:1');
    expect((await s.skiff(['create', '--name', 'stopped', `${reg.host}/gold:1`, 'true'])).code).toBe(0);
    expect((await s.skiff(['run', '-d', '--name', 'running', `${reg.host}/bb:1`, 'sleep', '30'])).code).toBe(0);
    const r = await s.skiff(['system', 'prune', '-f']);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/^Deleted Containers:\n[0-9a-f]{64}\n\n/);
    expect(r.stdout).toContain(`deleted: ${old.configDigest}`);
    expect(r.stdout).not.toContain(`deleted: ${gold.configDigest}`);
    expect(r.stdout).toMatch(/Total reclaimed space: \S+\n$/);
    expect((await s.skiff(['ps', '-a', '--format', '{{.Names}}'])).stdout).toBe('running\n');
    // -a: gold (its container is gone) and shared go; bb stays for the running container.
    const all = await s.skiff(['system', 'prune', '-a', '-f']);
    expect(all, all.stderr).toMatchObject({ code: 0 });
    expect(all.stdout).toContain('Deleted Images:\n');
    expect(await tags(s)).toEqual([`${reg.host}/bb:1`]);
    await s.skiff(['rm', '-f', 'running']);
    // --volumes: an anonymous volume its container no longer holds goes too; a named one stays.
    expect((await s.skiff(['create', '--name', 'anon', '-v', '/scratch', '-v', 'named:/named', `${reg.host}/bb:1`, 'true'])).code).toBe(0);
    const anonymous = (await s.skiff(['volume', 'ls', '-q'])).stdout.split('\n').filter((n) => n !== '' && n !== 'named');
    expect(anonymous).toHaveLength(1);
    const withVolumes = await s.skiff(['system', 'prune', '-f', '--volumes']);
    expect(withVolumes, withVolumes.stderr).toMatchObject({ code: 0 });
    expect(withVolumes.stdout).toContain(`Deleted Volumes:\n${anonymous[0]}\n\n`);
    expect((await s.skiff(['volume', 'ls', '-q'])).stdout).toBe('named\n');
    const cancelled = await s.skiff(['system', 'prune'], { input: 'n\n' });
    expect(cancelled).toMatchObject({ code: 125, stdout: '' });
    expect(cancelled.stderr).toContain('WARNING! This will remove:\n  - all stopped containers\n  - all dangling images\n');
    expect(cancelled.stderr).toMatch(/Error: system prune has been cancelled\n$/);
  });
});
