import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { skipTitle } from '../skip.js';
import { SkiffError } from '../../lib/errors.js';
import { unpackLayer, type UnpackOptions, type UnpackStats } from '../../lib/store/unpack.js';
import { chunked, makeTar, paxBody, paxRecord, tarHeader, tarMember, type TarMember } from './helpers/make-tar.js';

// Every test unpacks into base/layer; base/sentinel sits next to it and is
// what an escaping archive aims at. Nothing but these two may ever be in base.
let base: string;
let target: string;
let sentinel: string;

beforeEach(() => {
  base = fs.mkdtempSync(path.join(tmpdir(), 'skiff-unpack-'));
  target = path.join(base, 'layer');
  sentinel = path.join(base, 'sentinel');
  fs.mkdirSync(target);
  fs.mkdirSync(sentinel);
});

afterEach(() => {
  vi.restoreAllMocks();
  removeTree(base);
});

/** rm -rf that also gets through directories a layer made read-only (for a non-root run). */
function removeTree(dir: string): void {
  const openUp = (d: Buffer) => {
    for (const name of fs.readdirSync(d, { encoding: 'buffer' })) {
      const p = Buffer.concat([d, Buffer.from('/'), name]);
      if (fs.lstatSync(p).isDirectory()) {
        fs.chmodSync(p, 0o700);
        openUp(p);
      }
    }
  };
  openUp(Buffer.from(dir));
  fs.rmSync(dir, { recursive: true, force: true });
}

const isRoot = process.getuid?.() === 0;

/**
 * The unprivileged test user (scripts/create-test-user.sh; SKIFF_TEST_USER
 * names another), for what only an ordinary user sees: root may chown a file
 * to any owner, so a suite run as root gets a real EPERM from the kernel by
 * running unpackLayer in a process of this user's (helpers/unpack-worker.ts).
 */
const testUserName = inject('integration').testUserName;
const testUser = isRoot ? lookupUser(testUserName) : null;

function lookupUser(name: string): { uid: number; gid: number } | null {
  try {
    const f = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).split(':');
    return { uid: Number(f[2]), gid: Number(f[3]) };
  } catch {
    return null;
  }
}

/** How a test that needs an ordinary user's EPERM unpacks: in this process, or as the test user; and why it cannot, when it cannot. */
const eperm: { unpack: typeof unpack; skip: string | undefined } = { unpack, skip: undefined };
if (isRoot) {
  eperm.unpack = unpackAsTestUser;
  if (!testUser) {
    const fix = `sudo scripts/create-test-user.sh${testUserName === 'skifftest' ? '' : ` ${testUserName}`}`;
    eperm.skip = `root may give any owner, and there is no test user ${testUserName} to unpack as: ${fix}`;
  }
}

