// Storage (issue 11): -v, --mount, --tmpfs, --read-only, --volumes-from, the
// image's VOLUMEs, named and anonymous volumes and the volume commands, with
// real mounts, as root and as the unprivileged test user. The security cases
// are named after their class: a mount target is resolved inside the root,
// never through a symlink out of it (CVE-2021-30465, CVE-2018-15664), and a
// sentinel directory of the host must stay untouched.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NEEDS_ROOT, skipTitle } from '../skip.js';
import { asModeUser, cleanEnv, collect, integrationEnv, skiffBin, until, type Mode, describeModes } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { hostUidFor, newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;
const dir = (name: string, extra: object = {}) => ({ name: `${name}/`, type: '5', mode: 0o755, ...extra });
const file = (name: string, data: string, extra: object = {}) => ({ name, data, mode: 0o644, ...extra });
const link = (name: string, target: string) => ({ name, type: '2', linkname: target, mode: 0o777 });

/** Host directories an escape would reach, one per mode (its user may write it), named in the test image's links. */
const sentinels: Record<Mode['name'], string> = {
  root: `/tmp/skiff-volume-sentinel-${process.pid}-root`,
  rootless: `/tmp/skiff-volume-sentinel-${process.pid}-rootless`,
};

function makeSentinel(mode: Mode): { dir: string; listing: () => string[] } {
  const sentinel = sentinels[mode.name];
  rmSync(sentinel, { recursive: true, force: true });
  mkdirSync(sentinel, { mode: 0o777 });
  chmodSync(sentinel, 0o777);
  writeFileSync(path.join(sentinel, 'secret.txt'), 'host secret\n');
  if (mode.user) {
    chownSync(sentinel, mode.user.uid, mode.user.gid);
    chownSync(path.join(sentinel, 'secret.txt'), mode.user.uid, mode.user.gid);
  }
  return { dir: sentinel, listing: () => readdirSync(sentinel).sort() };
}

/** A directory the mode's user owns, under the run's work directory. */
function ownedDir(mode: Mode, prefix: string): string {
  const d = mkdtempSync(path.join(integrationEnv().workDir, prefix));
  chmodSync(d, 0o755);
  if (mode.user) chownSync(d, mode.user.uid, mode.user.gid);
  return d;
}

function ownedFile(mode: Mode, file: string, content: string): void {
  writeFileSync(file, content);
  if (mode.user) chownSync(file, mode.user.uid, mode.user.gid);
}

const img = (name: string) => `${reg.host}/${name}`;

beforeAll(async () => {
  reg = await startRegistry();
  const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
  await pushImage(reg, 'busybox', 'latest', { format: 'docker', layers: [bb], config: { Cmd: ['sh'] } });
  await pushImage(reg, 'volimg', '1', {
    format: 'oci',
    layers: [bb, { compression: 'gzip', entries: [dir('data', { uid: 1000, gid: 1000, mode: 0o750 }), file('data/seed', 'seed\n', { uid: 1000, gid: 1000 })] }],
    config: { Cmd: ['sh'], Volumes: { '/data': {} } },
  });
  // Links out of the root, as an image may carry them: absolute, and climbing with "..".
  const escapes = Object.entries(sentinels).flatMap(([name, target]) => [link(`esc-${name}`, target), link(`up-${name}`, `../../../../../..${target}`)]);
  await pushImage(reg, 'links', '1', { format: 'oci', layers: [bb, { compression: 'gzip', entries: escapes }], config: { Cmd: ['sh'] } });
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  for (const s of Object.values(sentinels)) rmSync(s, { recursive: true, force: true });
});

/** A new store with these test images pulled (quietly: progress is on stderr). */
async function storeWith(mode: Mode, ...names: string[]): Promise<TestStore> {
  const store = newStore(mode);
  for (const name of names.length ? names : ['busybox']) expect((await store.skiff(['pull', '-q', img(name)])).code).toBe(0);
  return store;
}

async function ok(store: TestStore, args: string[]): Promise<string> {
  const r = await store.skiff(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

// strace holds a volume create or rm at a precise point, its rename(2), for the test to kill it there.
const strace = spawnSync('strace', ['-V']).status === 0;

describeModes('volumes and mounts ($name)', (mode) => {
  test('-v DIR: what the container writes lands in DIR, owned on the host as the mapping says; ro refuses writes', async () => {
    const store = await storeWith(mode, 'busybox');
    const host = ownedDir(mode, 'bind-');
    ownedFile(mode, path.join(host, 'in'), 'from the host\n');
    chmodSync(host, 0o777);
    expect(await ok(store, ['run', '--rm', '-v', `${host}:/d`, img('busybox'), 'sh', '-c', 'cat /d/in; echo root > /d/by-root'])).toBe('from the host\n');
    await ok(store, ['run', '--rm', '-u', 'app', '-v', `${host}:/d`, img('busybox'), 'sh', '-c', 'echo app > /d/by-app']);
    expect(statSync(path.join(host, 'by-root')).uid).toBe(hostUidFor(mode, 0));
    expect(statSync(path.join(host, 'by-app')).uid).toBe(hostUidFor(mode, 1000));
    expect(readFileSync(path.join(host, 'by-app'), 'utf8')).toBe('app\n');

    const ro = await store.skiff(['run', '--rm', '-v', `${host}:/d:ro`, img('busybox'), 'sh', '-c', 'echo x > /d/nope']);
    expect(ro.code).toBe(1);
    expect(ro.stderr).toContain('Read-only file system');
    expect(existsSync(path.join(host, 'nope'))).toBe(false);
    // A file bound onto a file, and --mount's spelling of the same.
    const single = await ok(store, ['run', '--rm', '--mount', `type=bind,source=${host}/in,target=/etc/motd,readonly`, img('busybox'), 'cat', '/etc/motd']);
    expect(single).toBe('from the host\n');
  });

  test('a named volume survives rm and is seen by a second container; 8 concurrent runs create it once and fill it once', async () => {
    const store = await storeWith(mode, 'busybox', 'volimg:1');
    await ok(store, ['run', '--name', 'writer', '-v', 'keep:/v', img('busybox'), 'sh', '-c', 'echo kept > /v/f']);
    await ok(store, ['rm', 'writer']);
    expect(await ok(store, ['run', '--rm', '-v', 'keep:/w', img('busybox'), 'cat', '/w/f'])).toBe('kept\n');

    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.skiff(['run', '--rm', '-v', 'shared:/data', img('volimg:1'), 'sh', '-c', `cat /data/seed; echo ${i} >> /data/log`])),
    );
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('seed\n');
      expect(r.code).toBe(0);
    }
    expect((await ok(store, ['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort()).toEqual(['keep', 'shared']);
    expect(store.ls('volumes').filter((n) => n.startsWith('.'))).toEqual([]);
    const log = await ok(store, ['run', '--rm', '-v', 'shared:/data', img('busybox'), 'sh', '-c', 'sort /data/log | tr "\\n" " "; ls /data | tr "\\n" " "']);
    expect(log).toBe('0 1 2 3 4 5 6 7 log seed ');
  });

  test("the image's VOLUME is an anonymous volume filled from the image (owner and mode too); rm -v and run --rm remove it; nocopy", async () => {
    const store = await storeWith(mode, 'volimg:1');
    const out = await ok(store, ['run', '--name', 'c', img('volimg:1'), 'sh', '-c', 'stat -c "%u:%g %a" /data; cat /data/seed; echo more > /data/more']);
    expect(out).toBe('1000:1000 750\nseed\n');
    const [anon] = (await ok(store, ['volume', 'ls', '-q'])).split('\n');
    expect(anon).toMatch(/^[0-9a-f]{64}$/);
    const inspect = JSON.parse(await ok(store, ['volume', 'inspect', anon!]))[0];
    expect(inspect).toMatchObject({ Name: anon, Driver: 'local', Anonymous: true, Scope: 'local' });
    expect(statSync(inspect.Mountpoint).uid).toBe(hostUidFor(mode, 1000));
    const mounts = JSON.parse(await ok(store, ['inspect', '--format', '{{json .Mounts}}', 'c']));
    expect(mounts).toEqual([{ Type: 'volume', Name: anon, Source: inspect.Mountpoint, Destination: '/data', Driver: 'local', Mode: '', RW: true, Propagation: '' }]);
    await ok(store, ['rm', '-v', 'c']);
    expect(await ok(store, ['volume', 'ls', '-q'])).toBe('');

    await ok(store, ['run', '--rm', img('volimg:1'), 'true']);
    expect(await ok(store, ['volume', 'ls', '-q'])).toBe('');
    // A named volume over a non-empty directory is filled too, unless nocopy.
    expect(await ok(store, ['run', '--rm', '-v', 'named:/data', img('volimg:1'), 'ls', '/data'])).toBe('seed\n');
    expect(await ok(store, ['run', '--rm', '-v', 'empty:/data:nocopy', img('volimg:1'), 'ls', '-A', '/data'])).toBe('');
    expect(await ok(store, ['volume', 'ls', '-q'])).toBe('empty\nnamed\n');
  });

  test('--volumes-from: the volumes and binds of another container, its mode or ro', async () => {
    const store = await storeWith(mode, 'busybox');
    const host = ownedDir(mode, 'from-');
    ownedFile(mode, path.join(host, 'h'), 'host file\n');
    await ok(store, ['run', '--name', 'src', '-v', 'vf:/a', '-v', `${host}:/b`, img('busybox'), 'sh', '-c', 'echo in-volume > /a/x']);
    expect(await ok(store, ['run', '--rm', '--volumes-from', 'src', img('busybox'), 'cat', '/a/x', '/b/h'])).toBe('in-volume\nhost file\n');
    const ro = await store.skiff(['run', '--rm', '--volumes-from', 'src:ro', img('busybox'), 'sh', '-c', 'echo x > /a/y']);
    expect(ro.code).toBe(1);
    expect(ro.stderr).toContain('Read-only file system');
    const missing = await store.skiff(['run', '--rm', '--volumes-from', 'nosuch', img('busybox'), 'true']);
    expect(missing.stderr).toBe('Error: no such container: nosuch\n');
    expect(missing.code).toBe(125);
  });

  test('--tmpfs and --mount type=tmpfs; --read-only keeps /tmp, /run, /var/tmp and volumes writable unless --read-only-tmpfs=false', async () => {
    const store = await storeWith(mode, 'busybox');
    const out = await ok(store, [
      'run', '--rm', '--tmpfs', '/t1:size=1m,mode=1777', '--mount', 'type=tmpfs,target=/t2,tmpfs-size=2m', img('busybox'),
      'sh', '-c', 'grep -E " /t[12] " /proc/self/mounts | cut -d" " -f1-3 | sort; stat -c %a /t1; df -k /t2 | tail -1 | tr -s " " | cut -d" " -f2',
    ]);
    expect(out).toBe('tmpfs /t1 tmpfs\ntmpfs /t2 tmpfs\n1777\n2048\n');
    const ro = await ok(store, ['run', '--rm', '--read-only', '-v', 'rw:/data', img('busybox'), 'sh', '-c', 'touch /x 2>&1; touch /tmp/a /run/b /var/tmp/c /data/d && echo writable']);
    expect(ro).toBe("touch: /x: Read-only file system\nwritable\n");
    const strict = await store.skiff(['run', '--rm', '--read-only', '--read-only-tmpfs=false', img('busybox'), 'touch', '/tmp/a']);
    expect(strict.stderr).toBe('touch: /tmp/a: Read-only file system\n');
    expect(strict.code).toBe(1);
  });

  test(':U chowns the source to the container user through the mapping, and never through a symlink', async () => {
    const store = await storeWith(mode, 'busybox');
    const sentinel = makeSentinel(mode);
    const secret = path.join(sentinel.dir, 'secret.txt');
    const before = lstatSync(secret).uid;
    const host = ownedDir(mode, 'chown-');
    ownedFile(mode, path.join(host, 'f'), 'x\n');
    mkdirSync(path.join(host, 'sub'));
    symlinkSync(secret, path.join(host, 'sub', 'to-secret'));
    if (mode.user) execFileSync('chown', ['-hR', `${mode.user.uid}:${mode.user.gid}`, host]);
    const out = await ok(store, ['run', '--rm', '-u', 'app', '-v', `${host}:/d:U`, img('busybox'), 'sh', '-c', 'echo mine > /d/new; stat -c %u:%g /d /d/f /d/sub/to-secret']);
    expect(out).toBe('1000:1000\n1000:1000\n1000:1000\n');
    const app = hostUidFor(mode, 1000);
    for (const p of ['', 'f', 'new', 'sub']) expect(statSync(path.join(host, p)).uid).toBe(app);
    expect(lstatSync(path.join(host, 'sub', 'to-secret')).uid).toBe(app);
    expect(lstatSync(secret).uid).toBe(before);
    expect(sentinel.listing()).toEqual(['secret.txt']);
  });

  test(':O: an overlay over the source, what the container writes is gone with it', async () => {
    const store = await storeWith(mode, 'busybox');
    const host = ownedDir(mode, 'overlay-');
    ownedFile(mode, path.join(host, 'f'), 'original\n');
    const out = await ok(store, ['run', '--rm', '-v', `${host}:/o:O`, img('busybox'), 'sh', '-c', 'echo changed > /o/f; echo new > /o/g; cat /o/f /o/g']);
    expect(out).toBe('changed\nnew\n');
    expect(readFileSync(path.join(host, 'f'), 'utf8')).toBe('original\n');
    expect(readdirSync(host)).toEqual(['f']);
  });

  test('each refusal is one line, exit 125, and nothing is created', async () => {
    const store = await storeWith(mode, 'busybox');
    const host = ownedDir(mode, 'refuse-');
    ownedFile(mode, path.join(host, 'file'), 'x\n');
    const cases: [string[], string][] = [
      [['--mount', `type=bind,source=${host}/missing,target=/x`], `invalid mount config for type "bind": bind source path does not exist: ${host}/missing`],
      [['-v', `${host}:/x:bogus`], `invalid volume specification "${host}:/x:bogus": unknown option "bogus"`],
      [['-v', `${host}:/etc/passwd`], `cannot mount directory ${host} on /etc/passwd: the target is not a directory in the container`],
      [['-v', `${host}/file:/etc`], `cannot mount file ${host}/file on /etc: the target is a directory in the container`],
      [['-v', 'aa:/x', '--tmpfs', '/x'], 'duplicate mount point: /x'],
      [['-v', `${host}:/proc`], 'cannot mount on /proc: skiff mounts it for every container'],
      [['--mount', 'type=volume,source=v9,target=/x,volume-opt=foo=bar'], 'invalid volume option "foo": the local driver takes type, device and o'],
    ];
    if (mode.user) {
      const locked = mkdtempSync(path.join(integrationEnv().workDir, 'locked-'));
      chmodSync(locked, 0o700);
      cases.push([['-v', `${locked}:/x`], `cannot use ${locked} as a bind source: your user cannot read it`]);
    } else {
      cases.push([['-v', `${host}:/x:idmap`], 'cannot use idmap on /x: the container has no user namespace to map to; give the mapping, idmap=uids=FS-HOST-COUNT;gids=FS-HOST-COUNT']);
    }
    for (const [flags, message] of cases) {
      const r = await store.skiff(['run', '--rm', ...flags, img('busybox'), 'true']);
      expect(r.stderr).toBe(`Error: ${message}\n`);
      expect(r.code).toBe(125);
    }
    expect(await ok(store, ['ps', '-aq'])).toBe('');
    expect(await ok(store, ['volume', 'ls', '-q'])).toBe('');
    expect(existsSync(path.join(host, 'missing'))).toBe(false);
    // -v makes a missing host directory, as Docker does.
    await ok(store, ['run', '--rm', '-v', `${host}/made/here:/x`, img('busybox'), 'true']);
    expect(statSync(path.join(host, 'made/here')).isDirectory()).toBe(true);
  });

  // Root has every ID: only a rootless user can lack a range.
  if (mode.user) test(':U without a sub-ID range is refused', async () => {
    const store = await storeWith(mode, 'busybox');
    const empty = path.join(ownedDir(mode, 'subid-'), 'none');
    ownedFile(mode, empty, '');
    const host = ownedDir(mode, 'u-');
    const r = await store.skiff(['run', '--rm', '-v', `${host}:/d:U`, img('busybox'), 'true'], { env: { SKIFF_SUBUID_FILE: empty, SKIFF_SUBGID_FILE: empty } });
    expect(r.stderr.split('\n').filter((l) => !l.includes('warning'))).toEqual([
      "Error: cannot use U on /d: chowning to the container's user needs a sub-ID range in /etc/subuid and /etc/subgid (see 'skiff doctor')",
      '',
    ]);
    expect(r.code).toBe(125);
  });

  test('security mount-target-symlink-escape: a target that is a link out of the root resolves inside it (CVE-2018-15664 class)', async () => {
    const store = await storeWith(mode, 'links:1');
    const sentinel = makeSentinel(mode);
    const host = ownedDir(mode, 'target-');
    ownedFile(mode, path.join(host, 'f'), 'bound\n');
    const esc = `/esc-${mode.name}`;
    const up = `/up-${mode.name}`;
    const out = await ok(store, [
      'run', '--rm', '-v', `vol:${esc}`, '-v', `${host}:${up}/sub`, '--tmpfs', `${esc}/t`, img('links:1'),
      'sh', '-c', `echo pwned > ${esc}/x; echo pwned > ${esc}/t/y; cat ${up}/sub/f; ls ${sentinel.dir}`,
    ]);
    // Inside, the links lead to the same path below the container's root, where the mounts are.
    expect(out).toBe('bound\nsub\nt\nx\n');
    expect(sentinel.listing()).toEqual(['secret.txt']);
    expect(readFileSync(path.join(sentinel.dir, 'secret.txt'), 'utf8')).toBe('host secret\n');
  });

  test('security volume-symlink-swap-race: a container swapping a directory of a shared volume for a link never moves a mount out (CVE-2021-30465 class)', async () => {
    const store = await storeWith(mode, 'busybox');
    const sentinel = makeSentinel(mode);
    const host = ownedDir(mode, 'race-');
    const swap = `cd /v; while :; do rm -rf x; mkdir x; rm -rf x; ln -s ${sentinel.dir} x; rm -f x; ln -s ../../../../../../..${sentinel.dir} x; done`;
    await ok(store, ['run', '-d', '--name', 'swapper', '-v', 'race:/v', img('busybox'), 'sh', '-c', swap]);
    try {
      for (let i = 0; i < 12; i++) {
        const r = await store.skiff(['run', '--rm', '-v', 'race:/data', '-v', `${host}:/data/x/sub`, img('busybox'), 'true']);
        expect([0, 125]).toContain(r.code);
        expect(sentinel.listing()).toEqual(['secret.txt']);
      }
    } finally {
      await store.skiff(['rm', '-f', 'swapper']);
    }
    expect(sentinel.listing()).toEqual(['secret.txt']);
  });

  test('security volume-subpath-escape: --mount volume-subpath resolves inside the volume', async () => {
    const store = await storeWith(mode, 'busybox');
    const sentinel = makeSentinel(mode);
    await ok(store, ['run', '--rm', '-v', 'sp:/v', img('busybox'), 'sh', '-c', `mkdir /v/real; echo in > /v/real/f; ln -s / /v/toroot; ln -s ../../../../..${sentinel.dir} /v/up`]);
    expect(await ok(store, ['run', '--rm', '--mount', 'type=volume,source=sp,target=/m,volume-subpath=toroot', img('busybox'), 'ls', '/m'])).toBe('real\ntoroot\nup\n');
    expect(await ok(store, ['run', '--rm', '--mount', 'type=volume,source=sp,target=/m,volume-subpath=real', img('busybox'), 'cat', '/m/f'])).toBe('in\n');
    const up = await store.skiff(['run', '--rm', '--mount', 'type=volume,source=sp,target=/m,volume-subpath=up', img('busybox'), 'ls', '/m']);
    expect(up.stdout).not.toContain('secret.txt');
    expect(up.stderr).toBe(`Error: volume-subpath up of ${JSON.parse((await store.skiff(['volume', 'inspect', 'sp'])).stdout)[0].Mountpoint}: No such file or directory\n`);
    expect(up.code).toBe(125);
    expect(sentinel.listing()).toEqual(['secret.txt']);
  });

  test('volume create, ls (filters, --format, -q), inspect, exists, rm (refused in use; -f), prune (unused, anonymous unless -a)', async () => {
    const store = await storeWith(mode, 'busybox');
    expect(await ok(store, ['volume', 'create', '--label', 'tier=db', 'v1'])).toBe('v1\n');
    expect(await ok(store, ['volume', 'create', 'v1'])).toBe('v1\n'); // Docker's: an existing name is no error
    await ok(store, ['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'v2']);
    expect(await ok(store, ['volume', 'ls'])).toBe('DRIVER    VOLUME NAME\nlocal     v1\nlocal     v2\n');
    expect(await ok(store, ['volume', 'ls', '-q', '--filter', 'label=tier=db'])).toBe('v1\n');
    expect(await ok(store, ['volume', 'ls', '--format', '{{.Name}} {{.Labels}} {{.Driver}}', '--filter', 'name=v'])).toBe('v1 tier=db local\nv2  local\n');
    expect(JSON.parse((await ok(store, ['volume', 'ls', '--format', 'json'])).split('\n')[0]!)).toMatchObject({ Name: 'v1', Driver: 'local', Labels: 'tier=db', Scope: 'local' });
    expect(await ok(store, ['volume', 'inspect', '--format', '{{.Name}}:{{.Options.type}}', 'v2'])).toBe('v2:tmpfs\n');
    // Podman's: ls --noheading, inspect --all.
    expect(await ok(store, ['volume', 'ls', '--noheading'])).toBe('local     v1\nlocal     v2\n');
    expect(await ok(store, ['volume', 'inspect', '--all', '--format', '{{.Name}}'])).toBe('v1\nv2\n');
    expect(await store.skiff(['volume', 'inspect', '--all', 'v1'])).toMatchObject({ code: 125, stderr: 'Error: --all and volume names cannot be combined: give one or the other\n' });
    expect(await ok(store, ['run', '--rm', '-v', 'v2:/t', img('busybox'), 'sh', '-c', 'grep " /t " /proc/self/mounts | cut -d" " -f1-3'])).toBe('tmpfs /t tmpfs\n');
    expect((await store.skiff(['volume', 'exists', 'v1'])).code).toBe(0);
    expect((await store.skiff(['volume', 'exists', 'nope'])).code).toBe(1);

    const id = (await ok(store, ['create', '--name', 'user', '-v', 'v1:/d', '-v', '/anon', img('busybox'), 'true'])).trim();
    expect(await ok(store, ['volume', 'ls', '-q', '--filter', 'dangling=true'])).toBe('v2\n');
    const refused = await store.skiff(['volume', 'rm', 'v1']);
    expect(refused.stderr).toBe(`Error: remove v1: volume is in use - [${id}]\n`);
    expect(refused.code).toBe(2);
    const pruned = await ok(store, ['volume', 'prune', '-f']);
    expect(pruned).toBe('Total reclaimed space: 0B\n'); // the only anonymous volume is in use
    await ok(store, ['rm', 'user']);
    const anonymous = (await ok(store, ['volume', 'ls', '-q'])).split('\n').find((n) => /^[0-9a-f]{64}$/.test(n));
    expect(await ok(store, ['volume', 'prune', '-f'])).toBe(`Deleted Volumes:\n${anonymous}\n\nTotal reclaimed space: 0B\n`);
    expect(await ok(store, ['volume', 'ls', '-q'])).toBe('v1\nv2\n');
    await ok(store, ['run', '--rm', '-v', 'v1:/d', img('busybox'), 'sh', '-c', 'echo 12345 > /d/f']);
    expect(await ok(store, ['volume', 'prune', '-af', '--filter', 'label=tier=db'])).toBe('Deleted Volumes:\nv1\n\nTotal reclaimed space: 6B\n');
    expect(await ok(store, ['volume', 'rm', 'v2'])).toBe('v2\n');
    const gone = await store.skiff(['volume', 'rm', 'v2']);
    expect(gone.stderr).toBe('Error: no such volume: v2\n');
    expect(gone.code).toBe(1);
    expect(await ok(store, ['volume', 'rm', '-f', 'v2'])).toBe('');
  });

  test.skipIf(!strace)(skipTitle('volume-killed-midway: the .tmp- and .trash- a killed volume create and rm left are removed by volume prune; a live one\'s are not', strace ? undefined : 'needs strace: apt-get install strace'), async () => {
    const store = await storeWith(mode, 'busybox');
    const volumes = path.join(store.root, 'volumes');
    // Held at its first rename(2): a create before it (.tmp-<pid>-… into place), a rm after it (the volume to .trash-<name>-<pid>).
    const under = (inject: string, args: string[]) => {
      const [file, ...rest] = asModeUser(mode, ['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=rename', '-e', `inject=rename:${inject}:when=1`, skiffBin(), ...args]);
      return spawn(file!, rest, { env: cleanEnv(mode, { SKIFF_ROOT: store.root }), stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
    };
    const left = (prefix: string) => readdirSync(volumes).filter((n) => n.startsWith(prefix));
    const makerOf = (name: string) => Number(/^\.tmp-(\d+)-/.exec(name)?.[1] ?? /-(\d+)$/.exec(name)![1]);
    // The first volume writes the caches (by renames too), so the next ones rename nothing else before.
    await ok(store, ['volume', 'create', 'warm']);
    // A removed volume holds what a container wrote: here a directory of a sub-ID (rootless) that only the mapping can empty.
    await ok(store, ['run', '--rm', '-v', 'gone:/d', img('busybox'), 'sh', '-c', 'mkdir /d/sub && echo x > /d/sub/f && chown -R 1000:1000 /d/sub && chmod 700 /d/sub']);

    const maker = under('delay_enter=60s', ['volume', 'create', 'made']);
    const making = collect(maker);
    const tmp = await until('the create\'s .tmp- directory', () => left('.tmp-')[0]);
    expect(tmp).toMatch(/^\.tmp-\d+-[0-9a-f]+$/);
    const remover = under('delay_exit=60s', ['volume', 'rm', 'gone']);
    const removing = collect(remover);
    const trash = await until('the rm\'s .trash- directory', () => left('.trash-')[0]);
    expect(trash).toMatch(/^\.trash-gone-\d+$/);
    // Their makers are alive: both stay.
    await ok(store, ['volume', 'prune', '-f']);
    expect(left('.tmp-')).toEqual([tmp]);
    expect(left('.trash-')).toEqual([trash]);

    // Killed where strace holds them (the kill acts once the tracer, killed too, lets go).
    process.kill(makerOf(tmp), 'SIGKILL');
    process.kill(makerOf(trash), 'SIGKILL');
    maker.kill('SIGKILL');
    remover.kill('SIGKILL');
    expect((await making).code).not.toBe(0);
    expect((await removing).code).not.toBe(0);
    expect(left('.tmp-')).toEqual([tmp]);
    expect(left('.trash-')).toEqual([trash]);
    // Gone, not only dead: a zombie not yet reaped still counts as its maker.
    await until('the makers reaped', () => (existsSync(`/proc/${makerOf(tmp)}`) || existsSync(`/proc/${makerOf(trash)}`) ? undefined : true));
    await ok(store, ['volume', 'prune', '-f']);
    expect(readdirSync(volumes).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(await ok(store, ['volume', 'ls', '-q'])).toBe('warm\n');
    expect(await ok(store, ['volume', 'create', 'made'])).toBe('made\n');
  }, 120_000);

  test('volume rm -f: a volume stopped containers use goes, one a running container uses stays', async () => {
    const store = await storeWith(mode, 'busybox');
    await ok(store, ['run', '-d', '--name', 'up', '-v', 'busy:/d', img('busybox'), 'sleep', '30']);
    const id = (await ok(store, ['inspect', '--format', '{{.Id}}', 'up'])).trim();
    const r = await store.skiff(['volume', 'rm', '-f', 'busy']);
    expect(r.stderr).toBe(`Error: remove busy: a running container uses it - [${id}]\n`);
    expect(r.code).toBe(2);
    await ok(store, ['rm', '-f', 'up']);
    await ok(store, ['create', '--name', 'later', '-v', 'idle:/d', img('busybox'), 'true']);
    expect(await ok(store, ['volume', 'rm', '-f', 'idle'])).toBe('idle\n');
    const start = await store.skiff(['start', 'later']);
    expect(start.stderr).toBe("Error: cannot start later: its volume idle was removed; make it again with 'skiff volume create idle'\n");
    expect(start.code).toBe(125);
    await ok(store, ['volume', 'create', 'idle']);
    await ok(store, ['start', '-a', 'later']);
  });

  // The host side of this test mounts: only a suite run as root can (the container's side runs as the mode's user).
  test.skipIf(process.getuid?.() !== 0)(skipTitle('mount propagation: rslave sees what the host mounts below the source later; the default (rprivate) does not', process.getuid?.() !== 0 ? NEEDS_ROOT : undefined), async () => {
    const store = await storeWith(mode, 'busybox');
    const host = ownedDir(mode, 'prop-');
    mkdirSync(path.join(host, 'sub'));
    if (mode.user) chownSync(path.join(host, 'sub'), mode.user.uid, mode.user.gid);
    execFileSync('mount', ['--bind', host, host]);
    execFileSync('mount', ['--make-shared', host]);
    try {
      await ok(store, ['run', '-d', '--name', 'slave', '-v', `${host}:/d:rslave`, img('busybox'), 'sleep', '30']);
      await ok(store, ['run', '-d', '--name', 'private', '-v', `${host}:/d`, img('busybox'), 'sleep', '30']);
      execFileSync('mount', ['-t', 'tmpfs', 'late', path.join(host, 'sub')]);
      const seen = (name: string) => store.skiff(['exec', name, 'sh', '-c', 'grep -c " /d/sub " /proc/self/mounts || true']);
      expect((await seen('slave')).stdout).toBe('1\n');
      expect((await seen('private')).stdout).toBe('0\n');
    } finally {
      await store.skiff(['rm', '-f', 'slave', 'private']);
      execFileSync('umount', ['-R', host]);
    }
  });

  test('idmap: an idmapped mount where the kernel allows it (root), one clear line where it does not', async () => {
    const store = await storeWith(mode, 'busybox');
    const host = ownedDir(mode, 'idmap-');
    ownedFile(mode, path.join(host, 'f'), 'x\n');
    if (!mode.user) {
      chownSync(path.join(host, 'f'), 1000, 1000);
      expect(await ok(store, ['run', '--rm', '-v', `${host}:/d:idmap=uids=1000-0-1;gids=1000-0-1`, img('busybox'), 'stat', '-c', '%u:%g', '/d/f'])).toBe('0:0\n');
      expect(statSync(path.join(host, 'f')).uid).toBe(1000);
      return;
    }
    const r = await store.skiff(['run', '--rm', '-v', `${host}:/d:idmap`, img('busybox'), 'true']);
    expect(r.stderr).toBe(
      `Error: idmap of /d: the kernel refused an idmapped mount of ${host} (Operation not permitted): only the owner of its file system's user namespace may map it, which for a host directory means root\n`,
    );
    expect(r.code).toBe(125);
  });
});
