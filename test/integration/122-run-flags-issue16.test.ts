// Issue 16, the run/create flags Podman scripts pass: the environment
// (--env-host, --http-proxy, --env-merge, --unsetenv, --unsetenv-all), --tz, --chrootdirs,
// --cgroupns, --personality and --timeout, each checked from inside the
// container, as root and as the unprivileged test user.
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { collect, describeModes, expectOneLine, integrationEnv, lines, until, userDir, type Result } from './harness.js';
import { startBusyboxRegistry, type TestRegistry } from './registry-harness.js';
import { newStore } from './store-harness.js';
import { skipTitle } from '../skip.js';

let reg: TestRegistry;
let image = '';

beforeAll(async () => {
  ({ reg, image } = await startBusyboxRegistry(integrationEnv().imageRootfs, 'runflags', '1', { format: 'oci', config: { Cmd: ['sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello', 'FOO=from-image'] } }));
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

/** The container's environment, as `env` prints it, sorted; HOME (the helper's, from /etc/passwd) left out. */
function envOf(r: Result): string[] {
  expect(r.code, r.stderr).toBe(0);
  return lines(r.stdout)
    .filter((l) => !l.startsWith('HOME='))
    .sort();
}

describeModes('run/create flags of issue 16 ($name)', (mode) => {
  test('--env-host, --http-proxy, --env-merge, --unsetenv, --unsetenv-all: Podman\'s order, -e always wins', async () => {
    const s = newStore(mode);
    await s.skiff(['pull', '-q', image]);
    const host = { FOO: 'from-host', ONLY_HOST: 'yes', http_proxy: 'http://127.0.0.1:9', NO_PROXY: 'localhost' };
    const run = (args: string[]) => s.skiff(['run', '--rm', '--network', 'none', ...args], { env: host });
    const imagePath = 'PATH=/usr/sbin:/usr/bin:/sbin:/bin';

    // Default: the proxy variables come along (--http-proxy is on), nothing else of the caller's.
    const plain = envOf(await run(['--hostname', 'h', image, 'env']));
    expect(plain).toEqual(['FOO=from-image', 'GREETING=hello', 'HOSTNAME=h', 'NO_PROXY=localhost', imagePath, 'http_proxy=http://127.0.0.1:9']);
    expect(envOf(await run(['--hostname', 'h', '--http-proxy=false', image, 'env']))).toEqual(['FOO=from-image', 'GREETING=hello', 'HOSTNAME=h', imagePath]);

    // --env-host: the caller's whole environment, under the image's; -e over both.
    const hosted = envOf(await run(['--hostname', 'h', '--env-host', '-e', 'GREETING=from-e', image, 'env']));
    expect(hosted).toContain('ONLY_HOST=yes');
    expect(hosted).toContain('FOO=from-image');
    expect(hosted).toContain('GREETING=from-e');
    expect(hosted).toContain('LANG=C.UTF-8');
    expect(hosted.filter((l) => l.startsWith('SKIFF_'))).toEqual([]);

    // --env-merge expands from the image's variables (and PATH's default on a --rootfs container).
    const merged = envOf(await run(['--env-merge', 'PATH=${PATH}:/opt/bin', '--env-merge', 'GREETING=$GREETING world', '--env-merge', 'X=${MISSING:-fallback}${GREETING:+!}', image, 'env']));
    expect(merged).toContain('PATH=/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin');
    expect(merged).toContain('GREETING=hello world');
    expect(merged).toContain('X=fallback!');
    const rootfsMerged = envOf(await s.skiff(['run', '--rm', '--network', 'none', '--rootfs', mode.rootfs, '--env-merge', 'PATH=${PATH}:/opt/bin', 'env']));
    expect(rootfsMerged).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin');
    expectOneLine(await run(['--env-merge', 'novalue', image, 'env']), 125, /invalid --env-merge "novalue": use NAME=VALUE/);

    // --unsetenv: the image's and skiff's own defaults go; -e still sets.
    const unset = envOf(await run(['--http-proxy=false', '--unsetenv', 'FOO', '--unsetenv', 'HOSTNAME', '--unsetenv', 'PATH', '-e', 'PATH=/usr/bin', image, 'env']));
    expect(unset).toEqual(['GREETING=hello', 'PATH=/usr/bin']);
    // --unsetenv-all: only what -e and --env-file give.
    expect(envOf(await run(['--unsetenv-all', '-e', 'A=1', image, '/usr/bin/env']))).toEqual(['A=1']);
    // inspect shows what the container got.
    const created = await s.skiff(['create', '--name', 'envc', '--network', 'none', '--unsetenv-all', '-e', 'B=2', image, 'env'], { env: host });
    expect(created.code, created.stderr).toBe(0);
    expect((await s.skiff(['inspect', '--format', '{{json .Config.Env}}', 'envc'])).stdout).toBe('["B=2"]\n');
  }, 120_000);

  test('--tz: a zone from /usr/share/zoneinfo or local, as /etc/localtime; a bad or escaping name is refused', async () => {
    const s = newStore(mode);
    await s.skiff(['pull', '-q', image]);
    const tokyo = await s.skiff(['run', '--rm', '--network', 'none', '--tz', 'Asia/Tokyo', image, 'date', '+%Z %z']);
    expect(tokyo).toMatchObject({ code: 0, stdout: 'JST +0900\n' });
    const rootfs = await s.skiff(['run', '--rm', '--network', 'none', '--rootfs', mode.rootfs, '--tz', 'America/New_York', 'sh', '-c', 'date +%Z; (echo x > /etc/localtime) 2>/dev/null || echo read-only']);
    expect(rootfs.stdout).toMatch(/^E[SD]T\nread-only\n$/);
    // local: the host's own zone.
    const hostZone = readlinkSync('/etc/localtime').replace(/^.*zoneinfo\//, '');
    const local = await s.skiff(['run', '--rm', '--network', 'none', '--tz', 'local', image, 'date', '+%Z']);
    const direct = await s.skiff(['run', '--rm', '--network', 'none', '--tz', hostZone, image, 'date', '+%Z']);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toBe(direct.stdout);
    await s.skiff(['create', '--name', 'tzc', '--network', 'none', '--tz', 'Asia/Tokyo', image, 'true']);
    expect((await s.skiff(['inspect', '--format', '{{.Config.Timezone}}', 'tzc'])).stdout).toBe('Asia/Tokyo\n');
    expectOneLine(await s.skiff(['run', '--rm', '--tz', 'Mars/Olympus', image, 'true']), 125, /--tz Mars\/Olympus: no such time zone in \/usr\/share\/zoneinfo/);
    expectOneLine(await s.skiff(['run', '--rm', '--tz', '../../etc/shadow', image, 'true']), 125, /invalid --tz "\.\.\/\.\.\/etc\/shadow"/);
    expectOneLine(await s.skiff(['run', '--rm', '--tz', 'Europe', image, 'true']), 125, /--tz Europe: not a time zone/);
    expect(s.ls('containers').filter((n) => n !== 'names')).toHaveLength(1);
  }, 120_000);

  test('--chrootdirs: the files skiff binds into / are bound below each chroot directory too; a relative one is refused', async () => {
    const s = newStore(mode);
    await s.skiff(['pull', '-q', image]);
    const r = await s.skiff([
      'run', '--rm', '--network', 'none', '--hostname', 'jailed', '--tz', 'Asia/Tokyo', '--chrootdirs', '/jail,/srv/ch/', '--chrootdirs', '/jail', image,
      'sh', '-c', `for d in /jail /srv/ch; do cd $d && cat etc/hostname && cmp etc/hosts /etc/hosts && cmp etc/resolv.conf /etc/resolv.conf && cmp etc/localtime /etc/localtime && echo same; done; grep -c ' /jail/' /proc/self/mountinfo`,
    ]);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'jailed\nsame\njailed\nsame\n4\n' });
    // Without the flag nothing is bound there.
    expect((await s.skiff(['run', '--rm', '--network', 'none', image, 'sh', '-c', `ls /jail 2>&1 | grep -c 'No such'`])).stdout).toBe('1\n');
    expectOneLine(await s.skiff(['run', '--rm', '--chrootdirs', 'jail', image, 'true']), 125, /^Error: invalid --chrootdirs "jail": a chroot directory is an absolute path in the container$/m);
    expect(s.ls('containers').filter((n) => n !== 'names')).toEqual([]);
  }, 120_000);

  test('--cgroupns host shares the caller\'s cgroup namespace, for exec too; private (the default) is the container\'s own', async () => {
    const s = newStore(mode);
    const own = readlinkSync('/proc/self/ns/cgroup');
    const ns = (args: string[]) => s.skiff(['run', '--rm', '--network', 'none', ...args, '--rootfs', mode.rootfs, 'readlink', '/proc/self/ns/cgroup']);
    expect((await ns(['--cgroupns', 'host'])).stdout).toBe(`${own}\n`);
    const priv = await ns([]);
    expect(priv.code, priv.stderr).toBe(0);
    expect(priv.stdout).not.toBe(`${own}\n`);
    expect((await ns(['--cgroupns', 'private'])).stdout).not.toBe(`${own}\n`);
    const id = (await s.skiff(['run', '-d', '--network', 'none', '--cgroupns', 'host', '--rootfs', mode.rootfs, 'sleep', '30'])).stdout.trim();
    expect((await s.skiff(['exec', id, 'readlink', '/proc/self/ns/cgroup'])).stdout).toBe(`${own}\n`);
    expect((await s.skiff(['inspect', '--format', '{{.HostConfig.CgroupnsMode}}', id])).stdout).toBe('host\n');
    await s.skiff(['rm', '-f', id]);
    expectOneLine(await ns(['--cgroupns', 'container:other']), 125, /--cgroupns container:other: joining another cgroup namespace is not supported; use private or host/);
    expectOneLine(await ns(['--cgroupns', 'shared']), 125, /invalid --cgroupns "shared": use private or host/);
  }, 60_000);

  test('--label-file (Docker\'s and Podman\'s): KEY=VALUE lines, comments and blanks skipped, --label wins; a missing file is one line', async () => {
    const s = newStore(mode);
    const file = path.join(userDir(mode, 'labels'), 'labels');
    writeFileSync(file, 'a=1\n# a comment\n\nb=two words\nc=from-file\n', { mode: 0o644 });
    expect((await s.skiff(['create', '--name', 'lab', '--label-file', file, '--label', 'c=from-flag', '--rootfs', mode.rootfs, 'true'])).code).toBe(0);
    expect(await s.skiff(['inspect', '--format', '{{json .Config.Labels}}', 'lab'])).toMatchObject({ code: 0, stdout: '{"a":"1","b":"two words","c":"from-flag"}\n' });
    expect((await s.skiff(['ps', '-a', '-q', '--filter', 'label=b=two words'])).stdout.trim()).not.toBe('');
    expectOneLine(await s.skiff(['run', '--rm', '--label-file', `${file}-missing`, '--rootfs', mode.rootfs, 'true']), 125, /^Error: cannot read label file .*-missing: no such file$/m);
  });

  test('--personality LINUX32 makes uname -m say i686; an unknown domain is refused', async () => {
    const s = newStore(mode);
    const uname = (args: string[]) => s.skiff(['run', '--rm', '--network', 'none', ...args, '--rootfs', mode.rootfs, 'uname', '-m']);
    expect(await uname(['--personality', 'LINUX32'])).toMatchObject({ code: 0, stdout: 'i686\n' });
    expect(await uname(['--personality', 'linux'])).toMatchObject({ code: 0, stdout: 'x86_64\n' });
    expectOneLine(await uname(['--personality', 'BSD']), 125, /invalid --personality "BSD": use LINUX or LINUX32/);
  }, 60_000);

  test('--timeout kills a start that runs too long (SIGKILL: 137), foreground and detached; 0 is no limit', async () => {
    const s = newStore(mode);
    const t0 = Date.now();
    const fg = await s.skiff(['run', '--rm', '--network', 'none', '--timeout', '1', '--rootfs', mode.rootfs, 'sh', '-c', 'echo started; sleep 20; echo late']);
    expect(fg).toMatchObject({ code: 137, stdout: 'started\n' });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await s.skiff(['run', '--rm', '--network', 'none', '--timeout', '0', '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 1; echo done'])).toMatchObject({ code: 0, stdout: 'done\n' });
    // Under time: the container's own status.
    expect(await s.skiff(['run', '--rm', '--network', 'none', '--timeout', '20', '--rootfs', mode.rootfs, 'sh', '-c', 'exit 3'])).toMatchObject({ code: 3 });
    const id = (await s.skiff(['run', '-d', '--network', 'none', '--timeout', '1', '--rootfs', mode.rootfs, 'sleep', '20'])).stdout.trim();
    expect((await s.skiff(['wait', id])).stdout).toBe('137\n');
    expect(Date.now() - t0).toBeLessThan(40_000);
    expect((await s.skiff(['inspect', '--format', '{{.Config.Timeout}}', id])).stdout).toBe('1\n');
    await s.skiff(['rm', id]);
    expectOneLine(await s.skiff(['run', '--rm', '--timeout', '1.5', '--rootfs', mode.rootfs, 'true']), 125, /invalid --timeout "1\.5": give whole seconds/);
  }, 90_000);

  test('--log-driver k8s-file (json-file) with --log-opt path= and max-size=, none, passthrough; journald, tag, max-file refused', async () => {
    const s = newStore(mode);
    const r = mode.rootfs;
    const run = (args: string[]) => s.skiff(['run', '--network', 'none', ...args]);
    // none: the output still reaches the caller; nothing is kept, and logs says so.
    expect(await run(['--name', 'quiet', '--log-driver', 'none', '--rootfs', r, 'sh', '-c', 'echo out; echo err >&2'])).toMatchObject({ code: 0, stdout: 'out\n', stderr: 'err\n' });
    expectOneLine(await s.skiff(['logs', 'quiet']), 125, /quiet uses the none log driver: nothing was kept/);
    expect(existsSync(`${s.root}/containers/${(await s.skiff(['inspect', '-f', '{{.Id}}', 'quiet'])).stdout.trim()}/ctr.log`)).toBe(false);
    const quietD = (await run(['-d', '--log-driver', 'none', '--rootfs', r, 'sh', '-c', 'echo out'])).stdout.trim();
    expect((await s.skiff(['wait', quietD])).stdout).toBe('0\n');
    expect((await s.skiff(['inspect', '-f', '{{json .HostConfig.LogConfig}}', quietD])).stdout).toBe('{"Type":"none","Config":{}}\n');
    expect((await s.skiff(['logs', quietD])).code).toBe(125);

    // path= and max-size=: the log is where it says, rotated once past the size; logs reads both files.
    const dir = userDir(mode, 'logs');
    const id = (await run(['-d', '--log-driver', 'json-file', '--log-opt', `path=${dir}/c.log`, '--log-opt', 'max-size=4k', '--rootfs', r, 'sh', '-c', 'i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done'])).stdout.trim();
    expect((await s.skiff(['wait', id])).stdout).toBe('0\n');
    expect(existsSync(`${dir}/c.log`)).toBe(true);
    expect(existsSync(`${dir}/c.log.1`)).toBe(true);
    // Past 4k the log became c.log.1 (an older one dropped): logs shows an unbroken tail of the output.
    expect(statSync(`${dir}/c.log.1`).size).toBeGreaterThan(4096);
    // Bounded: once in a loaded full run the last chunk was not yet in the log when logs read it (not reproduced alone).
    const logs = await until('the last line in the log', async () => {
      const l = lines((await s.skiff(['logs', id])).stdout);
      return l[l.length - 1] === 'line299' ? l : undefined;
    }, 5_000);
    const first = Number(logs[0]!.slice('line'.length));
    expect(logs).toEqual(Array.from({ length: 300 - first }, (_, i) => `line${first + i}`));
    expect(logs.length).toBeGreaterThan(50);
    expect((await s.skiff(['inspect', '-f', '{{json .HostConfig.LogConfig}}', id])).stdout).toBe(`{"Type":"k8s-file","Config":{"path":"${dir}/c.log","max-size":"4096"}}\n`);
    // A foreground run logs to path= as well.
    await run(['--name', 'fgpath', '--log-opt', `path=${dir}/fg.log`, '--rootfs', r, 'echo', 'foreground']);
    expect((await s.skiff(['logs', 'fgpath'])).stdout).toBe('foreground\n');
    expect(readFileSync(`${dir}/fg.log`, 'utf8')).toMatch(/ stdout F foreground\n$/);

    // passthrough: a foreground run on skiff's own stdio, no log.
    expect(await run(['--rm', '--log-driver', 'passthrough', '--rootfs', r, 'sh', '-c', 'echo through; echo e >&2'])).toMatchObject({ code: 0, stdout: 'through\n', stderr: 'e\n' });
    expectOneLine(await run(['-d', '--log-driver', 'passthrough', '--rootfs', r, 'true']), 125, /passthrough gives the container skiff's own stdio: only a foreground run has it/);
    expectOneLine(await s.skiff(['create', '--log-driver', 'passthrough', '--rootfs', r, 'true']), 125, /only a foreground run has it/);
    expectOneLine(await run(['--rm', '-t', '--log-driver', 'passthrough', '--rootfs', r, 'true']), 125, /passthrough cannot be used with -t/);

    expectOneLine(await run(['--rm', '--log-driver', 'journald', '--rootfs', r, 'true']), 125, existsSync('/run/systemd/journal/socket') ? /--log-driver journald is not supported: skiff writes/ : /--log-driver journald is not supported: this host has no systemd journal/);
    expectOneLine(await run(['--rm', '--log-opt', 'tag=web', '--rootfs', r, 'true']), 125, /--log-opt tag is not supported/);
    expectOneLine(await run(['--rm', '--log-opt', 'max-file=3', '--rootfs', r, 'true']), 125, /--log-opt max-file is not supported/);
    expectOneLine(await run(['--rm', '--log-driver', 'none', '--log-opt', 'max-size=1m', '--rootfs', r, 'true']), 125, /the none log driver takes no options/);
    expectOneLine(await run(['--rm', '--log-opt', 'path=/nonexistent/dir/x.log', '--rootfs', r, 'true']), 125, /\/nonexistent\/dir is not a directory/);
    expectOneLine(await run(['--rm', '--log-driver', 'syslog', '--rootfs', r, 'true']), 125, /invalid --log-driver "syslog"/);
  }, 120_000);

  test('run -a/--attach connects only the streams named; the log keeps the rest; -a with -d is refused', async () => {
    const s = newStore(mode);
    const r = mode.rootfs;
    const both = ['sh', '-c', 'echo out; echo err >&2; exit 4'];
    expect(await s.skiff(['run', '--name', 'ao', '--network', 'none', '-a', 'stdout', '--rootfs', r, ...both])).toMatchObject({ code: 4, stdout: 'out\n', stderr: '' });
    expect(await s.skiff(['logs', 'ao'])).toMatchObject({ stdout: 'out\n', stderr: 'err\n' });
    expect(await s.skiff(['run', '--rm', '--network', 'none', '-a', 'STDERR', '--rootfs', r, ...both])).toMatchObject({ code: 4, stdout: '', stderr: 'err\n' });
    // stdin only when named (with -i): without it the container reads nothing.
    expect(await s.skiff(['run', '--rm', '--network', 'none', '-i', '-a', 'stdin', '-a', 'stdout', '--rootfs', r, 'cat'], { input: 'piped\n' })).toMatchObject({ code: 0, stdout: 'piped\n' });
    expect(await s.skiff(['run', '--rm', '--network', 'none', '-i', '-a', 'stdout', '--rootfs', r, 'sh', '-c', 'cat; echo after'], { input: 'piped\n' })).toMatchObject({ code: 0, stdout: 'after\n' });
    expectOneLine(await s.skiff(['run', '-d', '-a', 'stdout', '--rootfs', r, 'true']), 125, /conflicting options: -a\/--attach and -d\/--detach/);
    expectOneLine(await s.skiff(['run', '--rm', '-a', 'stdio', '--rootfs', r, 'true']), 125, /invalid --attach "stdio": use stdin, stdout or stderr/);
  }, 60_000);

  test('rm --depend removes the containers that joined its namespaces first, recursively', async () => {
    const s = newStore(mode);
    const r = mode.rootfs;
    const base = (await s.skiff(['run', '-d', '--name', 'base', '--network', 'none', '--rootfs', r, 'sleep', '60'])).stdout.trim();
    const ipc = (await s.skiff(['run', '-d', '--name', 'ipcjoin', '--network', 'none', '--ipc', 'container:base', '--rootfs', r, 'sleep', '60'])).stdout.trim();
    const other = (await s.skiff(['create', '--name', 'other', '--network', 'none', '--rootfs', r, 'true'])).stdout.trim();
    expect([base, ipc, other].every((id) => /^[0-9a-f]{64}$/.test(id))).toBe(true);
    const removed = await s.skiff(['rm', '-f', '--depend', 'base']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(`${ipc}\nbase\n`);
    expect((await s.skiff(['ps', '-a', '--format', '{{.Names}}'])).stdout).toBe('other\n');
  }, 60_000);

  test("--hostuser: the host's entry of each user the image lacks goes into the container's /etc/passwd; an unknown one, or with --rootfs, is refused", async () => {
    const s = newStore(mode);
    await s.skiff(['pull', '-q', image]);
    const hostLine = (name: string) => readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`))!;
    // skifftest is not in the image: its host line is added; daemon (by name) and 0 (root, by UID) are: the image's stay.
    const r = await s.skiff(['run', '--rm', '--network', 'none', '--hostuser', 'skifftest,daemon', '--hostuser', '0', image, 'cat', '/etc/passwd']);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines.filter((l) => l.startsWith('skifftest:'))).toEqual([hostLine('skifftest')]);
    expect(lines.filter((l) => l.startsWith('daemon:'))).toEqual(['daemon:x:1:1:daemon:/usr/sbin:/bin/false']);
    expect(lines.filter((l) => l.startsWith('root:'))).toEqual(['root:x:0:0:root:/root:/bin/sh']);
    // The name works in the container: whoami as that UID.
    const uid = hostLine('skifftest').split(':')[2]!;
    expect((await s.skiff(['run', '--rm', '--network', 'none', '--hostuser', 'skifftest', '-u', uid, image, 'whoami'])).stdout).toBe('skifftest\n');
    expectOneLine(await s.skiff(['run', '--rm', '--hostuser', 'no-such-user-here', image, 'true']), 125, /^Error: --hostuser no-such-user-here: no such user in this host's \/etc\/passwd$/m);
    expectOneLine(await s.skiff(['run', '--rm', '--hostuser', 'root', '--rootfs', mode.rootfs, 'true']), 125, /^Error: --hostuser and --rootfs cannot be combined/m);
    expect(s.ls('containers').filter((n) => n !== 'names')).toEqual([]);
  }, 120_000);

  test('--init-path is refused in one line saying why', async () => {
    const s = newStore(mode);
    const r = mode.rootfs;
    for (const [flag, value, why] of [
      ['--init-path', '/usr/bin/tini', /--init-path is not supported: skiff's --init is part of its own helper/],
    ] as const) {
      expectOneLine(await s.skiff(['run', '--rm', flag, value, '--rootfs', r, 'true']), 125, why);
      expectOneLine(await s.skiff(['create', flag, value, '--rootfs', r, 'true']), 125, why);
    }
    expect(s.ls('containers').filter((n) => n !== 'names')).toEqual([]);
  }, 60_000);

  test('--preserve-fds N: the caller\'s fds 3 and 4 reach run, run -d and exec as 3 and 4; without it none does', async () => {
    const s = newStore(mode);
    const r = mode.rootfs;
    const dir = userDir(mode, 'fds');
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    writeFileSync(a, 'from-fd3\n');
    writeFileSync(b, 'from-fd4\n');
    // Fresh fds for each command: a read moves the offset they share with skiff's.
    const withFds = async (args: string[]) => {
      const fds = [openSync(a, 'r'), openSync(b, 'r')] as const;
      try {
        return await collect(s.spawn(args, { stdio: ['pipe', 'pipe', 'pipe', fds[0], fds[1]] }));
      } finally {
        fds.forEach((fd) => closeSync(fd));
      }
    };
    {
      const show = 'cat <&3; cat <&4; ls /proc/self/fd';
      const on = await withFds(['run', '--rm', '--preserve-fds', '2', '--rootfs', r, 'sh', '-c', show]);
      expect(on.code, on.stderr).toBe(0);
      expect(lines(on.stdout).slice(0, 2)).toEqual(['from-fd3', 'from-fd4']);
      // 0-2, the two, and ls's own directory fd: nothing of the helper's.
      expect(lines(on.stdout).slice(2).map(Number).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5]);
      // Without the flag the same fds are open in skiff and none reaches the container.
      const off = await withFds(['run', '--rm', '--rootfs', r, 'sh', '-c', 'ls /proc/self/fd']);
      expect(off.code, off.stderr).toBe(0);
      expect(lines(off.stdout).map(Number).sort((x, y) => x - y)).toEqual([0, 1, 2, 3]);
      // One only: fd 4 stays out.
      const one = await withFds(['run', '--rm', '--preserve-fds', '1', '--rootfs', r, 'sh', '-c', 'cat <&3; cat <&4 2>/dev/null || echo no-fd4']);
      expect(lines(one.stdout), one.stderr).toEqual(['from-fd3', 'no-fd4']);

      // Detached: the monitor keeps them for the container; exec gets its own.
      const name = `fds-${mode.name}`;
      const d = await withFds(['run', '-d', '--name', name, '--preserve-fds', '2', '--rootfs', r, 'sh', '-c', 'cat <&4 > /tmp/got; sleep 60']);
      expect(d.code, d.stderr).toBe(0);
      const got = await until('the detached container read fd 4', async () => {
        const x = await s.skiff(['exec', name, 'cat', '/tmp/got']);
        return x.stdout.includes('from-fd4') ? x.stdout : undefined;
      });
      expect(got.trim()).toBe('from-fd4');
      const ex = await withFds(['exec', '--preserve-fds', '1', name, 'sh', '-c', 'cat <&3']);
      expect(ex.code, ex.stderr).toBe(0);
      expect(ex.stdout.trim()).toBe('from-fd3');
      await s.skiff(['rm', '-f', name]);
    }
  }, 120_000);

  test('--passwd (default), --passwd-entry, --passwd=false: an /etc/passwd entry for a -u UID the image lacks, as Podman writes it', async () => {
    const s = newStore(mode);
    await s.skiff(['pull', '-q', image]);
    const run = (args: string[], cmd: string) => s.skiff(['run', '--rm', '--network', 'none', ...args, image, 'sh', '-c', cmd]);
    // Podman's entry: the UID as the name, "container user", the working directory as HOME.
    const plain = await run(['-u', '1234'], 'id -un; whoami; grep 1234 /etc/passwd; echo $HOME');
    expect(plain.code, plain.stderr).toBe(0);
    expect(lines(plain.stdout)).toEqual(['1234', '1234', '1234:*:1234:0:container user:/:/bin/sh', '/']);
    const inWorkdir = await run(['-u', '1234', '-w', '/tmp'], 'grep 1234 /etc/passwd');
    expect(lines(inWorkdir.stdout), inWorkdir.stderr).toEqual(['1234:*:1234:0:container user:/tmp:/bin/sh']);

    // --passwd-entry: the variables replaced; a numeric group the image lacks gets a line too.
    const shaped = await run(['-u', '1234:4321', '--passwd-entry', '$USERNAME:x:$UID:$GID::/home/x:/bin/sh'], 'grep 1234 /etc/passwd; grep 4321 /etc/group; id -un; echo $HOME');
    expect(shaped.code, shaped.stderr).toBe(0);
    expect(lines(shaped.stdout)).toEqual(['1234:x:1234:4321::/home/x:/bin/sh', '4321:x:4321:1234', '1234', '/home/x']);
    const named = await run(['-u', '1234', '--passwd-entry', 'builder:x:$UID:$GID:$NAME:$HOME:/bin/sh'], 'grep 1234 /etc/passwd; whoami');
    expect(lines(named.stdout), named.stderr).toEqual(['builder:x:1234:0:container user:/:/bin/sh', 'builder']);

    // --passwd=false: nothing added, so the UID has no name.
    const none = await run(['-u', '1234', '--passwd=false'], 'grep -c 1234 /etc/passwd; whoami 2>/dev/null || echo no-name');
    expect(lines(none.stdout), none.stderr).toEqual(['0', 'no-name']);
    // A user the image has: its /etc/passwd as it is.
    const known = await run(['-u', '0'], 'grep -c "container user" /etc/passwd; id -un');
    expect(lines(known.stdout), known.stderr).toEqual(['0', 'root']);

    // create keeps it for start.
    const c = await s.skiff(['create', '--name', `pw-${mode.name}`, '-u', '1234', '--passwd-entry', '$USERNAME:x:$UID:$GID::/home/c:/bin/sh', image, 'sh', '-c', 'grep 1234 /etc/passwd']);
    expect(c.code, c.stderr).toBe(0);
    const started = await s.skiff(['start', '-a', `pw-${mode.name}`]);
    expect(lines(started.stdout), started.stderr).toEqual(['1234:x:1234:0::/home/c:/bin/sh']);
    await s.skiff(['rm', '-f', `pw-${mode.name}`]);

    // Refused in one line: with --rootfs (skiff does not rewrite its /etc/passwd), and with --passwd=false.
    expectOneLine(await s.skiff(['run', '--rm', '-u', '1234', '--passwd-entry', '$UID', '--rootfs', mode.rootfs, 'true']), 125, /--passwd-entry and --rootfs cannot be combined/);
    expectOneLine(await s.skiff(['run', '--rm', '-u', '1234', '--passwd=false', '--passwd-entry', '$UID', image, 'true']), 125, /conflicting options: --passwd-entry and --passwd=false/);
  }, 120_000);

  test('--preserve-fds beyond the fds passed is refused as Podman does, before anything is made', async () => {
    const s = newStore(mode);
    // No fd 3 given: skiff's own (Node's) fds are not the caller's.
    expectOneLine(await s.skiff(['run', '--rm', '--preserve-fds', '1', '--rootfs', mode.rootfs, 'true']), 125, /^Error: file descriptor 3 is not available - the preserve-fds option requires that file descriptors must be passed/);
    expectOneLine(await s.skiff(['run', '--rm', '--preserve-fds', 'x', '--rootfs', mode.rootfs, 'true']), 125, /invalid --preserve-fds "x"/);
    expect(s.ls('containers').filter((n) => n !== 'names')).toEqual([]);
  }, 60_000);

  const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((f) => existsSync(f));
  if (mode.user === null) {
    test.skipIf(!RUNC)(skipTitle('--timeout and --preserve-fds with --runtime runc are refused: both are the helper\'s', RUNC ? undefined : 'runc is not installed: apt-get install runc'), async () => {
      const s = newStore(mode);
      expectOneLine(await s.skiff(['--runtime', 'runc', 'run', '--rm', '--timeout', '1', '--rootfs', mode.rootfs, 'true']), 125, /--timeout with --runtime \S*runc: the time limit is kept by skiff's own helper/);
      const fd = openSync('/dev/null', 'r');
      try {
        const r = await collect(s.spawn(['--runtime', 'runc', 'run', '--rm', '--preserve-fds', '1', '--rootfs', mode.rootfs, 'true'], { stdio: ['pipe', 'pipe', 'pipe', fd] }));
        expectOneLine(r, 125, /--preserve-fds with --runtime \S*runc: the descriptors are handed on by skiff's own helper/);
      } finally {
        closeSync(fd);
      }
      expect(s.ls('containers').filter((n) => n !== 'names')).toEqual([]);
    });
  }
});
