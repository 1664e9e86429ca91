// skiff build: real builds through the real helper, as root and rootless,
// bases from the test registry (busybox from Debian's busybox-static).
import { chownSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { integrationEnv, type Mode, describeModes } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;
let base: string;

beforeAll(async () => {
  reg = await startRegistry();
  const env = integrationEnv();
  await pushImage(reg, 'busybox', 'latest', {
    format: 'oci',
    layers: [{ entries: busyboxLayer(env.imageRootfs), compression: 'gzip' }],
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
  });
  base = `${reg.host}/busybox:latest`;
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

/** A build context the mode's user owns: files by relative path. */
function context(mode: Mode, files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(integrationEnv().workDir, 'ctx-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  if (mode.user) chownTree(dir, mode.user.uid, mode.user.gid);
  return dir;
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid, gid);
    else lchownSync(p, uid, gid);
  }
}

async function inspect(store: TestStore, image: string): Promise<Record<string, unknown>> {
  const r = await store.skiff(['image', 'inspect', image]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Record<string, unknown>[])[0]!;
}

describeModes('build ($name)', (mode) => {
  test('config instructions, ARG before FROM and per stage, --build-arg, --label, cached rebuild gives the same id', async () => {
    const store = newStore(mode);
    const dir = context(mode, {
      Dockerfile: `ARG TAG=latest\nFROM ${reg.host}/busybox:$TAG\nARG WHO=nobody\nENV GREETING="hello $WHO" PLAIN=1\nLABEL who=$WHO\nEXPOSE 8080/tcp 53/udp\nWORKDIR /srv\nUSER 1000:1000\nVOLUME /data\nSTOPSIGNAL SIGUSR1\nHEALTHCHECK --interval=5s --retries=2 CMD ["true"]\nENTRYPOINT ["/bin/sh", "-c"]\nCMD ["echo $GREETING"]\n`,
    });
    const r = await store.skiff(['build', '-t', 'cfg:1', '--build-arg', 'WHO=world', '--label', 'extra=yes', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('STEP 1/12: FROM');
    expect(r.stderr).toContain('COMMIT');
    const id = r.stdout.trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    const img = await inspect(store, 'cfg:1');
    const config = img['Config'] as Record<string, unknown>;
    expect(config['Env']).toContain('GREETING=hello world');
    expect(config['Labels']).toEqual({ who: 'world', extra: 'yes' });
    expect(config['ExposedPorts']).toEqual({ '8080/tcp': {}, '53/udp': {} });
    expect(config['WorkingDir']).toBe('/srv');
    expect(config['User']).toBe('1000:1000');
    expect(config['StopSignal']).toBe('SIGUSR1');
    const again = await store.skiff(['build', '-t', 'cfg:1', '--build-arg', 'WHO=world', '--label', 'extra=yes', dir]);
    expect(again.stderr).toContain('--> Using cache');
    expect(again.stdout.trim()).toBe(id);
    const changed = await store.skiff(['build', '-q', '--build-arg', 'WHO=else', dir]);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout.trim()).not.toBe(id);
    expect(changed.stderr).toBe('');
  });

  test('PATH: FROM scratch, or a base without one, gets the default PATH in its config (BuildKit and Buildah set it), which $PATH expands to', async () => {
    const store = newStore(mode);
    const DEFAULT = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    const scratch = context(mode, { Dockerfile: 'FROM scratch\nCOPY f /f\nENV MORE=$PATH:/opt/bin\n', f: 'x' });
    let r = await store.skiff(['build', '-t', 'fromscratch', scratch]);
    expect(r.code, r.stderr).toBe(0);
    expect((await inspect(store, 'fromscratch'))['Config']).toMatchObject({ Env: [`PATH=${DEFAULT}`, `MORE=${DEFAULT}:/opt/bin`] });
    // A base with no Env at all, and a Dockerfile with nothing after FROM: still an image of its own, with PATH.
    await pushImage(reg, 'nopath', '1', { format: 'oci', layers: [{ entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' }], config: { Cmd: ['sh'] } });
    expect((await store.skiff(['pull', '-q', `${reg.host}/nopath:1`])).code).toBe(0);
    r = await store.skiff(['build', '-q', '-t', 'fromnopath', context(mode, { Dockerfile: `FROM ${reg.host}/nopath:1\n` })]);
    expect(r.code, r.stderr).toBe(0);
    expect((await inspect(store, 'fromnopath'))['Config']).toMatchObject({ Env: [`PATH=${DEFAULT}`] });
    expect(((await inspect(store, `${reg.host}/nopath:1`))['Config'] as { Env: unknown })['Env']).toBeNull();
    // A base's own PATH is kept as it is.
    expect((await inspect(store, (await store.skiff(['build', '-q', context(mode, { Dockerfile: `FROM ${base}\nENV P=$PATH\n` })])).stdout.trim()))['Config']).toMatchObject({ Env: [`PATH=${DEFAULT}`, `P=${DEFAULT}`] });
  });

  test('COPY of a root filesystem keeps its /proc, /sys and /dev; a RUN leaves out the ones it had made for it', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: 'FROM scratch\nCOPY root/ /\n', 'root/etc/f': 'f' });
    for (const d of ['proc', 'sys', 'dev']) mkdirSync(path.join(dir, 'root', d));
    if (mode.user) chownTree(dir, mode.user.uid, mode.user.gid);
    const r = await store.skiff(['build', '-q', '-t', 'rootcopy', dir]);
    expect(r.code, r.stderr).toBe(0);
    const saved = path.join(mkdtempSync(path.join(integrationEnv().workDir, 'save-')), 'x.tar');
    if (mode.user) chownSync(path.dirname(saved), mode.user.uid, mode.user.gid);
    expect((await store.skiff(['save', '-o', saved, 'rootcopy'])).code).toBe(0);
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', saved, 'manifest.json'], { encoding: 'utf8' })) as { Layers: string[] }[];
    const layer = execFileSync('tar', ['-xOf', saved, manifest[0]!.Layers[0]!]);
    const names = (tar: Buffer) => execFileSync('tar', ['-t'], { input: tar, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    expect(names(layer)).toEqual(['dev/', 'etc/', 'etc/f', 'proc/', 'sys/']);
    // A RUN on a root with none of them: the mount points the helper made stay out of its layer.
    const bare = context(mode, { Dockerfile: 'FROM scratch\nCOPY bin /bin\nRUN ["/bin/busybox", "mkdir", "/made"]\n' });
    mkdirSync(path.join(bare, 'bin'));
    writeFileSync(path.join(bare, 'bin/busybox'), readFileSync(path.join(integrationEnv().imageRootfs, 'bin/busybox')), { mode: 0o755 });
    if (mode.user) chownTree(bare, mode.user.uid, mode.user.gid);
    const ran = await store.skiff(['build', '-q', '-t', 'bareran', bare]);
    expect(ran.code, ran.stderr).toBe(0);
    expect((await store.skiff(['save', '-o', saved, 'bareran'])).code).toBe(0);
    const layers = (JSON.parse(execFileSync('tar', ['-xOf', saved, 'manifest.json'], { encoding: 'utf8' })) as { Layers: string[] }[])[0]!.Layers;
    // Nor the etc/ made for /etc/hosts, /etc/hostname and /etc/resolv.conf.
    expect(names(execFileSync('tar', ['-xOf', saved, layers[1]!]))).toEqual(['made/']);
  });

  test('--squash keeps a COPYed /proc, /etc/hosts and /dev whether a RUN comes before or after the COPY', async () => {
    const store = newStore(mode);
    const files = { 'root/proc/sub/f': 'in proc\n', 'root/etc/hosts': '10.0.0.1 copied\n', 'root/dev/keep': 'k' };
    const squashed = async (dockerfile: string): Promise<string[]> => {
      const dir = context(mode, { Dockerfile: dockerfile, ...files });
      mkdirSync(path.join(dir, 'bin'));
      writeFileSync(path.join(dir, 'bin/busybox'), readFileSync(path.join(integrationEnv().imageRootfs, 'bin/busybox')), { mode: 0o755 });
      if (mode.user) chownTree(dir, mode.user.uid, mode.user.gid);
      const r = await store.skiff(['build', '-q', '--squash', '-t', 'sq', dir]);
      expect(r.code, r.stderr).toBe(0);
      const saved = path.join(dir, 'sq.tar');
      expect((await store.skiff(['save', '-o', saved, 'sq'])).code).toBe(0);
      const layers = (JSON.parse(execFileSync('tar', ['-xOf', saved, 'manifest.json'], { encoding: 'utf8' })) as { Layers: string[] }[])[0]!.Layers;
      expect(layers).toHaveLength(1);
      return execFileSync('tar', ['-t'], { input: execFileSync('tar', ['-xOf', saved, layers[0]!], { maxBuffer: 1 << 26 }), encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    };
    const want = ['bin/', 'bin/busybox', 'dev/', 'dev/keep', 'etc/', 'etc/hosts', 'made/', 'proc/', 'proc/sub/', 'proc/sub/f'];
    expect(await squashed('FROM scratch\nCOPY bin /bin\nCOPY root/ /\nRUN ["/bin/busybox", "mkdir", "/made"]\n')).toEqual(want);
    expect(await squashed('FROM scratch\nCOPY bin /bin\nRUN ["/bin/busybox", "mkdir", "/made"]\nCOPY root/ /\n')).toEqual(want);
    // A RUN alone on a bare root: none of its mount points.
    expect(await squashed('FROM scratch\nCOPY bin /bin\nRUN ["/bin/busybox", "mkdir", "/made"]\n')).toEqual(['bin/', 'bin/busybox', 'made/']);
  });

  test('a malformed Dockerfile: file, line, column, what was expected; exit 125', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base}\nRUN true\n  BOGUS x\n` });
    const r = await store.skiff(['build', dir]);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/Dockerfile:3:3: unknown instruction "BOGUS": expected one of FROM, RUN/);
  });

  test('a failing RUN: its exit code and step, the build exits with that code (as Podman), no image, no container, nothing left in tmp', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base}\nRUN echo before\nRUN exit 3\n` });
    const r = await store.skiff(['build', '-t', 'fails', dir]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/Dockerfile:3: RUN exit 3: the command "\/bin\/sh -c exit 3" exited with 3/);
    // A command the shell cannot find: the shell's 127, as `podman build` exits.
    const missing = await store.skiff(['build', context(mode, { Dockerfile: `FROM ${base}\nRUN no-such-command\n` })]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/^Error: \S*Dockerfile:2: RUN no-such-command: the command "\/bin\/sh -c no-such-command" exited with 127$/m);
    expect((await store.skiff(['image', 'inspect', 'fails'])).code).not.toBe(0);
    expect((await store.skiff(['ps', '-aq'])).stdout).toBe('');
    expect(store.ls('tmp')).toEqual([]);
  });

  test('COPY of a missing source or one outside the context: one line naming it', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base}\nCOPY nothere /x\n`, 'two/Dockerfile': `FROM ${base}\nCOPY ../../etc/passwd /x\n` });
    const missing = await store.skiff(['build', dir]);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain('COPY nothere: no such file or directory in the build context');
    const out = await store.skiff(['build', '-f', path.join(dir, 'two/Dockerfile'), dir]);
    expect(out.code).toBe(125);
    expect(out.stderr).toContain('COPY ../../etc/passwd: forbidden path outside the build context');
    writeFileSync(path.join(dir, 'two/Dockerfile'), `FROM ${base}\nCOPY --parents Dockerfile /x/\n`);
    const parents = await store.skiff(['build', '-f', path.join(dir, 'two/Dockerfile'), dir]);
    expect(parents.code).toBe(125);
    expect(parents.stderr).toContain('COPY --parents is not supported yet');
  });

  test('--target, -f -, --platform of another arch refused, unknown target', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base} AS one\nLABEL stage=one\nFROM one AS two\nLABEL stage=two\n` });
    const one = await store.skiff(['build', '-q', '--target', 'one', dir]);
    expect(one.code, one.stderr).toBe(0);
    const img = await inspect(store, one.stdout.trim());
    expect((img['Config'] as { Labels: Record<string, string> }).Labels).toEqual({ stage: 'one' });
    const stdin = await store.skiff(['build', '-q', '-f', '-', dir], { input: `FROM ${base}\nLABEL from=stdin\n` });
    expect(stdin.code, stdin.stderr).toBe(0);
    const bad = await store.skiff(['build', '--platform', 'linux/s390x', dir]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain('skiff builds for the host\'s platform only');
    const none = await store.skiff(['build', '--target', 'three', dir]);
    expect(none.stderr).toContain('target stage "three" could not be found');
    // Docker's and Podman's flags scripts pass: what skiff does anyway is accepted, the rest refused in one line.
    const flags = await store.skiff(['build', '--progress=plain', '--rm', '--force-rm', '--load', '--format', 'oci', '--target', 'one', dir]);
    expect(flags.code, flags.stderr).toBe(0);
    expect(flags.stderr).toContain('STEP 1/2');
    const quiet = await store.skiff(['build', '--progress', 'quiet', '--target', 'one', dir]);
    expect([quiet.code, quiet.stderr, quiet.stdout]).toEqual([0, '', one.stdout]);
    for (const [flag, message] of [['--rm=false', "skiff keeps no step's container"], ['--progress=rawjson', 'invalid --progress "rawjson"'], ['--format=docker', "push --format v2s2' sends one in Docker's format"]] as const) {
      const r = await store.skiff(['build', flag, dir]);
      expect([r.code, r.stderr.trim().split('\n').length], r.stderr).toEqual([125, 1]);
      expect(r.stderr).toContain(message);
    }
    void readFileSync;
  });

  test("the seed's kind of Dockerfile: several RUNs, EXPOSE, CMD; it runs; history in Docker's form", async () => {
    const store = newStore(mode);
    const dir = context(mode, {
      Dockerfile: `FROM ${base}\nRUN mkdir -p /app && echo one > /app/one\nRUN echo two > /app/two && adduser -D -u 1234 app 2>/dev/null || echo 'app:x:1234:1234::/home/app:/bin/sh' >> /etc/passwd\nEXPOSE 80\nCMD ["cat", "/app/one", "/app/two"]\n`,
    });
    const r = await store.skiff(['build', '-t', 'seed', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/STEP 2\/5: RUN mkdir -p \/app/);
    expect(r.stderr).toMatch(/COMMIT .*seed:latest/);
    const run = await store.skiff(['run', '--rm', 'seed']);
    expect(run.stdout).toBe('one\ntwo\n');
    const h = await store.skiff(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'seed']);
    expect(h.stdout.split('\n')[0]).toBe('/bin/sh -c #(nop) CMD ["cat","/app/one","/app/two"]');
    expect(h.stdout).toContain('/bin/sh -c mkdir -p /app && echo one > /app/one');
    const img = await inspect(store, 'seed');
    expect((img['RootFS'] as { Layers: string[] }).Layers).toHaveLength(3);
  });

  test('multi-stage: one stage makes the program, the final image has only the result', async () => {
    const store = newStore(mode);
    const dir = context(mode, {
      Dockerfile: `ARG BASE=${base}\nFROM $BASE AS build\nWORKDIR /src\nRUN printf '#!/bin/sh\\necho built-program\\n' > tool && chmod 755 tool && echo junk > /src/junk\n\nFROM $BASE\nCOPY --from=build /src/tool /usr/local/bin/tool\nCMD ["tool"]\n`,
    });
    const r = await store.skiff(['build', '-t', 'multi', dir]);
    expect(r.code, r.stderr).toBe(0);
    // Each step as written, flags too; FROM with its image name expanded (as Podman shows them).
    expect(r.stderr).toContain(`[1/2] STEP 1/3: FROM ${base} AS build\n`);
    expect(r.stderr).toContain(`[2/2] STEP 1/3: FROM ${base}\n`);
    expect(r.stderr).toContain('[2/2] STEP 2/3: COPY --from=build /src/tool /usr/local/bin/tool\n');
    expect(r.stderr).toContain('[2/2] STEP 3/3');
    expect((await store.skiff(['run', '--rm', 'multi'])).stdout).toBe('built-program\n');
    expect((await store.skiff(['run', '--rm', 'multi', 'ls', '/src'])).code).not.toBe(0);
    const ls = await store.skiff(['run', '--rm', 'multi', 'ls', '-l', '/usr/local/bin/tool']);
    expect(ls.stdout).toMatch(/^-rwxr-xr-x\s+1 root\s+root/);
    // Intermediate stages are not tagged (as Podman and Docker's classic builder, the build stage's image is <none>).
    const images = await store.skiff(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(images.stdout.split('\n').filter((l) => l !== '' && l !== '<none>:<none>').sort()).toEqual([`${reg.host}/busybox:latest`, 'multi:latest'].sort());
  });

  test('COPY and ADD: files, directories, globs, several sources, --chown, --chmod, a tar unpacked, a URL, heredocs, symlinks kept', async () => {
    const store = newStore(mode);
    const blob = (await pushImage(reg, 'blobsrc', '1', { format: 'oci', layers: [{ compression: 'gzip', entries: [{ name: 'inside.txt', data: 'from the tar\n', mode: 0o644 }] }], config: {} })).layers[0]!;
    const dir = context(mode, {
      Dockerfile: [
        `FROM ${base}`,
        'ARG NAME=world',
        'COPY a.txt /dst/file.txt',
        'COPY dir /dst/dir',
        'COPY *.md extra/ /dst/many/',
        'COPY --chown=1234:55 --chmod=600 a.txt /dst/owned',
        'COPY --chown=1234:55 dir /dst/chowned/deep/',
        'ADD layer.tar.gz /dst/unpacked/',
        `ADD --checksum=${blob.digest} http://${reg.host}/v2/blobsrc/blobs/${blob.digest} /dst/fetched.gz`,
        'COPY link /dst/link',
        'COPY <<EOF /dst/heredoc',
        'hello ${NAME}',
        'EOF',
        'RUN <<EOF',
        'echo from-heredoc > /dst/ran',
        'EOF',
        'RUN <<-EOT',
        '\t#!/bin/sh -e',
        '\techo "script as $0" > /dst/script',
        '\tEOT',
        '',
      ].join('\n'),
      'a.txt': 'A\n',
      'dir/sub/b.txt': 'B\n',
      'one.md': '1',
      'two.md': '2',
      'extra/x': 'x',
    });
    writeFileSync(path.join(dir, 'layer.tar.gz'), blob.blob);
    symlinkSync('/etc/passwd', path.join(dir, 'link'));
    if (mode.user) chownTree(dir, mode.user.uid, mode.user.gid);
    const r = await store.skiff(['build', '-t', 'copies', dir]);
    expect(r.code, r.stderr).toBe(0);
    const sh = async (cmd: string) => (await store.skiff(['run', '--rm', 'copies', 'sh', '-c', cmd])).stdout;
    expect(await sh('cat /dst/file.txt /dst/dir/sub/b.txt')).toBe('A\nB\n');
    expect(await sh('ls /dst/many | tr "\\n" " "')).toBe('one.md two.md x ');
    expect(await sh('stat -c "%u:%g %a" /dst/owned /dst/file.txt')).toBe('1234:55 600\n0:0 644\n');
    // The directories COPY --chown makes for its destination are the owner's too (BuildKit, Buildah); one that was there keeps its own.
    expect(await sh('stat -c "%u:%g %a" /dst/chowned /dst/chowned/deep /dst/chowned/deep/sub/b.txt /dst')).toBe('1234:55 755\n1234:55 755\n1234:55 644\n0:0 755\n');
    expect(await sh('cat /dst/unpacked/inside.txt')).toBe('from the tar\n');
    expect(await sh('stat -c %s /dst/fetched.gz')).toBe(`${blob.blob.length}\n`);
    expect(await sh('readlink /dst/link')).toBe('/etc/passwd\n');
    expect(await sh('cat /dst/heredoc /dst/ran /dst/script; ls -a / | grep -c skiff-heredoc')).toBe('hello world\nfrom-heredoc\nscript as /.skiff-heredoc/script\n0\n');
  });

  test('the cache: hits, and misses when a copied file, a build arg or an instruction changes', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base}\nARG V=1\nCOPY f /f\nRUN echo $V > /v\n`, f: 'one' });
    const first = await store.skiff(['build', '-q', dir]);
    expect(first.code, first.stderr).toBe(0);
    const again = await store.skiff(['build', dir]);
    expect(again.stderr.match(/Using cache/g)).toHaveLength(2);
    expect(again.stdout.trim()).toBe(first.stdout.trim());
    const arg = await store.skiff(['build', '--build-arg', 'V=2', dir]);
    expect(arg.stderr.match(/Using cache/g)).toHaveLength(1);
    writeFileSync(path.join(dir, 'f'), 'two');
    const file = await store.skiff(['build', dir]);
    expect(file.stderr).not.toContain('Using cache');
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${base}\nARG V=1\nCOPY f /f\nRUN echo $V >  /v\n`);
    const ins = await store.skiff(['build', dir]);
    expect(ins.stderr.match(/Using cache/g)).toHaveLength(1);
    const none = await store.skiff(['build', '--no-cache', dir]);
    expect(none.stderr).not.toContain('Using cache');
    // The parsed Dockerfile kept for the cached builds is never used for other text.
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${base}\nARG V=1\nCOPY f /f\nRUN echo $V >  /v\nBOGUS\n`);
    const broken = await store.skiff(['build', dir]);
    expect(broken.code).toBe(125);
    expect(broken.stderr).toMatch(/Dockerfile:5:1: unknown instruction "BOGUS"/);
  });

  test('.dockerignore and Dockerfile.dockerignore', async () => {
    const store = newStore(mode);
    const dir = context(mode, {
      Dockerfile: `FROM ${base}\nCOPY . /ctx/\nRUN ls -A /ctx | tr "\\n" " " > /list\nCMD ["cat", "/list"]\n`,
      '.dockerignore': '*.log\nsecret/\n!secret/ok\n',
      'app.log': 'x',
      'keep.txt': 'k',
      'secret/key': 'k',
      'secret/ok': 'ok',
    });
    const r = await store.skiff(['build', '-t', 'ign', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((await store.skiff(['run', '--rm', 'ign'])).stdout).toBe('.dockerignore Dockerfile keep.txt secret ');
    expect((await store.skiff(['run', '--rm', 'ign', 'ls', '/ctx/secret'])).stdout).toBe('ok\n');
  });

  test('whiteouts: a file deleted in a later step is gone in the image and in its containers', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base}\nRUN mkdir /d && echo x > /d/gone && echo y > /d/stays\nRUN rm /d/gone && rm -r /home\n` });
    const r = await store.skiff(['build', '-t', 'wh', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((await store.skiff(['run', '--rm', 'wh', 'sh', '-c', 'ls -A /d; ls /home 2>&1 || true'])).stdout).toMatch(/^stays\n.*No such file/s);
    const img = await inspect(store, 'wh');
    const layers = (img['RootFS'] as { Layers: string[] }).Layers;
    const tar = layerTar(store, layers[layers.length - 1]!);
    expect(tar).toContain('d/.wh.gone');
    expect(tar).toContain('.wh.home');
  });

  test('--secret is in the RUN, never in a layer or the history; a step that changed nothing writes no layer', async () => {
    const store = newStore(mode);
    const secretFile = path.join(mkdtempSync(path.join(integrationEnv().workDir, 'sec-')), 'token');
    writeFileSync(secretFile, 'TOPSECRET-4711');
    if (mode.user) {
      chownSync(path.dirname(secretFile), mode.user.uid, mode.user.gid);
      chownSync(secretFile, mode.user.uid, mode.user.gid);
    }
    const dir = context(mode, { Dockerfile: `FROM ${base}\nRUN --mount=type=secret,id=tok cat /run/secrets/tok | wc -c > /len\nRUN --mount=type=secret,id=tok true\n` });
    const r = await store.skiff(['build', '-t', 'sec', '--secret', `id=tok,src=${secretFile}`, dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((await store.skiff(['run', '--rm', 'sec', 'sh', '-c', 'cat /len; ls /run/secrets 2>&1'])).stdout).toMatch(/14\n.*No such file/s);
    const img = await inspect(store, 'sec');
    // Every layer the build wrote (the base's came from the registry).
    for (const l of (img['RootFS'] as { Layers: string[] }).Layers.slice(1)) expect(layerTar(store, l)).not.toContain('TOPSECRET');
    const h = await store.skiff(['history', '--no-trunc', 'sec']);
    expect(h.stdout).not.toContain('TOPSECRET');
    // The second RUN changed nothing: no layer (base + the first RUN's), empty_layer in the history.
    expect((img['RootFS'] as { Layers: string[] }).Layers).toHaveLength(2);
    const config = JSON.parse(readFileSync(path.join(store.root, 'blobs/sha256', String(img['Id']).replace('sha256:', '')), 'utf8')) as { history: { empty_layer?: boolean }[] };
    expect(config.history[config.history.length - 1]!.empty_layer).toBe(true);
    // What skiff does not do yet is refused, never ignored.
    const moded = context(mode, { Dockerfile: `FROM ${base}\nRUN --mount=type=secret,id=tok,mode=0444 true\n` });
    const refused = await store.skiff(['build', '--secret', `id=tok,src=${secretFile}`, moded]);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toContain('--mount type=secret: mode is not supported yet');
  });

  test('RUN --mount=type=cache persists between builds; tmpfs is a tmpfs; tmpfs and bind leave nothing in the layer', async () => {
    const store = newStore(mode);
    const dir = context(mode, {
      Dockerfile: `FROM ${base}\nARG N\nRUN --mount=type=cache,target=/cache --mount=type=tmpfs,target=/scratch,size=1m --mount=type=bind,source=data,target=/data echo $N >> /cache/log && cat /cache/log > /seen && echo t > /scratch/t && cat /data/d >> /seen && stat -f -c %T /scratch >> /seen && df -k /scratch | awk 'NR==2{print $2}' >> /seen\n`,
      'data/d': 'D\n',
    });
    expect((await store.skiff(['build', '--build-arg', 'N=1', dir])).code).toBe(0);
    const r = await store.skiff(['build', '-t', 'cm', '--build-arg', 'N=2', dir]);
    expect(r.code, r.stderr).toBe(0);
    // The tmpfs is one (of the size asked), not a directory of the host's.
    expect((await store.skiff(['run', '--rm', 'cm', 'sh', '-c', 'cat /seen; ls /cache /scratch /data 2>&1 | grep -c "No such"'])).stdout).toBe('1\n2\nD\ntmpfs\n1024\n3\n');
  });

  test('two builds of one Dockerfile in parallel leave one image', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base}\nRUN echo $RANDOM$RANDOM > /r\nCMD ["cat", "/r"]\n` });
    const [a, b] = await Promise.all([store.skiff(['build', '-q', '-t', 'par:a', dir]), store.skiff(['build', '-q', '-t', 'par:b', dir])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  test('--squash, --timestamp reproducible, --iidfile, -q, a moved tag leaves <none>', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base}\nRUN echo a > /a\nRUN echo b > /b\n` });
    const sq = await store.skiff(['build', '-q', '--squash', dir]);
    expect(sq.code, sq.stderr).toBe(0);
    expect(((await inspect(store, sq.stdout.trim()))['RootFS'] as { Layers: string[] }).Layers).toHaveLength(2);
    const t1 = await store.skiff(['build', '-q', '--no-cache', '--timestamp', '1700000000', '-t', 'ts', dir]);
    const t2 = await store.skiff(['build', '-q', '--no-cache', '--timestamp', '1700000000', '-t', 'ts', dir]);
    expect(t1.code, t1.stderr).toBe(0);
    expect(t2.stdout).toBe(t1.stdout);
    const iid = path.join(dir, 'iid');
    const q = await store.skiff(['build', '-q', '--iidfile', iid, '-t', 'ts', '--build-arg', 'X=1', dir]);
    expect(q.stderr).toBe('');
    expect(readFileSync(iid, 'utf8')).toBe(`sha256:${q.stdout.trim()}`);
    const lost = path.join(dir, 'missing', 'iid');
    expect(await store.skiff(['build', '-q', '--iidfile', lost, '-t', 'ts', '--build-arg', 'X=1', dir])).toMatchObject({ code: 125, stdout: '', stderr: `Error: cannot write ${lost}: the directory ${path.dirname(lost)} does not exist\n` });
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${base}\nRUN echo c > /c\n`);
    expect((await store.skiff(['build', '-q', '-t', 'ts', dir])).code).toBe(0);
    const images = await store.skiff(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(images.stdout).toContain('<none>:<none>');
  });

  test('WORKDIR makes its directory in the image: 0755, owned by the USER in force, one that exists left as it is', async () => {
    const store = newStore(mode);
    const dir = context(mode, {
      Dockerfile: `FROM ${base}\nRUN echo 'svc:x:1234:4321::/srv/svc:/bin/sh' >> /etc/passwd\nWORKDIR /made/by/root\nUSER svc\nWORKDIR /srv/svc/src\nWORKDIR /tmp\nUSER root\n`,
    });
    const r = await store.skiff(['build', '-t', 'wd', dir]);
    expect(r.code, r.stderr).toBe(0);
    const out = await store.skiff(['run', '--rm', '-w', '/', 'wd', 'stat', '-c', '%n %u:%g %a', '/made', '/made/by/root', '/srv', '/srv/svc/src', '/tmp']);
    expect(out.stdout, out.stderr).toBe('/made 0:0 755\n/made/by/root 0:0 755\n/srv 1234:4321 755\n/srv/svc/src 1234:4321 755\n/tmp 0:0 1777\n');
    const config = (await inspect(store, 'wd'))['Config'] as Record<string, unknown>;
    expect(config['WorkingDir']).toBe('/tmp');
    // Three layers over the base: the RUN and the two directories made; WORKDIR /tmp made none.
    const history = await store.skiff(['history', '--format', '{{.CreatedBy}}', 'wd']);
    expect(history.stdout.split('\n').filter((l) => /WORKDIR/.test(l))).toEqual([
      '/bin/sh -c #(nop) WORKDIR /tmp',
      '/bin/sh -c #(nop) WORKDIR /srv/svc/src',
      '/bin/sh -c #(nop) WORKDIR /made/by/root',
    ]);
    expect(((await inspect(store, 'wd'))['RootFS'] as { Layers: string[] }).Layers).toHaveLength(4);
    const unknown = context(mode, { Dockerfile: `FROM ${base}\nUSER nobody-here\nWORKDIR /x\n` });
    const bad = await store.skiff(['build', unknown]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain('USER nobody-here: no user "nobody-here" in the image\'s /etc/passwd');
  });

  test('a RUN step gets its own /etc/hostname, /etc/hosts and /etc/resolv.conf (the host\'s with --network host), none of them in its layer', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base}\nRUN cat /etc/resolv.conf > /resolv && grep -c localhost /etc/hosts > /hosts && test "$(cat /etc/hostname)" = "$(hostname)" && echo x >> /etc/hosts && echo made > /made\n` });
    const r = await store.skiff(['build', '-t', 'etc', '--network', 'host', dir]);
    expect(r.code, r.stderr).toBe(0);
    const out = await store.skiff(['run', '--rm', 'etc', 'sh', '-c', 'cat /resolv; cat /hosts']);
    expect(out.stdout).toBe(`${readFileSync('/etc/resolv.conf', 'utf8')}2\n`);
    const layers = ((await inspect(store, 'etc'))['RootFS'] as { Layers: string[] }).Layers;
    const tar = layerTar(store, layers[layers.length - 1]!);
    expect(tar).toContain('made');
    for (const f of ['etc/hosts', 'etc/hostname', 'etc/resolv.conf']) expect(tar).not.toContain(f);
    const none = context(mode, { Dockerfile: `FROM ${base}\nRUN cat /etc/resolv.conf > /resolv\n` });
    expect((await store.skiff(['build', '-t', 'etcnone', '--network', 'none', none])).code).toBe(0);
    expect((await store.skiff(['run', '--rm', 'etcnone', 'cat', '/resolv'])).stdout).toBe('# --network none: no DNS\n');
  });

  test('rmi of a built image deletes the images of its steps too; --no-prune keeps them', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base}\nRUN echo a > /a\nENV B=1\nCMD ["true"]\n` });
    expect((await store.skiff(['build', '-q', '-t', 'chain', dir])).code).toBe(0);
    expect(store.ls('images')).toHaveLength(4); // the base and three steps
    const r = await store.skiff(['rmi', 'chain']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /^Deleted: sha256:/.test(l)).length).toBeGreaterThanOrEqual(4); // three images and the RUN's layer
    expect(store.ls('images')).toHaveLength(1);
    expect((await store.skiff(['build', '-q', '-t', 'chain', dir])).code).toBe(0);
    expect((await store.skiff(['rmi', '--no-prune', 'chain'])).code).toBe(0);
    expect(store.ls('images')).toHaveLength(3);
  });

  test('owners through the ID mapping, hard links and times kept in the layer', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base}\nRUN echo x > /a && ln /a /b && chown 1234:4321 /a && touch -d '2001-02-03 04:05:06' /a\n` });
    const r = await store.skiff(['build', '-t', 'own', dir]);
    expect(r.code, r.stderr).toBe(0);
    const out = await store.skiff(['run', '--rm', 'own', 'stat', '-c', '%u:%g %h %Y', '/a', '/b']);
    const t = String(Date.UTC(2001, 1, 3, 4, 5, 6) / 1000);
    expect(out.stdout).toBe(`1234:4321 2 ${t}\n1234:4321 2 ${t}\n`);
  });

  test('the context as a tar on stdin; Dockerfile.dockerignore beside a Dockerfile elsewhere', async () => {
    const store = newStore(mode);
    const dir = context(mode, { Dockerfile: `FROM ${base}\nCOPY . /ctx/\nCMD ["ls", "/ctx"]\n`, 'a.txt': 'a', 'b.txt': 'b' });
    const tar = execFileSync('tar', ['-C', dir, '-c', '.']);
    const viaTar = await store.skiff(['build', '-q', '-t', 'fromtar', '-'], { input: tar });
    expect(viaTar.code, viaTar.stderr).toBe(0);
    expect((await store.skiff(['run', '--rm', 'fromtar'])).stdout).toBe('Dockerfile\na.txt\nb.txt\n');
    // Compressed (gzip or zstd): the same context, the same image.
    const zst = await store.skiff(['build', '-q', '-'], { input: execFileSync('zstd', ['-q', '-c'], { input: tar }) });
    expect(zst.code, zst.stderr).toBe(0);
    expect(zst.stdout).toBe(viaTar.stdout);
    const other = context(mode, { 'build/app.Dockerfile': `FROM ${base}\nCOPY . /ctx/\nCMD ["ls", "/ctx"]\n`, 'build/app.Dockerfile.dockerignore': 'b.txt\nDockerfile\n' });
    const r = await store.skiff(['build', '-q', '-t', 'elsewhere', '-f', path.join(other, 'build/app.Dockerfile'), dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((await store.skiff(['run', '--rm', 'elsewhere'])).stdout).toBe('a.txt\n');
  });

  test('ONBUILD runs when a later build starts FROM the image', async () => {
    const store = newStore(mode);
    const parent = context(mode, { Dockerfile: `FROM ${base}\nONBUILD RUN echo triggered > /onbuild\n` });
    expect((await store.skiff(['build', '-t', 'onb-parent', parent])).code).toBe(0);
    const child = context(mode, { Dockerfile: 'FROM onb-parent\nCMD ["cat", "/onbuild"]\n' });
    const r = await store.skiff(['build', '-t', 'onb-child', child]);
    expect(r.code, r.stderr).toBe(0);
    expect((await store.skiff(['run', '--rm', 'onb-child'])).stdout).toBe('triggered\n');
  });
});

/** A layer's tar as text (names and contents), from its blob in the store. */
function layerTar(store: TestStore, diffID: string): string {
  const meta = JSON.parse(readFileSync(path.join(store.root, 'layers', diffID.replace('sha256:', ''), 'layer.json'), 'utf8')) as { compressed: { digest: string }[] };
  const blob = readFileSync(path.join(store.root, 'blobs/sha256', meta.compressed[0]!.digest.replace('sha256:', '')));
  return gunzipSync(blob).toString('latin1');
}