// The worker lives where the test user can read it (this clone may be in a
// directory only root can enter).
let workerDir = '';
beforeAll(async () => {
  if (!testUser) return;
  workerDir = fs.mkdtempSync(path.join(tmpdir(), 'skiff-unpack-worker-'));
  fs.chmodSync(workerDir, 0o755);
  await build({
    entryPoints: [path.join(__dirname, 'helpers/unpack-worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: path.join(workerDir, 'unpack-worker.cjs'),
    logLevel: 'error',
  });
}, 60_000);
afterAll(() => {
  if (workerDir) fs.rmSync(workerDir, { recursive: true, force: true });
});

/** unpack(), run as the test user: the layer and its surroundings become the user's; a SkiffError in the worker is one here. */
async function unpackAsTestUser(tar: Buffer, opts?: UnpackOptions): Promise<UnpackStats> {
  const user = testUser!;
  if (opts?.record) throw new Error('a tar-split recorder cannot cross to the worker');
  for (const p of [base, target, sentinel]) fs.chownSync(p, user.uid, user.gid);
  const r = spawnSync(
    'setpriv',
    [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', process.execPath, path.join(workerDir, 'unpack-worker.cjs'), target, ...(opts?.chown ? ['chown'] : [])],
    { input: tar, cwd: workerDir, env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`unpack-worker exited with ${r.status ?? r.signal}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { uid: number; stats?: UnpackStats; error?: { skiff: boolean; message: string; exitCode?: number } };
  expect(out.uid).toBe(user.uid);
  if (!out.error) return out.stats!;
  throw out.error.skiff ? new SkiffError(out.error.message, out.error.exitCode) : new Error(out.error.message);
}

const T = 1_600_000_000;

function unpack(tar: Buffer, opts?: UnpackOptions, sizes?: number[]): Promise<UnpackStats> {
  return unpackLayer(chunked(tar, sizes), target, opts);
}

/** A listing of the sentinel: names, types, link counts, sizes. */
function snapshot(): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const st = fs.lstatSync(path.join(dir, name));
      out.push(`${rel}${name} ${st.mode.toString(8)} ${st.nlink} ${st.size}`);
      if (st.isDirectory()) walk(path.join(dir, name), `${rel}${name}/`);
    }
  };
  walk(sentinel, '');
  return out;
}

/** Unpacks, expects a SkiffError matching `message`, and checks nothing outside the target changed. */
async function expectRefused(tar: Buffer, message: RegExp, opts?: UnpackOptions, unpackWith = unpack): Promise<SkiffError> {
  const before = snapshot();
  const err = await unpackWith(tar, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SkiffError);
  const e = err as SkiffError;
  expect(e.message).toMatch(message);
  expect(e.exitCode).toBe(125);
  expect(e.message).not.toContain('\n');
  expect(snapshot()).toEqual(before);
  expect(fs.readdirSync(base).sort()).toEqual(['layer', 'sentinel']);
  // The caller discards the directory of a refused layer.
  removeTree(target);
  fs.mkdirSync(target);
  return e;
}

function lmode(p: string): number {
  return fs.lstatSync(path.join(target, p)).mode & 0o7777;
}

function mtime(p: string): number {
  return fs.lstatSync(path.join(target, p)).mtimeMs / 1000;
}

function read(p: string): string {
  return fs.readFileSync(path.join(target, p), 'utf8');
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(path.join(target, p));
    return true;
  } catch {
    return false;
  }
}

describe('unpackLayer: what a layer holds', () => {
  it('unpacks files, directories, symlinks and hard links with their modes and times', async () => {
    const tar = makeTar([
      { name: './', mode: 0o755, mtime: T + 1 },
      { name: 'bin/', mode: 0o755, mtime: T + 2 },
      { name: 'bin/su', data: 'setuid\n', mode: 0o4755, mtime: T + 3 },
      { name: 'bin/wall', data: 'setgid\n', mode: 0o2755, mtime: T + 4 },
      { name: 'bin/sh', type: '2', linkname: 'su', mtime: T + 5 },
      { name: 'bin/su-again', type: '1', linkname: 'bin/su' },
      { name: 'tmp/', mode: 0o1777, mtime: T + 6 },
      { name: 'srv/', mode: 0o2750, mtime: T + 7 },
      { name: 'srv/data', data: 'x'.repeat(1500), mode: 0o600, mtime: T + 8 },
      { name: 'etc/deep/conf', data: 'implicit parents\n', mode: 0o640 },
      { name: 'empty', data: '', mode: 0o444, mtime: T + 9 },
      { name: 'locked/', mode: 0o500, mtime: T + 10 },
      { name: 'locked/inside', data: 'still written', mode: 0o400 },
    ]);
    const stats = await unpack(tar);

    expect(stats.entries).toBe(13);
    expect(stats.bytes).toBe(7 + 7 + 1500 + 17 + 13);
    expect(read('bin/su')).toBe('setuid\n');
    expect(lmode('bin/su')).toBe(0o4755);
    expect(lmode('bin/wall')).toBe(0o2755);
    expect(lmode('tmp')).toBe(0o1777);
    expect(lmode('srv')).toBe(0o2750);
    expect(lmode('srv/data')).toBe(0o600);
    expect(read('srv/data')).toHaveLength(1500);
    expect(lmode('empty')).toBe(0o444);
    expect(read('locked/inside')).toBe('still written');
    expect(lmode('locked')).toBe(0o500);

    expect(fs.readlinkSync(path.join(target, 'bin/sh'))).toBe('su');
    expect(mtime('bin/sh')).toBe(T + 5);
    const su = fs.statSync(path.join(target, 'bin/su'));
    expect(fs.statSync(path.join(target, 'bin/su-again')).ino).toBe(su.ino);
    expect(su.nlink).toBe(2);

    // Directory times are set last, after their children were written.
    expect(mtime('.')).toBe(T + 1);
    expect(mtime('bin')).toBe(T + 2);
    expect(mtime('srv')).toBe(T + 7);
    expect(mtime('locked')).toBe(T + 10);
    expect(mtime('bin/su')).toBe(T + 3);
    expect(mtime('empty')).toBe(T + 9);

    // Parents nobody declared are made 0755.
    expect(lmode('etc')).toBe(0o755);
    expect(lmode('etc/deep')).toBe(0o755);
    expect(read('etc/deep/conf')).toBe('implicit parents\n');

    expect(stats).toMatchObject({ whiteouts: [], opaqueDirs: [], devices: [], xattrs: [] });
  });

  it('keeps exact modes whatever the umask', async () => {
    const old = process.umask(0o077);
    try {
      await unpack(makeTar([{ name: 'd/', mode: 0o755 }, { name: 'd/f', data: 'x', mode: 0o644 }, { name: 'g', data: 'x', mode: 0o666 }]));
    } finally {
      process.umask(old);
    }
    expect([lmode('d'), lmode('d/f'), lmode('g')]).toEqual([0o755, 0o644, 0o666]);
  });

  it('gives the root 0755 when the layer does not name it, and the layer mode when it does', async () => {
    await unpack(makeTar([{ name: 'f', data: 'x' }]));
    expect(lmode('.')).toBe(0o755);
    fs.rmSync(target, { recursive: true });
    fs.mkdirSync(target);
    await unpack(makeTar([{ name: '.', type: '5', mode: 0o750, mtime: T }]));
    expect(lmode('.')).toBe(0o750);
    expect(mtime('.')).toBe(T);
  });

  it('reads PAX names, times and owners, GNU long names and the ustar prefix', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
    const longLink = `../${'t'.repeat(200)}`;
    const tar = makeTar([
      { name: 'short-name', data: 'pax', pax: { path: long, mtime: `${T}.25`, atime: `${T + 100}` } },
      { name: '././@LongLink', type: 'L', data: `gnu/${'g'.repeat(180)}\0` },
      { name: '././@LongLink', type: 'K', data: `${longLink}\0` },
      { name: 'gnu-short', type: '2', linkname: 'x', format: 'gnu' },
      { name: 'name', prefix: 'pre/fix', data: 'prefixed' },
      { name: 'v7file', data: 'v7', format: 'v7' },
    ]);
    const stats = await unpack(tar);
    expect(fs.lstatSync(path.join(target, long)).atimeMs / 1000).toBe(T + 100);
    expect(mtime(long)).toBeCloseTo(T + 0.25, 3);
    expect(read(long)).toBe('pax');
    expect(fs.readlinkSync(path.join(target, `gnu/${'g'.repeat(180)}`))).toBe(longLink);
    expect(read('pre/fix/name')).toBe('prefixed');
    expect(read('v7file')).toBe('v7');
    expect(stats.entries).toBe(4);
  });

  it('keeps names byte for byte, UTF-8 or not', async () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1: not UTF-8
    await unpack(makeTar([{ name: latin1, data: 'bytes' }, { name: 'naïve-ü', data: 'utf8' }]));
    const names = fs.readdirSync(target, { encoding: 'buffer' });
    expect(names.some((n) => n.equals(latin1))).toBe(true);
    expect(read('naïve-ü')).toBe('utf8');
  });

  it('lets a later member replace an earlier one, and a directory take a file\'s place', async () => {
    const tar = makeTar([
      { name: 'f', data: 'first' },
      { name: 'f', data: 'second' },
      { name: 'p', data: 'a file' },
      { name: 'p/', mode: 0o711 },
      { name: 'p/child', data: 'in the dir' },
      { name: 'd/', mode: 0o700, mtime: T },
      { name: 'd/', mode: 0o751, mtime: T + 1 },
    ]);
    await unpack(tar);
    expect(read('f')).toBe('second');
    expect(lmode('p')).toBe(0o711);
    expect(read('p/child')).toBe('in the dir');
    expect(lmode('d')).toBe(0o751);
    expect(mtime('d')).toBe(T + 1);
  });

  it('tar-symlink-replaced-not-followed: a file replacing a symlink is written in its place', async () => {
    await unpack(
      makeTar([
        { name: 'f', type: '2', linkname: '../sentinel/f' },
        { name: 'f', data: 'here, not there' },
      ]),
    );
    expect(fs.lstatSync(path.join(target, 'f')).isFile()).toBe(true);
    expect(read('f')).toBe('here, not there');
    expect(fs.readdirSync(sentinel)).toEqual([]);
  });

  it('records xattrs from SCHILY.xattr records with their exact bytes', async () => {
    // A v2 file capability (cap_net_raw): binary, with NUL and newline bytes.
    const cap = Buffer.from([0x00, 0x00, 0x00, 0x02, 0x0a, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const tar = makeTar([
      { name: 'bin/', pax: { 'SCHILY.xattr.user.dir': 'on a dir' } },
      { name: 'bin/ping', data: 'ping', pax: { 'SCHILY.xattr.security.capability': cap, 'SCHILY.xattr.user.note': 'ü', mtime: String(T) } },
      { name: 'bin/empty', data: '', pax: { 'SCHILY.xattr.user.empty': '' } },
    ]);
    const stats = await unpack(tar);
    expect(stats.xattrs).toEqual([
      { path: 'bin', name: 'user.dir', value: Buffer.from('on a dir') },
      { path: 'bin/ping', name: 'security.capability', value: cap },
      { path: 'bin/ping', name: 'user.note', value: Buffer.from('ü') },
      { path: 'bin/empty', name: 'user.empty', value: Buffer.alloc(0) },
    ]);
    expect(read('bin/ping')).toBe('ping');
  });

  it('refuses xattrs that Linux cannot store', async () => {
    await expectRefused(
      makeTar([{ name: 'f', data: '', pax: { 'SCHILY.xattr.user.big': Buffer.alloc(65537) } }]),
      /^layer is not a valid tar archive: "f" has an xattr "user.big" that Linux cannot store$/,
    );
  });

  it('drops the xattrs of a member that a later one replaces', async () => {
    const stats = await unpack(
      makeTar([
        { name: 'f', data: '1', pax: { 'SCHILY.xattr.user.a': '1' } },
        { name: 'f', data: '2' },
      ]),
    );
    expect(stats.xattrs).toEqual([]);
  });

  it('records device nodes and FIFOs instead of creating them', async () => {
    const tar = makeTar([
      { name: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666, mtime: T },
      { name: 'dev/sda', type: '4', devmajor: 8, devminor: 0, mode: 0o660, gid: 6 },
      { name: 'run/fifo', type: '6', mode: 0o600 },
      { name: 'dev/gnu-tty', type: '3', devmajor: 5, devminor: 0, mode: 0o666, format: 'gnu' },
      { name: 'dev/zero', type: '3', devmajor: 1, devminor: 5, mode: 0o666 },
      { name: 'dev/zero', data: 'replaced by a file' },
    ]);
    const stats = await unpack(tar);
    expect(stats.devices).toEqual([
      { path: 'dev/null', type: 'char', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0, mtime: new Date(T * 1000) },
      { path: 'dev/sda', type: 'block', major: 8, minor: 0, mode: 0o660, uid: 0, gid: 6, mtime: new Date(1_600_000_000_000) },
      { path: 'run/fifo', type: 'fifo', major: 0, minor: 0, mode: 0o600, uid: 0, gid: 0, mtime: new Date(1_600_000_000_000) },
      { path: 'dev/gnu-tty', type: 'char', major: 5, minor: 0, mode: 0o666, uid: 0, gid: 0, mtime: new Date(1_600_000_000_000) },
    ]);
    expect(exists('dev/null')).toBe(false);
    expect(exists('run/fifo')).toBe(false);
    expect(lmode('dev')).toBe(0o755);
    expect(read('dev/zero')).toBe('replaced by a file');
  });

  it('records a hard link to a device as another device', async () => {
    const stats = await unpack(
      makeTar([
        { name: 'dev/a', type: '3', devmajor: 4, devminor: 1, mode: 0o620 },
        { name: 'dev/b', type: '1', linkname: 'dev/a' },
      ]),
    );
    expect(stats.devices.map((d) => [d.path, d.major, d.minor])).toEqual([
      ['dev/a', 4, 1],
      ['dev/b', 4, 1],
    ]);
  });
});

describe('unpackLayer: whiteouts', () => {
  it('records .wh. files and opaque markers without writing them', async () => {
    const tar = makeTar([
      { name: '.wh.gone', data: '' },
      { name: 'etc/.wh.old.conf', data: '' },
      { name: 'opq/', mode: 0o755 },
      { name: 'opq/.wh..wh..opq', data: '' },
      { name: 'opq/kept', data: 'new' },
      { name: 'deep/er/.wh..wh..opq', data: '' },
    ]);
    const stats = await unpack(tar);
    expect(stats.whiteouts).toEqual(['gone', 'etc/old.conf']);
    expect(stats.opaqueDirs).toEqual(['opq', 'deep/er']);
    expect(fs.readdirSync(target).sort()).toEqual(['deep', 'etc', 'opq']);
    expect(fs.readdirSync(path.join(target, 'etc'))).toEqual([]);
    expect(fs.readdirSync(path.join(target, 'opq'))).toEqual(['kept']);
    expect(lmode('deep/er')).toBe(0o755);
  });

  it('makes a directory opaque when the same layer whites it out and recreates it, in either order', async () => {
    const tar = makeTar([
      { name: '.wh.a', data: '' },
      { name: 'a/new', data: 'a is a new directory' },
      { name: 'b/', mode: 0o755 },
      { name: '.wh.b', data: '' },
      { name: '.wh.c', data: '' },
      { name: 'c', data: 'a file hides the lower c by itself' },
      { name: 'd', type: '2', linkname: 'x' },
      { name: '.wh.d', data: '' },
    ]);
    const stats = await unpack(tar);
    expect(stats.whiteouts).toEqual([]);
    expect(stats.opaqueDirs).toEqual(['a', 'b']);
    expect(read('c')).toContain('file');
  });

  it('records an opaque root as "." and skips AUFS bookkeeping', async () => {
    const stats = await unpack(
      makeTar([
        { name: '.wh..wh..opq', data: '' },
        { name: '.wh..wh.plnk/', mode: 0o700 },
        { name: '.wh..wh.plnk/1234.5678', data: 'aufs' },
        { name: 'kept', data: 'k' },
      ]),
    );
    expect(stats.opaqueDirs).toEqual(['.']);
    expect(fs.readdirSync(target)).toEqual(['kept']);
  });
});

describe('unpackLayer: ownership', () => {
  const id = isRoot ? 4321 : (process.getuid?.() ?? 0);
  const gid = isRoot ? 8765 : (process.getgid?.() ?? 0);

  it('sets owners from the headers only with chown, keeping set-id bits', async () => {
    const tar = makeTar([
      { name: 'd/', uid: id, gid, mode: 0o2775 },
      { name: 'd/suid', data: 's', uid: id, gid, mode: 0o6755 },
      { name: 'd/link', type: '2', linkname: 'suid', uid: id, gid },
      { name: 'd/paxowned', data: 'p', pax: { uid: String(id), gid: String(gid) } },
    ]);
    await unpack(tar, { chown: true });
    for (const p of ['d', 'd/suid', 'd/link', 'd/paxowned']) {
      const st = fs.lstatSync(path.join(target, p));
      expect([p, st.uid, st.gid]).toEqual([p, id, gid]);
    }
    expect(lmode('d/suid')).toBe(0o6755);
    expect(lmode('d')).toBe(0o2775);
  });

  it('leaves everything to the caller without chown', async () => {
    await unpack(makeTar([{ name: 'f', data: 'x', uid: 4321, gid: 4321 }]));
    expect(fs.statSync(path.join(target, 'f')).uid).toBe(process.getuid?.());
  });

  it('names the file and the ids when an id is not mapped', async () => {
    const einval = Object.assign(new Error('EINVAL: invalid argument, fchown'), { code: 'EINVAL' });
    vi.spyOn(fs, 'fchownSync').mockImplementation(() => {
      throw einval;
    });
    await expectRefused(
      makeTar([{ name: 'usr/bin/prog', data: 'x', uid: 100000, gid: 100001 }]),
      /^cannot give "usr\/bin\/prog" the owner 100000:100001 from the image \(EINVAL\): that id is not mapped in this user namespace; /,
      { chown: true },
    );
  });

  it.skipIf(eperm.skip !== undefined)(skipTitle('fails clearly on a real EPERM from chown', eperm.skip), async () => {
    await expectRefused(makeTar([{ name: 'f', data: 'x', uid: 4321, gid: 4321 }]), /^cannot give "f" the owner 4321:4321 from the image \(EPERM\)/, { chown: true }, eperm.unpack);
  });
});

describe('unpackLayer: the stream', () => {
  it('reads the input to its end, past the end-of-archive blocks', async () => {
    const tar = makeTar([{ name: 'f', data: 'x' }], { trailer: Buffer.concat([Buffer.alloc(9216), Buffer.from('trailing garbage')]) });
    let consumed = 0;
    let finished = false;
    async function* source() {
      for (let off = 0; off < tar.length; off += 1000) {
        const chunk = tar.subarray(off, off + 1000);
        consumed += chunk.length;
        yield chunk;
      }
      finished = true;
    }
    await unpackLayer(Readable.from(source()), target);
    expect(consumed).toBe(tar.length);
    expect(finished).toBe(true);
  });

  it('gives the same result whatever the chunk sizes', async () => {
    const members: TarMember[] = [
      { name: 'a/', mode: 0o755 },
      { name: 'a/big', data: Buffer.alloc(70_000, 7) },
      { name: 'a/small', data: 'small', pax: { path: `a/${'é'.repeat(100)}/${'é'.repeat(100)}/${'é'.repeat(100)}`, 'SCHILY.xattr.user.k': 'v' } },
      { name: 'a/l', type: '2', linkname: 'big' },
      { name: '.wh.x', data: '' },
    ];
    const tar = makeTar(members);
    const results: string[] = [];
    for (const sizes of [[1], [511], [513], [512, 3, 1021], [tar.length]]) {
      removeTree(target);
      fs.mkdirSync(target);
      const stats = await unpack(tar, {}, sizes);
      results.push(JSON.stringify({ stats, files: fs.readdirSync(path.join(target, 'a')).sort(), big: fs.statSync(path.join(target, 'a/big')).size }));
    }
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toContain('é');
  });

  it('pax-path-split-across-chunks: a PAX path split inside a character keeps its name', async () => {
    // node-tar's Parser decodes each chunk on its own and loses this path.
    const component = 'é'.repeat(100);
    let name = `d/${component}/${component}/${component}`;
    if (paxBody({ path: name })[511] !== 0xc3) name = `x${name}`;
    const body = paxBody({ path: name });
    expect(body.subarray(511, 513).toString('utf8')).toBe('é'); // the character straddles the block boundary
    const tar = makeTar([{ name: 'short', data: 'long name', pax: { path: name } }]);
    await unpack(tar, {}, [1024, tar.length]);
    expect(read(name)).toBe('long name');
    expect(exists('short')).toBe(false);
  });

  it('accepts an empty stream and an archive without end blocks, as Go does', async () => {
    expect((await unpackLayer(Readable.from([]), target)).entries).toBe(0);
    const stats = await unpack(makeTar([{ name: 'f', data: 'x' }], { end: false }));
    expect(stats.entries).toBe(1);
  });

  it('reports a failing fs call as one line naming the entry', async () => {
    const long = 'n'.repeat(300); // NAME_MAX is 255
    const e = await expectRefused(makeTar([{ name: 'x', data: 'x', pax: { path: `dir/${long}` } }]), /^cannot unpack layer entry "dir\/n+": name too long \(ENAMETOOLONG\)$/);
    expect(e.message).not.toContain(base);
  });

  it('refuses a target that is not a new, empty directory', async () => {
    fs.writeFileSync(path.join(target, 'old'), '');
    await expect(unpack(makeTar([]))).rejects.toThrow(/must be a new, empty directory/);
  });

  it('reports an error of the input stream as one line', async () => {
    const input = new Readable({
      read() {
        this.destroy(new Error('incorrect header check'));
      },
    });
    await expect(unpackLayer(input, target)).rejects.toThrow(/^cannot read the layer: incorrect header check$/);
  });
});

describe('unpackLayer: archives that are not valid', () => {
  const file = makeTar([{ name: 'file', data: 'x'.repeat(2000) }]);

  it('refuses a truncated body', async () => {
    await expectRefused(file.subarray(0, 1000), /^layer is not a valid tar archive: unexpected end of data in "file" \(the archive is truncated\)$/);
  });

  it('refuses a truncated header', async () => {
    await expectRefused(file.subarray(0, 300), /^layer is not a valid tar archive: unexpected end of data/);
  });

  it('refuses a bad checksum', async () => {
    await expectRefused(makeTar([{ name: 'f', data: 'x', checksum: 1234 }]), /^layer is not a valid tar archive: a header checksum does not match$/);
  });

  it('says so when the layer is still compressed', async () => {
    await expectRefused(gzipSync(file), /^layer is not a valid tar archive: it is gzip-compressed \(decompress it first\)$/);
  });

  it('refuses garbage', async () => {
    await expectRefused(Buffer.alloc(4096, 'not a tar '), /^layer is not a valid tar archive: /);
  });

  it('refuses a header after a lone zero block', async () => {
    const tar = Buffer.concat([tarMember({ name: 'a', data: 'a' }), Buffer.alloc(512), makeTar([{ name: 'b', data: 'b' }])]);
    await expectRefused(tar, /^layer is not a valid tar archive: a header follows a lone end-of-archive block$/);
  });

  it('refuses a malformed PAX header', async () => {
    const bad = Buffer.from('99 path=x\n');
    const tar = Buffer.concat([tarHeader({ name: 'p', type: 'x', data: bad }), bad, Buffer.alloc(512 - bad.length), makeTar([{ name: 'f' }])]);
    await expectRefused(tar, /^layer is not a valid tar archive: a PAX extended header is malformed$/);
  });

  it('refuses member types it cannot unpack faithfully', async () => {
    await expectRefused(makeTar([{ name: 'sparse', type: 'S', data: 'x' }]), /^layer entry "sparse" is a GNU sparse file, which skiff does not support$/);
    await expectRefused(makeTar([{ name: 'f', data: 'x', pax: { 'GNU.sparse.major': '1' } }]), /is a sparse file/);
  });

  it('tar-link-with-body: refuses a symlink or device with data (tar readers disagree on it)', async () => {
    await expectRefused(makeTar([{ name: 'l', type: '2', linkname: 't', data: 'hidden' }]), /^layer is not a valid tar archive: "l" is a symlink with 6 bytes of data$/);
    await expectRefused(makeTar([{ name: 'c', type: '3', size: 512 }, { name: 'x', data: 'x' }]), /"c" is a char with 512 bytes/);
  });
});

describe('unpackLayer: malicious archives', () => {
  it('tar-dotdot-escape: refuses names that climb out of the layer', async () => {
    await expectRefused(makeTar([{ name: '../sentinel/pwned', data: 'x' }]), /^unsafe layer entry "..\/sentinel\/pwned": "..\/sentinel\/pwned" climbs out of the layer root; the layer was not unpacked$/);
    await expectRefused(makeTar([{ name: 'a/../../sentinel/pwned', data: 'x' }]), /climbs out of the layer root/);
    await expectRefused(makeTar([{ name: 'innocent', data: 'x', pax: { path: '../sentinel/pwned' } }]), /climbs out/);
    await expectRefused(makeTar([{ name: '@LongLink', type: 'L', data: '../sentinel/pwned' }, { name: 'innocent', data: 'x' }]), /climbs out/);
    await expectRefused(makeTar([{ name: '..', type: '5' }]), /climbs out/);
  });

  it('keeps ".." that stays inside the layer', async () => {
    await unpack(makeTar([{ name: 'a/../b', data: 'b' }]));
    expect(read('b')).toBe('b');
    expect(exists('a')).toBe(false);
  });

  it('tar-absolute-path: makes absolute names relative, and refuses them climbing out', async () => {
    await unpack(
      makeTar([
        { name: '/abs/file', data: 'inside' },
        { name: '//double', data: 'inside too' },
        { name: '/abs/passwd', type: '2', linkname: '/etc/passwd' },
      ]),
    );
    expect(read('abs/file')).toBe('inside');
    expect(read('double')).toBe('inside too');
    expect(fs.readlinkSync(path.join(target, 'abs/passwd'))).toBe('/etc/passwd');
    fs.rmSync(target, { recursive: true });
    fs.mkdirSync(target);
    await expectRefused(makeTar([{ name: '/../sentinel/pwned', data: 'x' }]), /climbs out of the layer root/);
  });

  it('tar-symlink-escape: refuses writing through a symlink the layer made', async () => {
    await expectRefused(
      makeTar([
        { name: 'link', type: '2', linkname: '../sentinel' },
        { name: 'link/pwned', data: 'x' },
      ]),
      /^unsafe layer entry "link\/pwned": its parent "link" is a symlink of this layer, not a directory; the layer was not unpacked$/,
    );
    await expectRefused(
      makeTar([
        { name: 'link', type: '2', linkname: sentinel },
        { name: 'link/sub/pwned', data: 'x' },
      ]),
      /its parent "link" is a symlink/,
    );
    await expectRefused(
      makeTar([
        { name: 'a/', mode: 0o755 },
        { name: 'a/b', type: '2', linkname: '../../sentinel' },
        { name: 'a/b/c/', mode: 0o755 },
      ]),
      /its parent "a\/b" is a symlink/,
    );
    await expectRefused(
      makeTar([
        { name: 'link', type: '2', linkname: '../sentinel' },
        { name: 'link/.wh.x', data: '' },
      ]),
      /its parent "link" is a symlink/,
    );
    await expectRefused(
      makeTar([
        { name: 'link', type: '2', linkname: '../sentinel' },
        { name: 'link/.wh..wh..opq', data: '' },
      ]),
      /its parent "link" is a symlink/,
    );
  });

  it('tar-dir-to-symlink: refuses a directory turned into a symlink mid-stream', async () => {
    await expectRefused(
      makeTar([
        { name: 'd/', mode: 0o755 },
        { name: 'd', type: '2', linkname: '../sentinel' },
        { name: 'd/x', data: 'x' },
      ]),
      /^unsafe layer entry "d": a symlink would replace the directory this layer created there; the layer was not unpacked$/,
    );
    await expectRefused(
      makeTar([
        { name: 'd/x', data: 'implicit d' },
        { name: 'd', data: 'a file over a dir' },
      ]),
      /a file would replace the directory/,
    );
  });

  it('tar-hardlink-escape: refuses hard links to anything outside the layer', async () => {
    fs.writeFileSync(path.join(sentinel, 'secret'), 'secret');
    await expectRefused(
      makeTar([{ name: 'h', type: '1', linkname: '../sentinel/secret' }]),
      /^unsafe layer entry "h": "..\/sentinel\/secret" climbs out of the layer root; the layer was not unpacked$/,
    );
    await expectRefused(makeTar([{ name: 'h', type: '1', linkname: sentinel + '/secret' }]), /is not a file created earlier in this layer/);
    await expectRefused(makeTar([{ name: 'h', type: '1', linkname: '/etc/passwd' }]), /its link target "\/etc\/passwd" is not a file created earlier in this layer/);
  });

  it('tar-hardlink-through-symlink: refuses hard links to or through a symlink', async () => {
    fs.writeFileSync(path.join(sentinel, 'secret'), 'secret');
    await expectRefused(
      makeTar([
        { name: 's', type: '2', linkname: '../sentinel/secret' },
        { name: 'h', type: '1', linkname: 's' },
      ]),
      /its link target "s" is a symlink/,
    );
    await expectRefused(
      makeTar([
        { name: 's', type: '2', linkname: '../sentinel' },
        { name: 'h', type: '1', linkname: 's/secret' },
      ]),
      /its link target "s\/secret" is not a file created earlier/,
    );
  });

  it('tar-hardlink-forward-reference: refuses hard links to what is not there yet, to directories and to themselves', async () => {
    await expectRefused(
      makeTar([
        { name: 'h', type: '1', linkname: 'later' },
        { name: 'later', data: 'x' },
      ]),
      /its link target "later" is not a file created earlier/,
    );
    await expectRefused(
      makeTar([
        { name: 'd/', mode: 0o755 },
        { name: 'h', type: '1', linkname: 'd' },
      ]),
      /its link target "d" is a directory/,
    );
    await expectRefused(
      makeTar([
        { name: 'f', data: 'x' },
        { name: 'f', type: '1', linkname: './f' },
      ]),
      /a hard link cannot point to itself/,
    );
  });

  it('tar-root-replaced: refuses a member that would replace the layer root', async () => {
    await expectRefused(makeTar([{ name: '.', type: '2', linkname: '../sentinel' }]), /a symlink cannot replace the layer root/);
    await expectRefused(makeTar([{ name: '/', type: '0', data: 'x' }]), /a file cannot replace the layer root/);
  });

  it('tar-whiteout-dotdot: refuses whiteouts of "." and ".."', async () => {
    await expectRefused(makeTar([{ name: '.wh...', data: '' }]), /^unsafe layer entry ".wh...": it is not a valid whiteout name/);
    await expectRefused(makeTar([{ name: 'a/.wh..', data: '' }]), /not a valid whiteout name/);
    await expectRefused(makeTar([{ name: '.wh.', data: '' }]), /not a valid whiteout name/);
    await expectRefused(makeTar([{ name: '../.wh.x', data: '' }]), /climbs out/);
  });

  it('tar-whiteout-as-directory: refuses a whiteout name used as a directory', async () => {
    await expectRefused(makeTar([{ name: '.wh.x/y', data: 'y' }]), /its parent ".wh.x" is a whiteout name/);
  });

  it('tar-device-parent: refuses a device or a file used as a directory', async () => {
    await expectRefused(
      makeTar([
        { name: 'dev', type: '3', devmajor: 1, devminor: 3 },
        { name: 'dev/x', data: 'x' },
      ]),
      /its parent "dev" is a device node of this layer/,
    );
    await expectRefused(
      makeTar([
        { name: 'f', data: 'x' },
        { name: 'f/x', data: 'x' },
      ]),
      /its parent "f" is a file of this layer/,
    );
  });

  it('tar-overlay-xattr: refuses overlayfs attributes in a layer', async () => {
    await expectRefused(makeTar([{ name: 'd/', pax: { 'SCHILY.xattr.user.overlay.opaque': 'y' } }]), /carries the overlayfs attribute "user.overlay.opaque"/);
    await expectRefused(makeTar([{ name: 'f', data: '', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/x' } }]), /trusted.overlay.redirect/);
  });

  it('tar-nul-in-path: refuses a PAX path with a NUL byte', async () => {
    await expectRefused(makeTar([{ name: 'f', data: 'x', pax: { path: 'ok\0../../sentinel/x' } }]), /a PAX path contains a NUL byte/);
  });

  it('tar-pax-newline-smuggling: a newline in a PAX value does not start a record', async () => {
    // node-tar's Parser splits records on '\n' and would name this entry "evil";
    // Go's archive/tar (Docker, registries' scanners) reads one xattr record.
    const smuggled = `a\n${'13 path=evil'}`;
    const body = paxRecord('SCHILY.xattr.user.x', smuggled);
    expect(body.toString()).toContain('\n13 path=evil\n');
    const stats = await unpack(makeTar([{ name: 'innocent', data: 'x', pax: { 'SCHILY.xattr.user.x': smuggled } }]));
    expect(exists('innocent')).toBe(true);
    expect(exists('evil')).toBe(false);
    expect(stats.xattrs).toEqual([{ path: 'innocent', name: 'user.x', value: Buffer.from(smuggled) }]);
  });

  it('never leaves a file descriptor open after a refusal', async () => {
    const before = fs.readdirSync('/proc/self/fd').length;
    await expectRefused(
      makeTar([{ name: 'f', data: 'x'.repeat(600) }]).subarray(0, 1024),
      /truncated/,
    );
    expect(fs.readdirSync('/proc/self/fd').length).toBe(before);
  });
});
