// What other tools make of what skiff writes, and the other way round, with
// the real tools of this machine: Podman loads and runs skiff's
// docker-archive and oci-archive, skiff loads and runs what `podman save`
// wrote, umoci unpacks skiff's OCI layout, an image committed or built by
// skiff is pulled and run by Podman, and an image committed, pushed,
// removed and pulled again still has the committed file. Podman and umoci
// run as root here (Podman with runc and cgroupfs: this host has no crun and
// no systemd); without root, or without the tools, these tests are skipped
// and say why.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NEEDS_ROOT, skipTitle } from '../skip.js';
import { integrationEnv, modes } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type PushedImage, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';

const isRoot = process.getuid?.() === 0;
const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const podmanWhy = !isRoot ? `${NEEDS_ROOT}, Podman runs as root here` : !has('podman') ? "podman is not installed: run 'scripts/install-system-deps.sh'" : !has('runc') ? "runc is not installed: run 'scripts/install-system-deps.sh'" : undefined;
const umociWhy = !isRoot ? NEEDS_ROOT : !has('umoci') ? "umoci is not installed: run 'scripts/install-system-deps.sh'" : undefined;

let reg: TestRegistry;
let app: PushedImage;
let work: string;
let podmanRoot: string;

/** Podman as root in a store of its own; runc, cgroupfs, limits this sandbox allows, no network. */
function podman(args: string[], input?: Buffer): string {
  const base = ['--root', path.join(podmanRoot, 'storage'), '--runroot', path.join(podmanRoot, 'run'), '--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
  return execFileSync('podman', [...base, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
}
const podmanRun = (image: string, cmd: string[]) =>
  podman(['run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, ...cmd]);

beforeAll(async () => {
  reg = await startRegistry();
  const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
  app = await pushImage(reg, 'app', '1', {
    format: 'docker',
    layers: [bb, { compression: 'gzip', entries: [{ name: 'srv/', type: '5', mode: 0o755 }, { name: 'srv/hello', data: 'hello from skiff\n', mode: 0o644 }] }],
    config: { Cmd: ['cat', '/srv/hello'] },
  });
  work = mkdtempSync(path.join(integrationEnv().workDir, 'interop-'));
  chmodSync(work, 0o755);
  // Podman refuses a run root of 50 characters or more.
  podmanRoot = mkdtempSync('/tmp/skiff-pd-');
}, 300_000);

afterAll(async () => {
  await reg?.stop();
  if (podmanRoot && !podmanWhy) spawnSync('podman', ['--root', path.join(podmanRoot, 'storage'), '--runroot', path.join(podmanRoot, 'run'), 'system', 'reset', '-f'], { stdio: 'ignore' });
  if (podmanRoot) rmSync(podmanRoot, { recursive: true, force: true });
});

async function pulled(): Promise<TestStore> {
  const s = newStore(modes()[0]!);
  const r = await s.skiff(['pull', '-q', `${reg.host}/app:1`]);
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return s;
}

describe('interoperability with Podman', () => {
  test.skipIf(podmanWhy !== undefined)(skipTitle("podman loads skiff's docker-archive and oci-archive and runs them", podmanWhy), async () => {
    const s = await pulled();
    for (const format of ['docker-archive', 'oci-archive']) {
      const file = path.join(work, `skiff-${format}.tar`);
      const saved = await s.skiff(['save', '--format', format, '-o', file, `${reg.host}/app:1`]);
      expect(saved, saved.stderr).toMatchObject({ code: 0 });
      const loaded = podman(['load', '-q', '-i', file]);
      expect(loaded).toContain(`${reg.host}/app:1`);
      // The same image: the config digest is the id.
      expect(podman(['image', 'inspect', '--format', '{{.Id}}', `${reg.host}/app:1`]).trim()).toBe(app.configDigest.slice(7));
      expect(podmanRun(`${reg.host}/app:1`, [])).toBe('hello from skiff\n');
      podman(['rmi', '-f', `${reg.host}/app:1`]);
    }
  });

  test.skipIf(podmanWhy !== undefined)(skipTitle('skiff loads what podman save wrote (docker-archive and oci-archive) and runs it', podmanWhy), async () => {
    podman(['pull', '-q', '--tls-verify=false', `${reg.host}/app:1`]);
    for (const format of ['docker-archive', 'oci-archive']) {
      const file = path.join(work, `podman-${format}.tar`);
      podman(['save', '-q', '--format', format, '-o', file, `${reg.host}/app:1`]);
      chmodSync(file, 0o644);
      const s = newStore(modes()[0]!);
      const loaded = await s.skiff(['load', '-i', file]);
      expect(loaded, loaded.stderr).toMatchObject({ code: 0, stdout: `Loaded image: ${reg.host}/app:1\n` });
      expect((await s.skiff(['image', 'inspect', '--format', '{{.Id}}', `${reg.host}/app:1`])).stdout.trim()).toBe(app.configDigest);
      const run = await s.skiff(['run', '--rm', `${reg.host}/app:1`]);
      expect(run, run.stderr).toMatchObject({ code: 0, stdout: 'hello from skiff\n' });
    }
  });

  test.skipIf(podmanWhy !== undefined)(skipTitle('a committed image pushed by skiff is pulled and run by podman', podmanWhy), async () => {
    const s = await pulled();
    expect((await s.skiff(['run', '--name', 'c', `${reg.host}/app:1`, 'sh', '-c', 'echo committed > /srv/new; rm /srv/hello'])).code).toBe(0);
    expect((await s.skiff(['commit', '-q', '-c', 'CMD ["cat", "/srv/new"]', 'c', `${reg.host}/committed:1`])).code).toBe(0);
    const pushed = await s.skiff(['push', '-q', `${reg.host}/committed:1`]);
    expect(pushed, pushed.stderr).toMatchObject({ code: 0 });
    podman(['pull', '-q', '--tls-verify=false', `${reg.host}/committed:1`]);
    expect(podmanRun(`${reg.host}/committed:1`, [])).toBe('committed\n');
    expect(podmanRun(`${reg.host}/committed:1`, ['sh', '-c', 'ls /srv'])).toBe('new\n');
  });

  test.skipIf(podmanWhy !== undefined)(skipTitle('an image skiff built (RUN, a deleted file, COPY, WORKDIR) and pushed is pulled and run by podman', podmanWhy), async () => {
    const s = await pulled();
    const ctx = mkdtempSync(path.join(work, 'ctx-'));
    writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${reg.host}/app:1\nRUN echo built > /srv/built && rm /srv/hello\nCOPY f /srv/f\nWORKDIR /srv\nCMD ["sh", "-c", "pwd; ls; cat built f"]\n`);
    writeFileSync(path.join(ctx, 'f'), 'copied\n');
    const built = await s.skiff(['build', '-q', '-t', `${reg.host}/built:1`, ctx]);
    expect(built, built.stderr).toMatchObject({ code: 0 });
    const pushed = await s.skiff(['push', '-q', `${reg.host}/built:1`]);
    expect(pushed, pushed.stderr).toMatchObject({ code: 0 });
    podman(['pull', '-q', '--tls-verify=false', `${reg.host}/built:1`]);
    expect(podman(['image', 'inspect', '--format', '{{.Id}}', `${reg.host}/built:1`]).trim()).toBe(built.stdout.trim());
    expect(podmanRun(`${reg.host}/built:1`, [])).toBe('/srv\nbuilt\nf\nbuilt\ncopied\n');
  });
});

describe('interoperability with umoci', () => {
  test.skipIf(umociWhy !== undefined)(skipTitle("umoci unpacks skiff's oci-dir", umociWhy), async () => {
    const s = await pulled();
    const dir = path.join(work, 'layout');
    expect((await s.skiff(['save', '--format', 'oci-dir', '-o', dir, `${reg.host}/app:1`])).code).toBe(0);
    const bundle = path.join(work, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${dir}:${reg.host}/app:1`, bundle], { stdio: 'pipe' });
    expect(readFileSync(path.join(bundle, 'rootfs/srv/hello'), 'utf8')).toBe('hello from skiff\n');
    expect(existsSync(path.join(bundle, 'rootfs/bin/busybox'))).toBe(true);
  });
});

describe('round trips through the store', () => {
  test('pull, save, rmi, load, run: the same image id; commit, push, rmi, pull, run: the committed file', async () => {
    for (const mode of modes()) {
      const s = newStore(mode);
      expect((await s.skiff(['pull', '-q', `${reg.host}/app:1`])).code).toBe(0);
      expect((await s.skiff(['run', '--name', 'c', `${reg.host}/app:1`, 'sh', '-c', 'echo mine > /srv/mine'])).code).toBe(0);
      const dest = `${reg.host}/roundtrip-${mode.name}:1`;
      expect((await s.skiff(['commit', '-q', 'c', dest])).code).toBe(0);
      const pushed = await s.skiff(['push', '-q', dest]);
      expect(pushed, pushed.stderr).toMatchObject({ code: 0 });
      expect((await s.skiff(['rm', 'c'])).code).toBe(0);
      expect((await s.skiff(['rmi', dest])).code).toBe(0);
      expect((await s.skiff(['pull', '-q', dest])).code).toBe(0);
      const run = await s.skiff(['run', '--rm', dest, 'cat', '/srv/mine']);
      expect(run, run.stderr).toMatchObject({ code: 0, stdout: 'mine\n' });
    }
  });
});
