// cp (both directions, to and from tar streams) and export, on running and
// stopped containers from a real registry's image, as root and rootless; and
// the security regressions: a symlink inside the container never leads a copy
// onto the host.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { integrationEnv, type Mode, type Result, describeModes, until } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';
import { makeTar } from '../unit/helpers/make-tar.js';

let reg: TestRegistry;
let image = '';
const FIXED_MTIME = 981173106; // 2001-02-03T04:05:06Z
const dir = (name: string) => ({ name: `${name}/`, type: '5', mode: 0o755, mtime: FIXED_MTIME });
const file = (name: string, data: string, mode = 0o644) => ({ name, data, mode, mtime: FIXED_MTIME });
const link = (name: string, target: string) => ({ name, type: '2', linkname: target, mode: 0o777, mtime: FIXED_MTIME });

beforeAll(async () => {
  reg = await startRegistry();
  const env = integrationEnv();
  await pushImage(reg, 'cp', '1', {
    format: 'oci',
    layers: [
      { entries: busyboxLayer(env.imageRootfs), compression: 'gzip' },
      {
        compression: 'gzip',
        entries: [
          dir('data'),
          file('data/one', 'one\n', 0o640),
          dir('data/sub'),
          file('data/sub/two', 'two\n'),
          file('data/gone', 'gone\n'),
          // What a hostile image carries: links that would point at the host's files if followed outside the container.
          link('escape', '/'),
          link('escape2', '../../../../'),
          link('procroot', '/proc/self/root'),
          link('data/passwd-link', '/etc/passwd'),
        ],
      },
    ],
    config: { Cmd: ['sh'] },
  });
  image = `${reg.host}/cp:1`;
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

/** A directory on the host that the mode's user owns. */
function hostDir(mode: Mode): string {
  const d = mkdtempSync(path.join(integrationEnv().workDir, `cp-${mode.name}-`));
  chmodSync(d, 0o755);
  if (mode.user) chownSync(d, mode.user.uid, mode.user.gid);
  return d;
}

function own(mode: Mode, p: string): void {
  if (mode.user) chownSync(p, mode.user.uid, mode.user.gid);
}

/** Every error: one line, exit status 125. */
function expectOneLineError(r: Result, pattern: RegExp): void {
  expect(r.code).toBe(125);
  expect(r.stderr).toMatch(/^Error: [^\n]*\n$/);
  expect(r.stderr).toMatch(pattern);
}

/** skiff with stdout (or stdin) going to (coming from) a host file. */
function skiffWithFile(store: TestStore, args: string[], stdio: { stdin?: string; stdout?: string }): Promise<Result> {
  const inFd = stdio.stdin ? openSync(stdio.stdin, 'r') : 'ignore';
  const outFd = stdio.stdout ? openSync(stdio.stdout, 'w') : 'pipe';
  if (stdio.stdout) own(store.mode, stdio.stdout);
  const child = store.spawn(args, { stdio: [inFd, outFd, 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (typeof inFd === 'number') closeSync(inFd);
      if (typeof outFd === 'number') closeSync(outFd);
      resolve({ code, signal, stdout: '', stderr });
    });
  });
}

function tarList(file: string): string[] {
  return execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
}

const myUid = (mode: Mode) => (mode.user ? mode.user.uid : 0);

describeModes('cp and export ($name)', (mode) => {
  test('cp out of a running and a stopped container: a file, a directory, dir/. and into an existing directory', async () => {
    const store = newStore(mode);
    const h = hostDir(mode);
    expect((await store.skiff(['run', '-d', '--name', 'r', image, 'sh', '-c', 'echo made > /data/made; sleep 30'])).code).toBe(0);
    // A file: content, mode and mtime kept, owned by the caller.
    let r = await store.skiff(['cp', 'r:/data/one', `${h}/one`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(`${h}/one`, 'utf8')).toBe('one\n');
    const st = statSync(`${h}/one`);
    expect(st.mode & 0o7777).toBe(0o640);
    expect(Math.floor(st.mtimeMs / 1000)).toBe(FIXED_MTIME);
    expect(st.uid).toBe(myUid(mode));
    // A directory to a new name: created with the contents; relative container paths start at /.
    expect((await store.skiff(['cp', 'r:data', `${h}/d`])).code).toBe(0);
    expect(readFileSync(`${h}/d/sub/two`, 'utf8')).toBe('two\n');
    expect(readFileSync(`${h}/d/made`, 'utf8')).toBe('made\n');
    expect(lstatSync(`${h}/d/passwd-link`).isSymbolicLink()).toBe(true);
    // Into an existing directory: under its own name; with /. its contents.
    mkdirSync(`${h}/into`);
    mkdirSync(`${h}/contents`);
    own(mode, `${h}/into`);
    own(mode, `${h}/contents`);
    expect((await store.skiff(['cp', 'r:/data', `${h}/into`])).code).toBe(0);
    expect((await store.skiff(['cp', 'r:/data/.', `${h}/contents`])).code).toBe(0);
    expect(readdirSync(`${h}/into`)).toEqual(['data']);
    expect(readdirSync(`${h}/contents`).sort()).toEqual(['gone', 'made', 'one', 'passwd-link', 'sub']);
    // -L follows a symlink at the source, inside the container.
    expect((await store.skiff(['cp', '-L', 'r:/data/passwd-link', `${h}/pw`])).code).toBe(0);
    expect(readFileSync(`${h}/pw`, 'utf8')).toBe(readFileSync(path.join(integrationEnv().imageRootfs, 'etc/passwd'), 'utf8'));
    // Docker's errors.
    expectOneLineError(await store.skiff(['cp', 'r:/data/one', `${h}/missing/`]), /destination directory .* does not exist/);
    expectOneLineError(await store.skiff(['cp', 'r:/data', `${h}/one`]), /cannot copy a directory to a file/);
    expectOneLineError(await store.skiff(['cp', 'r:/nothing-here', `${h}/x`]), /^Error: could not find the file \/nothing-here in container r\n$/);
    expect((await store.skiff(['rm', '-f', 'r'])).code).toBe(0);

    // Stopped: created and never started, and exited.
    expect((await store.skiff(['create', '--name', 'c', image, 'true'])).code).toBe(0);
    expect((await store.skiff(['cp', 'c:/data/sub', `${h}/from-created`])).code).toBe(0);
    expect(readFileSync(`${h}/from-created/two`, 'utf8')).toBe('two\n');
    expect((await store.skiff(['run', '--name', 'e', image, 'sh', '-c', 'echo exited > /data/exited'])).code).toBe(0);
    expect((await store.skiff(['cp', 'e:/data/exited', `${h}/exited`])).code).toBe(0);
    expect(readFileSync(`${h}/exited`, 'utf8')).toBe('exited\n');
    expect(statSync(`${h}/exited`).uid).toBe(myUid(mode));
  });

  test('cp in: a file and a directory, owner 0:0 or kept with -a, mode and mtime kept, seen by exec', async () => {
    const store = newStore(mode);
    const h = hostDir(mode);
    writeFileSync(`${h}/f`, 'from the host\n');
    chmodSync(`${h}/f`, 0o754);
    utimesSync(`${h}/f`, FIXED_MTIME, FIXED_MTIME);
    mkdirSync(`${h}/tree/sub`, { recursive: true });
    writeFileSync(`${h}/tree/sub/leaf`, 'leaf\n');
    for (const p of ['f', 'tree', 'tree/sub', 'tree/sub/leaf']) own(mode, `${h}/${p}`);
    // As root, an owner that is kept by -a only; rootless, the user's own files are the container root's.
    if (!mode.user) chownSync(`${h}/f`, 1234, 2345);
    const kept = mode.user ? '0:0' : '1234:2345';

    expect((await store.skiff(['run', '-d', '--name', 'r', image, 'sleep', '30'])).code).toBe(0);
    expect((await store.skiff(['cp', `${h}/f`, 'r:/tmp/f'])).code).toBe(0);
    expect((await store.skiff(['cp', '-a', `${h}/f`, 'r:/tmp/fa'])).code).toBe(0);
    expect((await store.skiff(['cp', `${h}/tree`, 'r:/tmp/'])).code).toBe(0);
    const seen = await store.skiff(['exec', 'r', 'sh', '-c', 'stat -c "%u:%g %a %Y" /tmp/f /tmp/fa; cat /tmp/f /tmp/tree/sub/leaf']);
    expect(seen.stdout).toBe(`0:0 754 ${FIXED_MTIME}\n${kept} 754 ${FIXED_MTIME}\nfrom the host\nleaf\n`);
    // Overwrites an existing file; a missing source is one line.
    writeFileSync(`${h}/f`, 'again\n');
    expect((await store.skiff(['cp', `${h}/f`, 'r:/data/one'])).code).toBe(0);
    expect((await store.skiff(['exec', 'r', 'cat', '/data/one'])).stdout).toBe('again\n');
    expectOneLineError(await store.skiff(['cp', `${h}/absent`, 'r:/tmp/']), /absent/);
    expect((await store.skiff(['rm', '-f', 'r'])).code).toBe(0);

    // A created container: the file is there when it starts.
    expect((await store.skiff(['create', '--name', 's', image, 'sleep', '30'])).code).toBe(0);
    expect((await store.skiff(['cp', `${h}/tree/.`, 's:/srv'])).code).toBe(0);
    expect((await store.skiff(['start', 's'])).code).toBe(0);
    expect((await store.skiff(['exec', 's', 'sh', '-c', 'cat /srv/sub/leaf; stat -c %u:%g /srv/sub/leaf'])).stdout).toBe('leaf\n0:0\n');
    expect((await store.skiff(['rm', '-f', 's'])).code).toBe(0);
  });

  test('cp LINK/: a trailing slash on a symlink to a directory copies the directory, out and in (Docker and Podman resolve it so)', async () => {
    const store = newStore(mode);
    const h = hostDir(mode);
    expect((await store.skiff(['run', '-d', '--name', 'r', image, 'sh', '-c', 'ln -s sub /data/sublink; ln -s one /data/onelink; sleep 30'])).code).toBe(0);
    await until('the links', async () => ((await store.skiff(['exec', 'r', 'test', '-L', '/data/onelink'])).code === 0 ? true : undefined));
    // Out: without the slash the link itself; with it, what it points to, under the name written.
    expect((await store.skiff(['cp', 'r:/data/sublink', `${h}/asis`])).code).toBe(0);
    expect(lstatSync(`${h}/asis`).isSymbolicLink()).toBe(true);
    let r = await store.skiff(['cp', 'r:/data/sublink/', `${h}/followed`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(`${h}/followed/two`, 'utf8')).toBe('two\n');
    mkdirSync(`${h}/into`);
    own(mode, `${h}/into`);
    expect((await store.skiff(['cp', 'r:/data/sublink/', `${h}/into`])).code).toBe(0);
    expect(readFileSync(`${h}/into/sublink/two`, 'utf8')).toBe('two\n');
    // A link to a file with a slash is not a directory: one line, as before.
    expectOneLineError(await store.skiff(['cp', 'r:/data/onelink/', `${h}/x`]), /^Error: \/data\/onelink\/: Not a directory\n$/);
    // In: the same on the host's side.
    mkdirSync(`${h}/tree`);
    writeFileSync(`${h}/tree/leaf`, 'leaf\n');
    execFileSync('ln', ['-s', 'tree', `${h}/treelink`]);
    for (const p of ['tree', 'tree/leaf']) own(mode, `${h}/${p}`);
    r = await store.skiff(['cp', `${h}/treelink/`, 'r:/tmp/t']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await store.skiff(['exec', 'r', 'cat', '/tmp/t/leaf'])).stdout).toBe('leaf\n');
    expect((await store.skiff(['rm', '-f', 'r'])).code).toBe(0);
  });

  test('cp CTR:PATH - writes a tar; cp - CTR:DIR extracts one, refusing an escaping archive', async () => {
    const store = newStore(mode);
    const h = hostDir(mode);
    // A name longer than ustar's 100 bytes needs a PAX header.
    const long = `${'n'.repeat(60)}/${'m'.repeat(70)}`;
    expect((await store.skiff(['run', '-d', '--name', 'r', image, 'sh', '-c', `mkdir -p /data/${long.split('/')[0]} && echo long > /data/${long} && sleep 30`])).code).toBe(0);
    for (let i = 0; i < 50 && (await store.skiff(['exec', 'r', 'test', '-e', `/data/${long}`])).code !== 0; i++) await new Promise((res) => setTimeout(res, 100));
    const r = await skiffWithFile(store, ['cp', 'r:/data', '-'], { stdout: `${h}/data.tar` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(tarList(`${h}/data.tar`).sort()).toEqual(
      ['data/', 'data/gone', 'data/one', 'data/passwd-link', 'data/sub/', 'data/sub/two', `data/${long.split('/')[0]}/`, `data/${long}`].sort(),
    );
    expect(execFileSync('tar', ['-xOf', `${h}/data.tar`, `data/${long}`], { encoding: 'utf8' })).toBe('long\n');
    expect(execFileSync('tar', ['-xOf', `${h}/data.tar`, 'data/sub/two'], { encoding: 'utf8' })).toBe('two\n');

    writeFileSync(`${h}/in.tar`, makeTar([{ name: 'x/', type: '5', mode: 0o755 }, { name: 'x/y', data: 'from a tar\n', mode: 0o600 }]));
    own(mode, `${h}/in.tar`);
    expect((await skiffWithFile(store, ['cp', '-', 'r:/tmp'], { stdin: `${h}/in.tar` })).code).toBe(0);
    expect((await store.skiff(['exec', 'r', 'sh', '-c', 'cat /tmp/x/y; stat -c "%a %u" /tmp/x/y'])).stdout).toBe('from a tar\n600 0\n');
    // The destination of a tar must be an existing directory.
    expectOneLineError(await skiffWithFile(store, ['cp', '-', 'r:/no/such/dir'], { stdin: `${h}/in.tar` }), /destination directory \/no\/such\/dir does not exist/);
    // tar-dotdot-escape: the archive is refused before anything is copied.
    writeFileSync(`${h}/evil.tar`, makeTar([{ name: '../../evil', data: 'x' }]));
    own(mode, `${h}/evil.tar`);
    expectOneLineError(await skiffWithFile(store, ['cp', '-', 'r:/tmp'], { stdin: `${h}/evil.tar` }), /climbs out/);
    expect((await store.skiff(['rm', '-f', 'r'])).code).toBe(0);
  });

  test('export: the image files and the container changes, not deleted files; -o is atomic', async () => {
    const store = newStore(mode);
    const h = hostDir(mode);
    expect((await store.skiff(['run', '--name', 'x', image, 'sh', '-c', 'rm /data/gone; echo new > /data/new'])).code).toBe(0);
    const r = await store.skiff(['export', '-o', `${h}/x.tar`, 'x']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const names = tarList(`${h}/x.tar`);
    expect(names).toContain('bin/busybox');
    expect(names).toContain('data/new');
    expect(names).toContain('data/one');
    expect(names).not.toContain('data/gone');
    expect(execFileSync('tar', ['-xOf', `${h}/x.tar`, 'data/new'], { encoding: 'utf8' })).toBe('new\n');
    expect(readdirSync(h)).toEqual(['x.tar']);
    // To stdout, and of a running container: /proc is there, empty.
    expect((await store.skiff(['run', '-d', '--name', 'run', image, 'sleep', '30'])).code).toBe(0);
    expect((await skiffWithFile(store, ['container', 'export', 'run'], { stdout: `${h}/run.tar` })).code).toBe(0);
    const running = tarList(`${h}/run.tar`);
    expect(running).toContain('proc/');
    expect(running.filter((n) => n.startsWith('proc/') && n !== 'proc/')).toEqual([]);
    expect(running).toContain('data/gone');
    // A failure leaves no file behind.
    expectOneLineError(await store.skiff(['export', '-o', `${h}/x.tar`, 'nope']), /no such container: nope/);
    // Not an internal error: the line says which directory is missing.
    expect(await store.skiff(['export', '-o', `${h}/missing/x.tar`, 'x'])).toMatchObject({ code: 125, stdout: '', stderr: `Error: cannot write ${h}/missing/x.tar: the directory ${h}/missing does not exist\n` });
    expect(readdirSync(h).sort()).toEqual(['run.tar', 'x.tar']);
    expect((await store.skiff(['rm', '-f', 'run'])).code).toBe(0);
  });

  test('security cp-symlink-escape-out: /escape -> /, ../../../../ and /proc/self/root read the container, never the host', async () => {
    const store = newStore(mode);
    const h = hostDir(mode);
    const containerPasswd = readFileSync(path.join(integrationEnv().imageRootfs, 'etc/passwd'), 'utf8');
    expect(containerPasswd).not.toBe(readFileSync('/etc/passwd', 'utf8'));
    expect((await store.skiff(['run', '-d', '--name', 'r', image, 'sleep', '30'])).code).toBe(0);
    expect((await store.skiff(['create', '--name', 'c', image, 'true'])).code).toBe(0);
    // The helper resolves every container path with openat2(RESOLVE_IN_ROOT |
    // RESOLVE_NO_MAGICLINKS) (Linux 5.6, below skiff's 5.11 floor), so the outcome is
    // the same on every host skiff runs on: the links to / and ../../../../ resolve to
    // the container's root; /proc/self/root is a magic link in a running container's
    // /proc (never followed) and absent from a stopped one's empty /proc: not found.
    for (const ctr of ['r', 'c']) {
      for (const via of ['escape', 'escape2']) {
        const out = `${h}/${ctr}-${via}`;
        expect(await store.skiff(['cp', `${ctr}:/${via}/etc/passwd`, out])).toEqual({ code: 0, signal: null, stdout: '', stderr: '' });
        expect(readFileSync(out, 'utf8')).toBe(containerPasswd);
        // -L on the link itself: still the container's root.
        expect(await store.skiff(['cp', '-L', `${ctr}:/${via}`, `${out}-L`])).toEqual({ code: 0, signal: null, stdout: '', stderr: '' });
        expect(readFileSync(`${out}-L/etc/passwd`, 'utf8')).toBe(containerPasswd);
      }
      const proc = await store.skiff(['cp', `${ctr}:/procroot/etc/passwd`, `${h}/${ctr}-procroot`]);
      expect(proc).toEqual({ code: 125, signal: null, stdout: '', stderr: `Error: could not find the file /procroot/etc/passwd in container ${ctr}\n` });
      const procL = await store.skiff(['cp', '-L', `${ctr}:/procroot`, `${h}/${ctr}-procroot-L`]);
      expect(procL).toEqual({ code: 125, signal: null, stdout: '', stderr: `Error: could not find the file /procroot in container ${ctr}\n` });
      expect(existsSync(`${h}/${ctr}-procroot`) || existsSync(`${h}/${ctr}-procroot-L`)).toBe(false);
    }
    expect((await store.skiff(['rm', '-f', 'r', 'c'])).code).toBe(0);
  }, 90_000);

  test('security cp-symlink-escape-in: a write through /escape or /proc/self/root stays inside the container root', async () => {
    const store = newStore(mode);
    const h = hostDir(mode);
    writeFileSync(`${h}/payload`, 'payload\n');
    own(mode, `${h}/payload`);
    const marker = `skiff-cp-escape-${mode.name}-${process.pid}-${Date.now()}`;
    expect((await store.skiff(['run', '-d', '--name', 'r', image, 'sleep', '30'])).code).toBe(0);
    expect((await store.skiff(['create', '--name', 'c', image, 'sleep', '30'])).code).toBe(0);
    // As cp-symlink-escape-out: the same outcome on every host.
    for (const ctr of ['r', 'c']) {
      for (const via of ['escape', 'escape2', 'procroot']) {
        const dest = `/${via}/tmp/${marker}-${via}`;
        const res = await store.skiff(['cp', `${h}/payload`, `${ctr}:${dest}`]);
        expect(existsSync(`/tmp/${marker}-${via}`)).toBe(false);
        if (via === 'procroot') expect(res).toEqual({ code: 125, signal: null, stdout: '', stderr: `Error: the directory of destination ${dest} does not exist\n` });
        else expect(res).toEqual({ code: 0, signal: null, stdout: '', stderr: '' });
      }
    }
    // Through the plain links the file landed in the container's own /tmp.
    expect((await store.skiff(['exec', 'r', 'cat', `/tmp/${marker}-escape`, `/tmp/${marker}-escape2`])).stdout).toBe('payload\npayload\n');
    expect((await store.skiff(['start', 'c'])).code).toBe(0);
    expect((await store.skiff(['exec', 'c', 'cat', `/tmp/${marker}-escape`])).stdout).toBe('payload\n');
    expect(readdirSync('/tmp').filter((n) => n.startsWith(marker))).toEqual([]);
    expect((await store.skiff(['rm', '-f', 'r', 'c'])).code).toBe(0);
  }, 90_000);

  test('cp-to-special-destination: /dev/stdout, a FIFO or a device node is refused with one line, never removed', async () => {
    const store = newStore(mode);
    const h = hostDir(mode);
    expect((await store.skiff(['run', '-d', '--name', 'r', image, 'sleep', '30'])).code).toBe(0);
    // stdout is Node's 'pipe' here, a socket: /dev/stdout leads to it through /proc/self/fd/1.
    const stdout = await store.skiff(['cp', 'r:/data/one', '/dev/stdout']);
    expectOneLineError(stdout, /^Error: cannot copy to \/dev\/stdout: it is a socket, not a file or a directory \(to write a tar stream to stdout, use -\)\n$/);
    expect(stdout.stdout).toBe('');
    execFileSync('mkfifo', [`${h}/fifo`]);
    own(mode, `${h}/fifo`);
    expectOneLineError(await store.skiff(['cp', 'r:/data/one', `${h}/fifo`]), /^Error: cannot copy to \S+\/fifo: it is a FIFO, not a file/);
    expect(lstatSync(`${h}/fifo`).isFIFO()).toBe(true);
    if (!mode.user) {
      // Root could unlink any node: a copy of /dev/null's device number stands in for it.
      execFileSync('mknod', [`${h}/null`, 'c', '1', '3']);
      expectOneLineError(await store.skiff(['cp', 'r:/data/one', `${h}/null`]), /^Error: cannot copy to \S+\/null: it is a character device, not a file/);
      expect(lstatSync(`${h}/null`).isCharacterDevice()).toBe(true);
    }
    // Into the container: its /dev/null stays.
    expectOneLineError(await store.skiff(['cp', `${h}/fifo`, 'r:/dev/null']), /^Error: cannot copy to \/dev\/null: it is a character device/);
    expect((await store.skiff(['exec', 'r', 'sh', '-c', 'test -c /dev/null && echo device'])).stdout).toBe('device\n');
    expect((await store.skiff(['rm', '-f', 'r'])).code).toBe(0);
  });

  test('bad input: one line and exit 125', async () => {
    const store = newStore(mode);
    expectOneLineError(await store.skiff(['cp', '/a', '/b']), /^Error: must specify at least one container source\n$/);
    // Between two containers is a copy (Podman's); missing ones are named.
    expectOneLineError(await store.skiff(['cp', 'a:/x', 'b:/y']), /^Error: no such container: a\n$/);
    expectOneLineError(await store.skiff(['cp', 'nosuch:/x', '/tmp/y']), /^Error: no such container: nosuch\n$/);
    expectOneLineError(await store.skiff(['container', 'cp', 'only-one']), /requires at least 2 arguments/);
    expectOneLineError(await store.skiff(['export']), /requires at least 1 argument/);
  });
}, { concurrent: true });
