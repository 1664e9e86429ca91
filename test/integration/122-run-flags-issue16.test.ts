// Issue 16, the run/create flags Podman scripts pass: the environment
// (--env-host, --http-proxy, --env-merge, --unsetenv, --unsetenv-all), --tz,
// --cgroupns, --personality and --timeout, each checked from inside the
// container, as root and as the unprivileged test user.
import { existsSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeModes, integrationEnv, type Result } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { newStore } from './store-harness.js';
import { skipTitle } from '../skip.js';

let reg: TestRegistry;
let image = '';

beforeAll(async () => {
  reg = await startRegistry();
  await pushImage(reg, 'runflags', '1', {
    format: 'oci',
    layers: [{ entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' }],
    config: { Cmd: ['sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello', 'FOO=from-image'] },
  });
  image = `${reg.host}/runflags:1`;
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

function expectOneLine(r: Result, code: number, pattern: RegExp): void {
  expect(lines(r.stderr), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(code);
}

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

  const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((f) => existsSync(f));
  if (mode.user === null) {
    test.skipIf(!RUNC)(skipTitle('--timeout with --runtime runc is refused: the limit is the helper\'s', RUNC ? undefined : 'runc is not installed: apt-get install runc'), async () => {
      const s = newStore(mode);
      expectOneLine(await s.skiff(['--runtime', 'runc', 'run', '--rm', '--timeout', '1', '--rootfs', mode.rootfs, 'true']), 125, /--timeout with --runtime \S*runc: the time limit is kept by skiff's own helper/);
      expect(s.ls('containers').filter((n) => n !== 'names')).toEqual([]);
    });
  }
});
