// lib/code-parts.ts: each optional path of run marks its part of the code as
// it enters it, so that V8's code cache of the bundle is written again with
// that part's functions (lib/code-cache.ts). Each case enters one path with
// the real module and a store of its own, and looks at the mask.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_PARTS, usedCodeParts, type CodePart } from '../../lib/code-parts.js';
import { startContainer } from '../../lib/containers/lifecycle.js';
import { resolveStorage, type StorageContext } from '../../lib/containers/mounts.js';
import { NO_NETWORK_FLAGS, resolveContainerNetwork } from '../../lib/containers/network.js';
import type { ContainerRecord } from '../../lib/containers/store.js';

let work: string;
const saved = { root: process.env['SKIFF_ROOT'], runroot: process.env['SKIFF_RUNROOT'] };

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'skiff-code-parts-'));
  process.env['SKIFF_ROOT'] = path.join(work, 'store');
  process.env['SKIFF_RUNROOT'] = path.join(work, 'run');
  mkdirSync(path.join(work, 'bind'));
});
afterAll(() => {
  for (const [name, value] of [['SKIFF_ROOT', saved.root], ['SKIFF_RUNROOT', saved.runroot]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  rmSync(work, { recursive: true, force: true });
});

const taken = (part: CodePart): boolean => (usedCodeParts() & CODE_PARTS[part]) !== 0;

const storageContext = (): StorageContext => ({ imageVolumes: [], rootless: false, userns: false, subIds: false, cwd: work, mountsOf: () => [] });
const storageFlags = { volumes: [] as string[], mounts: [] as string[], tmpfs: [] as string[], volumesFrom: [] as string[], readOnly: false, readOnlyTmpfs: true };

const networkContext = { id: 'a'.repeat(64), hostname: 'h', rootless: false, imageFiles: true, utsHost: false, joinsUserNamespace: false };

describe('code parts', () => {
  it('each part has a bit of its own, in the cache header\'s byte', () => {
    const bits = Object.values(CODE_PARTS);
    expect(new Set(bits).size).toBe(bits.length);
    for (const bit of bits) {
      expect(bit & (bit - 1)).toBe(0);
      expect(bit).toBeLessThan(256);
    }
  });

  it('a tmpfs alone takes no part; a bind mount takes bindMounts, and only it', () => {
    resolveStorage({ ...storageFlags, tmpfs: ['/scratch'] }, storageContext());
    expect(taken('bindMounts')).toBe(false);
    resolveStorage({ ...storageFlags, volumes: [`${path.join(work, 'bind')}:/mnt`] }, storageContext());
    expect(taken('bindMounts')).toBe(true);
    expect(taken('volumes')).toBe(false);
  });

  it('a named volume takes volumes', () => {
    expect(taken('volumes')).toBe(false);
    const r = resolveStorage({ ...storageFlags, volumes: ['data:/data'] }, storageContext());
    expect(r.mountPoints).toMatchObject([{ Type: 'volume', Name: 'data', Destination: '/data' }]);
    expect(taken('volumes')).toBe(true);
  });

  it('-p takes publishedPorts (entered before the network is looked at)', async () => {
    expect(taken('publishedPorts')).toBe(false);
    await expect(resolveContainerNetwork({ ...NO_NETWORK_FLAGS, network: 'none' }, networkContext)).resolves.toMatchObject({});
    expect(taken('publishedPorts')).toBe(false);
    await expect(resolveContainerNetwork({ ...NO_NETWORK_FLAGS, network: 'none', publish: ['8080:80'] }, networkContext)).rejects.toThrow(/has no network to publish from/);
    expect(taken('publishedPorts')).toBe(true);
  });

  it('--network NAME takes userNetworks', async () => {
    expect(taken('userNetworks')).toBe(false);
    await expect(resolveContainerNetwork({ ...NO_NETWORK_FLAGS, network: 'nosuchnet' }, networkContext)).rejects.toThrow(/nosuchnet/);
    expect(taken('userNetworks')).toBe(true);
  });

  it("a start under skiff's monitor takes monitor", async () => {
    expect(taken('monitor')).toBe(false);
    const record = { Id: 'b'.repeat(64), Name: 'parts' } as unknown as ContainerRecord;
    await expect(startContainer(record)).rejects.toThrow(/has no config.json/);
    expect(taken('monitor')).toBe(true);
  });
});
