// --storage-driver vfs (issue 16): each container gets a plain copy of its
// image's layers instead of an overlay, as root and rootless. The same image
// tests as overlay: whiteouts and opaque directories applied, a directory
// replaced by a file and back, owners, modes and times kept; diff, commit, cp
// (stopped and running), export and ps --size see what the container changed;
// rm leaves nothing; the store keeps the driver it was made with and refuses
// another in one line, as Podman does.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { integrationEnv, describeModes, runSkiff, type Result } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { hostUidFor, newStore, type TestStore } from './store-harness.js';
import { NEEDS_ROOT, skipTitle } from '../skip.js';

let reg: TestRegistry;
let image = '';
let plain = '';
const dir = (name: string, extra: object = {}) => ({ name: `${name}/`, type: '5', mode: 0o755, ...extra });
const file = (name: string, data: string, extra: object = {}) => ({ name, data, mode: 0o644, ...extra });

beforeAll(async () => {
  reg = await startRegistry();
  const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
  await pushImage(reg, 'layered', '1', {
    format: 'oci',
    layers: [
      bb,
      {
        compression: 'gzip',
        entries: [
          dir('srv'), file('srv/old', 'old\n'),
          dir('opt'), file('opt/keep', 'keep\n'), file('opt/drop', 'drop\n'),
          dir('swap'), file('swap/inside', 'inside\n'),
          file('flip', 'a file\n'),
          file('owned', 'owned\n', { uid: 1000, gid: 1000, mode: 0o4750, mtime: 1_500_000_000 }),
        ],
      },
      // Whiteouts, an opaque directory, a directory replaced by a file and a file by a directory.
      {
        compression: 'zstd',
        entries: [
          dir('srv'), file('srv/.wh..wh..opq', ''), file('srv/new', 'new\n'),
          dir('opt'), file('opt/.wh.drop', ''),
          file('.wh.swap', ''), file('swap', 'now a file\n'),
          dir('flip'), file('flip/in', 'in\n'),
        ],
      },
    ],
    config: { Cmd: ['sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] },
  });
  image = `${reg.host}/layered:1`;
  await pushImage(reg, 'plain', '1', { format: 'oci', layers: [bb], config: { Cmd: ['sh'] } });
  plain = `${reg.host}/plain:1`;
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

/** One line on stderr, nothing on stdout, the exit code. */
function expectOneLine(r: Result, code: number, pattern: RegExp): void {
  expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(code);
}

async function ok(s: TestStore, args: string[], input?: string): Promise<string> {
  const r = await s.skiff(args, input !== undefined ? { input } : {});
  expect(r, `${args.join(' ')}: ${r.stderr}`).toMatchObject({ code: 0 });
  return r.stdout;
}

const SHOW = 'cat /srv/new; ls /srv; ls /opt; cat /swap; cat /flip/in; stat -c "%u:%g %a %Y" /owned';
const SHOWN = 'new\nnew\nkeep\nnow a file\nin\n1000:1000 4750 1500000000\n';

describeModes('--storage-driver vfs ($name)', (mode) => {
  test('runs the layered image as overlay does; the store records vfs, keeps the layers once and copies them per container', async () => {
    const s = newStore(mode);
    const vfs = (args: string[]) => s.skiff(['--storage-driver', 'vfs', ...args]);
    const r = await vfs(['run', '--rm', image, 'sh', '-c', SHOW]);
    expect(r.stderr).not.toMatch(/skiff:/); // the pull's progress only
    expect(r.stdout).toBe(SHOWN);
    expect(readFileSync(path.join(s.root, 'storage-driver'), 'utf8')).toBe('vfs\n');
    // Without the flag the store's driver is used; info and inspect say which.
    expect(await ok(s, ['info', '--format', '{{.Store.GraphDriverName}}'])).toBe('vfs\n');
    expect(await ok(s, ['image', 'inspect', '--format', '{{.GraphDriver.Name}}', image])).toBe('vfs\n');
    const id = (await ok(s, ['create', image, 'true'])).trim();
    const root = path.join(s.root, 'containers', id, 'rootfs');
    expect(readdirSync(path.join(s.root, 'containers', id))).not.toContain('upper');
    expect(readFileSync(path.join(root, 'srv/new'), 'utf8')).toBe('new\n');
    expect(existsSync(path.join(root, 'opt/drop'))).toBe(false);
    const owned = statSync(path.join(root, 'owned'));
    expect([owned.uid, owned.mode & 0o7777, Math.floor(owned.mtimeMs / 1000)]).toEqual([hostUidFor(mode, 1000), 0o4750, 1_500_000_000]);
    // The copy's "/" has the image's root mode, and no whiteouts or overlay markers are left in it.
    expect(statSync(root).mode & 0o7777).toBe(0o755);
    expect(readdirSync(path.join(root, 'srv'))).toEqual(['new']);
    expect(s.ls('tmp')).toEqual([]);
    // The layers are the store's, once: the same as an overlay store's.
    expect(s.ls('layers')).toHaveLength(3);
    expect(await ok(s, ['rm', id])).toBe(`${id}\n`);
    expect(s.ls('containers').filter((n) => n !== 'names')).toEqual([]);
  });

  test('diff, commit, cp, export and ps --size see what the container changed; rm removes the copy', async () => {
    const s = newStore(mode);
    await ok(s, ['--storage-driver', 'vfs', 'pull', '-q', image]);
    await ok(s, ['run', '--name', 'work', image, 'sh', '-c', 'echo added > /srv/added; rm /opt/keep; echo more >> /srv/new; mkdir /made; chmod 700 /flip']);
    const diff = (await ok(s, ['diff', 'work'])).trim().split('\n');
    expect(diff).toEqual(['C /flip', 'A /made', 'C /opt', 'D /opt/keep', 'C /srv', 'A /srv/added', 'C /srv/new']);
    const size = (await ok(s, ['ps', '-a', '--size', '--format', '{{.Size}}'])).trim();
    expect(size).toMatch(/^\d+B \(virtual /);
    // "added\n" and "new\nmore\n": what it wrote, not the whole copy.
    expect(Number(/^(\d+)B/.exec(size)![1])).toBe(6 + 9);
    // cp out of and into the stopped container, then export.
    const out = path.join(s.root, 'out-new');
    await ok(s, ['cp', 'work:/srv/new', out]);
    expect(readFileSync(out, 'utf8')).toBe('new\nmore\n');
    const exported = await s.skiff(['export', 'work'], {});
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('srv/added');
    // commit: the changes become one layer, whiteout included, and the image runs with them.
    await ok(s, ['commit', '-q', 'work', 'committed:1']);
    const r = await s.skiff(['run', '--rm', 'committed:1', 'sh', '-c', 'cat /srv/added /srv/new; ls /opt; ls -d /made; stat -c %a /flip; cat /swap']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('added\nnew\nmore\n/made\n700\nnow a file\n');
    // Running: cp in and out goes through the container's own namespaces.
    await ok(s, ['run', '-d', '--name', 'live', image, 'sleep', '60']);
    await ok(s, ['cp', out, 'live:/srv/copied']);
    expect(await ok(s, ['exec', 'live', 'cat', '/srv/copied'])).toBe('new\nmore\n');
    expect(await ok(s, ['diff', 'live'])).toMatch(/^A \/srv\/copied$/m);
    await ok(s, ['rm', '-f', 'live', 'work']);
    expect(s.ls('containers').filter((n) => n !== 'names')).toEqual([]);
    expect(s.ls('tmp')).toEqual([]);
  });

  test('a store keeps its driver: the other one is refused in one line, before anything is done', async () => {
    const overlay = newStore(mode);
    await ok(overlay, ['pull', '-q', image]);
    expect(readFileSync(path.join(overlay.root, 'storage-driver'), 'utf8')).toBe('overlay\n');
    expectOneLine(await overlay.skiff(['--storage-driver', 'vfs', 'run', '--rm', image, 'true']), 125, /^Error: --storage-driver vfs: the store .* was made with the overlay driver; use --storage-driver overlay with it, or another --root for a vfs store$/m);
    expect(overlay.ls('containers').filter((n) => n !== 'names')).toEqual([]);
    const vfs = newStore(mode);
    await ok(vfs, ['--storage-driver=vfs', 'pull', '-q', image]);
    expectOneLine(await vfs.skiff(['--storage-driver', 'overlay2', 'images']), 125, /was made with the vfs driver; use --storage-driver vfs with it/);
    expectOneLine(await vfs.skiff(['--storage-driver', 'btrfs', 'images']), 125, /^Error: invalid --storage-driver "btrfs": use overlay .* or vfs/);
    // Each works on with its own.
    expect(await ok(overlay, ['run', '--rm', image, 'cat', '/srv/new'])).toBe('new\n');
    expect(await ok(vfs, ['run', '--rm', image, 'cat', '/srv/new'])).toBe('new\n');
  });

  test('build on a vfs store: each step works in a copy, its layer is what it changed', async () => {
    const s = newStore(mode);
    await ok(s, ['--storage-driver', 'vfs', 'pull', '-q', image]);
    const ctx = mkdtempSync(path.join(integrationEnv().workDir, 'vfs-ctx-'));
    chmodSync(ctx, 0o755);
    writeFileSync(path.join(ctx, 'added.txt'), 'copied in\n');
    writeFileSync(
      path.join(ctx, 'Dockerfile'),
      [`FROM ${image}`, 'RUN rm /opt/keep && echo built > /srv/built && chmod 700 /flip', 'COPY added.txt /srv/', 'WORKDIR /made/here', 'RUN touch nothing-else'].join('\n') + '\n',
    );
    if (mode.user) for (const f of [ctx, path.join(ctx, 'added.txt'), path.join(ctx, 'Dockerfile')]) chownSync(f, mode.user.uid, mode.user.gid);
    await ok(s, ['build', '-q', '-t', 'built:1', ctx]);
    const r = await s.skiff(['run', '--rm', 'built:1', 'sh', '-c', 'ls /opt; cat /srv/built /srv/added.txt /srv/new; stat -c %a /flip; pwd; ls']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('built\ncopied in\nnew\n700\n/made/here\nnothing-else\n');
    // Four layers on the image's three, the deletion of /opt/keep among them as a whiteout.
    expect((await ok(s, ['image', 'inspect', '--format', '{{len .RootFS.Layers}}', 'built:1'])).trim()).toBe('7');
    expect(s.ls('tmp')).toEqual([]);
  });

  // A store on an overlayfs (skiff inside a container): the kernel refuses overlay as an upper layer.
  const asRoot = process.getuid?.() === 0;
  /** A store directory on a fresh overlay mount (made by root; the store the mode's user's). */
  async function onOverlayMount(body: (root: string) => Promise<void>): Promise<void> {
    const base = mkdtempSync(path.join(integrationEnv().workDir, 'ovl-'));
    chmodSync(base, 0o755);
    for (const d of ['l', 'u', 'w', 'm']) mkdirSync(path.join(base, d));
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base}/l,upperdir=${base}/u,workdir=${base}/w`, `${base}/m`]);
    try {
      const root = path.join(base, 'm', 'store');
      mkdirSync(root);
      if (mode.user) chownSync(root, mode.user.uid, mode.user.gid);
      await body(root);
    } finally {
      execFileSync('umount', ['-l', `${base}/m`]);
    }
  }

  test(skipTitle('a new store where overlay cannot be mounted takes vfs, with one warning saying why', asRoot ? undefined : NEEDS_ROOT), async () => {
    if (!asRoot) return;
    await onOverlayMount(async (root) => {
      const pulled = await runSkiff(mode, ['pull', '-q', plain], { env: { SKIFF_ROOT: root } });
      expect(pulled, pulled.stderr).toMatchObject({ code: 0 });
      expect(pulled.stderr).toMatch(/^skiff: warning: overlay cannot be mounted for the store .*: it uses the vfs driver, a plain copy of the image per container$/m);
      expect(pulled.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
      expect(readFileSync(path.join(root, 'storage-driver'), 'utf8')).toBe('vfs\n');
      // From then on the store says which: no probe, no warning.
      const r = await runSkiff(mode, ['run', '--rm', plain, 'sh', '-c', 'echo on-vfs > /x; cat /x'], { env: { SKIFF_ROOT: root } });
      expect(r).toMatchObject({ code: 0, stdout: 'on-vfs\n', stderr: '' });
    });
  });

  // An overlayfs refuses 0/0 devices (overlay's whiteouts): a vfs store's layers keep the tar's ".wh." files instead.
  test(skipTitle('a vfs store on an overlayfs takes images that delete files: pull, run, diff, commit and build', asRoot ? undefined : NEEDS_ROOT), async () => {
    if (!asRoot) return;
    await onOverlayMount(async (root) => {
      const sk = (args: string[]) => runSkiff(mode, ['--storage-driver', 'vfs', ...args], { env: { SKIFF_ROOT: root } });
      const okOn = async (args: string[]) => {
        const r = await sk(args);
        expect(r, `${args.join(' ')}: ${r.stderr}`).toMatchObject({ code: 0 });
        return r.stdout;
      };
      await okOn(['pull', '-q', image]);
      // The layers hold no device nodes: the deletions are files named as in the tar.
      const nodes = execFileSync('find', [path.join(root, 'layers'), '(', '-type', 'c', '-o', '-type', 'b', ')', '-print'], { encoding: 'utf8' });
      expect(nodes).toBe('');
      const markers = execFileSync('find', [path.join(root, 'layers'), '-name', '.wh.*', '-printf', '%P\n'], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => l.replace(/^[0-9a-f]{64}\/diff\//, ''))
        .sort();
      expect(markers).toEqual(['opt/.wh.drop', 'srv/.wh..wh..opq']);
      expect(await okOn(['run', '--rm', image, 'sh', '-c', SHOW])).toBe(SHOWN);
      // What a container deletes is a deletion in its diff and in the layer a commit makes of it.
      await okOn(['run', '--name', 'gone', image, 'sh', '-c', 'rm /opt/keep /srv/new; echo x > /srv/x']);
      expect((await okOn(['diff', 'gone'])).trim().split('\n')).toEqual(['C /opt', 'D /opt/keep', 'C /srv', 'D /srv/new', 'A /srv/x']);
      await okOn(['commit', '-q', 'gone', 'gone:1']);
      expect(await okOn(['run', '--rm', 'gone:1', 'sh', '-c', 'ls -A /opt /srv'])).toBe('/opt:\n\n/srv:\nx\n');
      // A build step that deletes, on the same store.
      const ctx = mkdtempSync(path.join(integrationEnv().workDir, 'ovl-ctx-'));
      chmodSync(ctx, 0o755);
      writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${image}\nRUN rm -r /srv && mkdir /srv && echo fresh > /srv/only\n`);
      if (mode.user) for (const f of [ctx, path.join(ctx, 'Dockerfile')]) chownSync(f, mode.user.uid, mode.user.gid);
      await okOn(['build', '-q', '-t', 'rebuilt:1', ctx]);
      expect(await okOn(['run', '--rm', 'rebuilt:1', 'sh', '-c', 'ls -A /srv; ls /opt'])).toBe('only\nkeep\n');
      await okOn(['rm', 'gone']);
    });
  });

  if (mode.user) {
    test('--userns keep-id: the copy is made from the layers for that mapping; the container root owns "/"', async () => {
      const s = newStore(mode);
      await ok(s, ['--storage-driver', 'vfs', 'pull', '-q', image]);
      const r = await s.skiff(['run', '--rm', '--userns', 'keep-id', '-u', '0', image, 'sh', '-c', 'stat -c "%u %g" / /srv/new /owned']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('0 0\n0 0\n1000 1000\n');
    });
  }
});
