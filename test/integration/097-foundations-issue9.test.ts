// Issue 9's defects found by trying skiff as a user would, each guarded by a
// test named after it: the container's root directory mode, compressed
// archives on `cp -`'s stdin, run against a concurrent rmi, concurrent pulls
// of one image. Real registry, real helper, as root and rootless.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { asModeUser, collect, describeModes, integrationEnv, modes, skiffBin, type Mode, type Result } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, startRegistryProxy, type PushedImage, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';
import { makeTar } from '../unit/helpers/make-tar.js';
import { skipTitle } from '../skip.js';

let reg: TestRegistry;
let big: PushedImage;
const root = (mode: number) => ({ name: './', type: '5', mode });
const file = (name: string, data: string) => ({ name, data, mode: 0o644 });

beforeAll(async () => {
  reg = await startRegistry();
  const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
  const cfg = { Cmd: ['sh'] };
  // busyboxLayer has no "./" entry, as many layers have not.
  await pushImage(reg, 'rootmode', 'none', { format: 'oci', layers: [bb], config: cfg });
  // A root entry in the lowest layer holds through layers above that have none.
  await pushImage(reg, 'rootmode', '555', { format: 'oci', layers: [{ compression: 'gzip', entries: [root(0o555)] }, bb, { compression: 'gzip', entries: [file('x', 'x\n')] }], config: cfg });
  // The uppermost root entry wins.
  await pushImage(reg, 'rootmode', '555-then-750', {
    format: 'oci',
    layers: [bb, { compression: 'gzip', entries: [root(0o555)] }, { compression: 'gzip', entries: [root(0o750), file('y', 'y\n')] }],
    config: cfg,
  });
  // Two layers of 8 MiB that gzip cannot shrink: a pull takes long enough for another to overlap it.
  const noise = (n: number) => ({ compression: 'gzip' as const, entries: [{ name: `noise${n}`, data: randomBytes(8 << 20), mode: 0o644 }] });
  big = await pushImage(reg, 'shared-pull', '1', { format: 'oci', layers: [bb, noise(1), noise(2)], config: cfg });
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

/** skiff run under a shell with `umask`, as a user whose profile sets one. */
function skiffWithUmask(mode: Mode, store: TestStore, umask: string, args: string[]): Promise<Result> {
  const [cmd, ...rest] = asModeUser(mode, ['sh', '-c', `umask ${umask}; exec "$0" "$@"`, skiffBin(), ...args]);
  const child = spawn(cmd!, rest, {
    env: { SKIFF_ROOT: store.root, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: mode.user?.home ?? '/root', LANG: 'C.UTF-8' },
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: '/',
  });
  return collect(child);
}

describeModes("issue 9: the container's root directory mode ($name)", (mode) => {
  test("the container's / has the mode of the uppermost layer's root entry, else 0755, whatever the caller's umask", async () => {
    const store = newStore(mode);
    const want: Record<string, string> = { none: '755', '555': '555', '555-then-750': '750' };
    for (const [tag, perm] of Object.entries(want)) {
      const r = await store.skiff(['run', '--rm', '--network', 'none', `${reg.host}/rootmode:${tag}`, 'stat', '-c', '%a %u', '/']);
      expect({ tag, code: r.code, stdout: r.stdout }).toEqual({ tag, code: 0, stdout: `${perm} 0\n` });
    }
    // A umask of 077 made the upper dir, and with it "/", 0700.
    const masked = await skiffWithUmask(mode, store, '077', ['run', '--rm', '--network', 'none', `${reg.host}/rootmode:none`, 'stat', '-c', '%a', '/']);
    expect(masked).toEqual({ code: 0, signal: null, stdout: '755\n', stderr: '' });
    // create + start takes the same path.
    expect((await store.skiff(['create', '--name', 'c555', '--network', 'none', `${reg.host}/rootmode:555`, 'stat', '-c', '%a', '/'])).code).toBe(0);
    expect(await store.skiff(['start', '-a', 'c555'])).toMatchObject({ code: 0, stdout: '555\n' });
  }, 90_000);
});

/** A host directory for the test's files, readable by the mode's user. */
function hostDir(prefix: string): string {
  const d = mkdtempSync(path.join(integrationEnv().workDir, prefix));
  chmodSync(d, 0o755);
  return d;
}

/** skiff with stdin read from a host file (as `skiff cp - c:/d < file`), in a private mount namespace with `binds` when given. */
function skiffFromFile(mode: Mode, store: TestStore, file: string, args: string[], binds: [string, string][] = []): Promise<Result> {
  const fd = openSync(file, 'r');
  const env = { SKIFF_ROOT: store.root, PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: mode.user?.home ?? '/root', LANG: 'C.UTF-8' };
  let cmd: string[] = asModeUser(mode, [skiffBin(), ...args]);
  if (binds.length > 0) {
    const mounts = binds.map(([target, source]) => `mount --bind '${source}' '${target}' && `).join('');
    cmd = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `${mounts}exec "$0" "$@"`, ...cmd];
  }
  const child = spawn(cmd[0]!, cmd.slice(1), { env, stdio: [fd, 'pipe', 'pipe'], cwd: '/' });
  return collect(child).finally(() => closeSync(fd));
}

const program = (name: string) => ['/usr/bin', '/bin'].map((d) => path.join(d, name)).find((f) => existsSync(f));
/** Each compression Docker's archive input takes (and zstd, which skiff reads in layers too). */
const COMPRESSORS = ['gzip', 'zstd', 'bzip2', 'xz'] as const;

describeModes('issue 9: cp - takes a compressed tar on stdin ($name)', (mode) => {
  for (const tool of COMPRESSORS) {
    const bin = program(tool);
    const skip = bin === undefined ? `${tool} is not installed: apt-get install ${tool === 'xz' ? 'xz-utils' : tool}` : undefined;
    test.skipIf(skip !== undefined)(skipTitle(`cp-stdin-compressed: a ${tool} archive unpacks into the container, from a file and from a pipe`, skip), async () => {
      const store = newStore(mode);
      const d = hostDir('cpz-');
      expect((await store.skiff(['run', '-d', '--name', 'z', '--network', 'none', `${reg.host}/rootmode:none`, 'sleep', '600'])).code).toBe(0);
      try {
        // Big enough (2 MiB, half of it incompressible) that the decompressor and the unpack must take turns.
        const tar = makeTar([
          { name: `${tool}/`, type: '5', mode: 0o755 },
          { name: `${tool}/y`, data: `from ${tool}\n`, mode: 0o600 },
          { name: `${tool}/big`, data: Buffer.concat([Buffer.alloc(1 << 20, 7), execFileSync('head', ['-c', String(1 << 20), '/dev/urandom'])]), mode: 0o644 },
        ]);
        const file = path.join(d, `in.tar.${tool}`);
        writeFileSync(file, execFileSync(bin!, ['-c'], { input: tar, maxBuffer: 1 << 24 }));
        const fromFile = await skiffFromFile(mode, store, file, ['cp', '-', 'z:/tmp']);
        expect(fromFile).toEqual({ code: 0, signal: null, stdout: '', stderr: '' });
        const check = await store.skiff(['exec', 'z', 'sh', '-c', `cat /tmp/${tool}/y; stat -c "%a %s" /tmp/${tool}/y /tmp/${tool}/big; rm -r /tmp/${tool}`]);
        expect(check.stdout).toBe(`from ${tool}\n600 ${tool.length + 6}\n644 ${2 << 20}\n`);
        const fromPipe = await store.skiff(['cp', '-', 'z:/tmp'], { input: execFileSync(bin!, ['-c'], { input: tar, maxBuffer: 1 << 24 }) });
        expect([fromPipe.code, fromPipe.stderr]).toEqual([0, '']);
        expect((await store.skiff(['exec', 'z', 'cat', `/tmp/${tool}/y`])).stdout).toBe(`from ${tool}\n`);
        if (tool !== 'gzip') return;
        // Damaged: one line, exit 125, nothing copied.
        const gz = execFileSync('gzip', ['-c'], { input: makeTar([{ name: 'cut/', type: '5', mode: 0o755 }, { name: 'cut/r', data: execFileSync('head', ['-c', '200000', '/dev/urandom']), mode: 0o644 }]) });
        writeFileSync(path.join(d, 'cut.tar.gz'), gz.subarray(0, gz.length - 100));
        const cut = await skiffFromFile(mode, store, path.join(d, 'cut.tar.gz'), ['cp', '-', 'z:/tmp']);
        expect(cut).toEqual({ code: 125, signal: null, stdout: '', stderr: 'Error: the archive on stdin cannot be decompressed (gzip: unexpected end of file): it is damaged or truncated\n' });
        expect((await store.skiff(['exec', 'z', 'ls', '/tmp'])).stdout).not.toMatch(/cut/);
      } finally {
        await store.skiff(['rm', '-f', 'z']);
      }
    }, 90_000);
  }
});

// The external decompressors hidden in a private mount namespace (the host's
// programs are never touched): needs root to make the namespace.
const asRoot = process.getuid?.() === 0;
describe.skipIf(!asRoot)(`issue 9: cp - with a decompressor missing${asRoot ? '' : ' (skipped: the private mount namespaces need root: run the suite as root)'}`, () => {
  for (const mode of modes()) {
    test(`an xz, bzip2 or zstd archive without its program is one line naming the package (${mode.name})`, async () => {
      const store = newStore(mode);
      const d = hostDir('cpmissing-');
      const notProgram = path.join(d, 'not-a-program');
      writeFileSync(notProgram, '', { mode: 0o644 });
      expect((await store.skiff(['run', '-d', '--name', 'm', '--network', 'none', `${reg.host}/rootmode:none`, 'sleep', '600'])).code).toBe(0);
      try {
        const tar = makeTar([{ name: 'm', data: 'm\n', mode: 0o644 }]);
          for (const [tool, pkg] of [['xz', 'xz-utils'], ['bzip2', 'bzip2'], ['zstd', 'zstd']] as const) {
          const bin = program(tool);
          if (bin === undefined) continue; // already missing: the case above is skipped and says so
          const file = path.join(d, `in.tar.${tool}`);
          writeFileSync(file, execFileSync(bin, ['-c'], { input: tar }));
          const r = await skiffFromFile(mode, store, file, ['cp', '-', 'm:/tmp'], [[bin, notProgram]]);
          expect(r).toEqual({ code: 125, signal: null, stdout: '', stderr: `Error: the archive on stdin is ${tool}-compressed and the ${tool} program is not installed: install the '${pkg}' package\n` });
        }
      } finally {
        await store.skiff(['rm', '-f', 'm']);
      }
    }, 90_000);
  }
});

/** Resolves after `ms`. */
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describeModes('issue 9: run IMAGE against a concurrent rmi IMAGE ($name)', (mode) => {
  test('run-vs-rmi, deterministic: an rmi that completes between the run finding its image and making its container makes the run fail in one line, with no container left', async () => {
    const store = newStore(mode);
    const image = `${reg.host}/rootmode:none`;
    expect((await store.skiff(['pull', '-q', image])).code).toBe(0);
    // The run stops after finding its image, reading --env-file from a FIFO (as `--env-file <(...)` does), until the test writes it.
    const d = hostDir('rmirace-');
    if (mode.user) chownSync(d, mode.user.uid, mode.user.gid);
    const fifo = path.join(d, 'env');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    if (mode.user) chownSync(fifo, mode.user.uid, mode.user.gid);
    const child = store.spawn(['run', '--name', 'held', '--network', 'none', '--env-file', fifo, image, 'echo', 'ran']);
    const done = collect(child);
    const waitingOnFifo = () => {
      try {
        return readdirSync(`/proc/${child.pid}/task`).some((t) => ['wait_for_partner', 'fifo_open'].includes(readFileSync(`/proc/${child.pid}/task/${t}/wchan`, 'utf8')));
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 600 && !waitingOnFifo(); i++) await sleep(50);
    expect(waitingOnFifo()).toBe(true);
    const rmi = await store.skiff(['rmi', image]);
    expect(rmi.code).toBe(0);
    writeFileSync(fifo, 'FROM_FIFO=1\n');
    expect(await done).toEqual({ code: 125, signal: null, stdout: '', stderr: `Error: image ${image} was removed (rmi) while the container was being created from it: run it again\n` });
    expect((await store.skiff(['ps', '-a', '-q'])).stdout).toBe('');
    expect(store.ls('containers').filter((n) => n !== 'names')).toEqual([]);
    // Run again: it pulls the image back and runs.
    expect(await store.skiff(['run', '--rm', '--network', 'none', image, 'echo', 'again'])).toMatchObject({ code: 0, stdout: 'again\n' });
  }, 90_000);

  test('run-vs-rmi: the run holds the image (rmi: in use) or fails in one line, never starts without its layers or leaves a half-made container', async () => {
    const store = newStore(mode);
    const image = `${reg.host}/rootmode:none`;
    const outcomes = new Map<string, number>();
    // rmi starts first; run follows after a delay that homes in on the moment rmi
    // deletes: later when rmi won outright, earlier when it found the container.
    let delay = 150;
    for (let i = 0; i < 6; i++) {
      expect((await store.skiff(['pull', '-q', image])).code).toBe(0);
      const name = `race${i}`;
      const rmi = collect(store.spawn(['rmi', image]));
      await sleep(delay);
      const run = await store.skiff(['run', '--name', name, '--network', 'none', image, 'echo', 'ran']);
      const removed = await rmi;
      if (run.code === 0) {
        // It held its image: rmi either finished before the run looked (the run pulled again) or saw the container.
        expect(run.stdout).toBe('ran\n');
        expect(removed.code === 0 || (removed.code === 2 && /^Error: conflict: unable to remove repository reference .* - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}\n$/.test(removed.stderr))).toBe(true);
        expect((await store.skiff(['rm', name])).code).toBe(0);
      } else {
        // rmi took the image between the run's lookup and its container: one line, and no container left.
        expect(run).toEqual({ code: 125, signal: null, stdout: '', stderr: `Error: image ${image} was removed (rmi) while the container was being created from it: run it again\n` });
        expect(removed.code).toBe(0);
        expect((await store.skiff(['ps', '-a', '-q', '--filter', `name=${name}`])).stdout).toBe('');
      }
      const key = run.code === 0 ? (removed.code === 0 ? 'rmi first, run pulled again' : 'rmi refused: in use') : 'run failed in one line';
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (key === 'rmi first, run pulled again') delay += 15;
      else if (key === 'rmi refused: in use') delay = Math.max(0, delay - 15);
    }
    expect((await store.skiff(['ps', '-a', '-q'])).stdout).toBe('');
    expect(store.ls('containers').filter((n) => n !== 'names')).toEqual([]);
    // What the store kept is whole: the image runs (pulled again if rmi took it).
    expect(await store.skiff(['run', '--rm', '--network', 'none', image, 'echo', 'whole'])).toMatchObject({ code: 0, stdout: 'whole\n' });
    console.log(`run vs rmi (${mode.name}): ${[...outcomes].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
  }, 180_000);
});

describeModes('issue 9: concurrent pulls of one image ($name)', (mode) => {
  test('pull-shares-work: four pulls started at once all succeed, and each layer is downloaded once', async () => {
    const store = newStore(mode);
    const proxy = await startRegistryProxy(reg);
    try {
      const image = `${proxy.host}/shared-pull:1`;
      const pulls = await Promise.all(Array.from({ length: 4 }, () => store.skiff(['pull', image])));
      for (const p of pulls) expect([p.code, p.stdout]).toEqual([0, `${big.configDigest.slice('sha256:'.length)}\n`]);
      const gets = (digest: string) => proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${digest}`)).length;
      expect(big.layers.map((l) => gets(l.digest))).toEqual([1, 1, 1]);
      // The pulls that waited say so as a later pull does: the layer already exists.
      const skippedLines = pulls.flatMap((p) => p.stderr.split('\n').filter((l) => / skipped: already exists$/.test(l)));
      expect(skippedLines.length).toBe(3 * 3);
      expect(store.ls('layers').length).toBe(3);
      expect((await store.skiff(['run', '--rm', '--network', 'none', image, 'sh', '-c', 'wc -c < /noise1; wc -c < /noise2'])).stdout).toBe(`${8 << 20}\n${8 << 20}\n`);
    } finally {
      await proxy.stop();
    }
  }, 120_000);
});
