// --userns keep-id and host, and --group-add keep-groups (issue 11): what a
// rootless container writes into the user's directory belongs to the user,
// the image's files keep their owners inside, and what cannot work is one
// line. Real mounts, root and the unprivileged test user.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { collect, integrationEnv, modes, skiffBin, type Mode } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { hostUidFor, newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;
const img = (name: string) => `${reg.host}/${name}`;
const dir = (name: string, extra: object = {}) => ({ name: `${name}/`, type: '5', mode: 0o755, ...extra });
const file = (name: string, data: string, extra: object = {}) => ({ name, data, mode: 0o644, ...extra });

beforeAll(async () => {
  reg = await startRegistry();
  const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
  // Files of root, of the image's user 1000, set-ID bits and an opaque directory's marker over the first layer.
  await pushImage(reg, 'owners', '1', {
    format: 'oci',
    layers: [
      bb,
      {
        compression: 'gzip',
        entries: [
          dir('srv', { uid: 1000, gid: 1000, mode: 0o750 }),
          file('srv/app.conf', 'conf\n', { uid: 1000, gid: 1000 }),
          dir('pub', { uid: 1000, gid: 1000 }),
          dir('secret', { mode: 0o700 }),
          file('secret/key', 'k\n', { mode: 0o600 }),
          file('bin/setuid-tool', '#!/bin/sh\n', { mode: 0o4755 }),
        ],
      },
      { compression: 'gzip', entries: [dir('secret', { mode: 0o700 }), file('secret/.wh..wh..opq', ''), file('secret/new', 'n\n', { mode: 0o600 })] },
    ],
    config: { Cmd: ['sh'] },
  });
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

async function storeWith(mode: Mode, name: string): Promise<TestStore> {
  const store = newStore(mode);
  expect((await store.skiff(['pull', '-q', img(name)])).code).toBe(0);
  return store;
}

async function ok(store: TestStore, args: string[]): Promise<string> {
  const r = await store.skiff(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

function ownedDir(mode: Mode, prefix: string): string {
  const d = mkdtempSync(path.join(integrationEnv().workDir, prefix));
  chmodSync(d, 0o755);
  if (mode.user) chownSync(d, mode.user.uid, mode.user.gid);
  return d;
}

const OWNERS = 'stat -c "%n %u:%g %a" / /etc/passwd /srv /srv/app.conf /secret /bin/setuid-tool; ls /secret';
const IMAGE_OWNERS = '/ 0:0 755\n/etc/passwd 0:0 644\n/srv 1000:1000 750\n/srv/app.conf 1000:1000 644\n/secret 0:0 700\n/bin/setuid-tool 0:0 4755\nnew\n';

describe.each(modes())('--userns ($name)', (mode) => {
  if (mode.user) {
    const user = mode.user;
    test('keep-id: the user inside is you, the image keeps its owners, and what the container writes into your directory is yours', async () => {
      const store = await storeWith(mode, 'owners:1');
      const host = ownedDir(mode, 'keepid-');
      // On the default private network too: its pasta gets the container's namespaces from the container itself.
      const networked = await store.skiff(['run', '--rm', '--userns', 'keep-id', '--network', 'pasta', img('owners:1'), 'sh', '-c', 'id -u; ip -o -4 addr show eth0 | grep -o "inet [0-9./]*"']);
      expect(networked.stderr).toBe('');
      expect(networked.stdout).toBe(`${user.uid}\ninet 10.0.2.100/24\n`);
      const out = await ok(store, ['run', '--rm', '--userns', 'keep-id', '--network', 'none', '-v', `${host}:/src`, img('owners:1'), 'sh', '-c', 'id -u; id -g; whoami; echo $HOME; echo mine > /src/f; mkdir /src/d']);
      // The image has no entry for your ID: one is added (your name, your HOME's path), as Podman does.
      expect(out).toBe(`${user.uid}\n${user.gid}\n${user.name}\n${user.home}\n`);
      // The image's owners, as its root sees them (a sub-ID now, with its powers over the image).
      expect(await ok(store, ['run', '--rm', '--userns', 'keep-id', '--network', 'none', '-u', '0', img('owners:1'), 'sh', '-c', OWNERS])).toBe(IMAGE_OWNERS);
      for (const name of ['f', 'd']) {
        expect(statSync(path.join(host, name)).uid).toBe(user.uid);
        expect(statSync(path.join(host, name)).gid).toBe(user.gid);
      }
      // Without it, the container's root is you and its user 1000 one of your sub-IDs.
      chmodSync(host, 0o777);
      await ok(store, ['run', '--rm', '-u', '1000', '-v', `${host}:/src`, img('owners:1'), 'sh', '-c', 'echo sub > /src/g']);
      expect(statSync(path.join(host, 'g')).uid).toBe(hostUidFor(mode, 1000));
      // Root inside is a sub-ID: your files show as yours (uid), not root's, and root keeps its powers over the image.
      expect(await ok(store, ['run', '--rm', '--userns', 'keep-id', '--network', 'none', '-u', '0', '-v', `${host}:/src`, img('owners:1'), 'sh', '-c', 'stat -c %u /src/f; cat /secret/new']))
        .toBe(`${user.uid}\nn\n`);
    });

    test('keep-id:uid=N,gid=N puts you at that ID; commit keeps the owners the container saw; rmi takes the copies', async () => {
      const store = await storeWith(mode, 'owners:1');
      const host = ownedDir(mode, 'keepid-uid-');
      // The image's own entry for 1000 stays.
      expect(await ok(store, ['run', '--name', 'k', '--userns', 'keep-id:uid=1000,gid=1000', '--network', 'none', '-v', `${host}:/src`, img('owners:1'), 'sh', '-c', 'id -un; stat -c %u:%g /srv; echo app > /src/f; echo c > /tmp/made; mkdir /srv/more']))
        .toBe('app\n1000:1000\n');
      expect(statSync(path.join(host, 'f')).uid).toBe(user.uid);
      expect(await ok(store, ['inspect', '-f', '{{.HostConfig.UsernsMode}}', 'k'])).toBe('keep-id:uid=1000,gid=1000\n');
      expect(await ok(store, ['diff', 'k'])).toContain('A /tmp/made\n');
      expect((await store.skiff(['commit', 'k', 'committed:1'])).code).toBe(0);
      expect(await ok(store, ['run', '--rm', 'committed:1', 'stat', '-c', '%n %u:%g', '/tmp/made', '/srv/more', '/srv'])).toBe('/tmp/made 1000:1000\n/srv/more 1000:1000\n/srv 1000:1000\n');
      await ok(store, ['rm', 'k']);
      expect(store.ls('containers').filter((n) => n !== 'names')).toEqual([]);
      const mapped = () => store.ls('layers').filter((l) => existsSync(path.join(store.root, 'layers', l, 'mapped')));
      expect(mapped().length).toBeGreaterThan(0);
      await ok(store, ['rmi', 'committed:1', img('owners:1')]);
      expect(mapped()).toEqual([]);
    });

    test('keep-id: concurrent first runs make the copy of the layers once', async () => {
      const store = await storeWith(mode, 'owners:1');
      const runs = await Promise.all(Array.from({ length: 4 }, () => store.skiff(['run', '--rm', '--userns', 'keep-id', '--network', 'none', img('owners:1'), 'sh', '-c', 'stat -c %u /srv'])));
      for (const r of runs) expect([r.stderr, r.stdout, r.code]).toEqual(['', '1000\n', 0]);
      for (const layer of store.ls('layers')) {
        const m = path.join(store.root, 'layers', layer, 'mapped');
        if (existsSync(m)) expect(readdirSync(m)).toHaveLength(1);
      }
      expect(store.ls('tmp')).toEqual([]);
    });

    test('host: only your own ID, the sub-IDs unmapped; what root writes is yours', async () => {
      const store = await storeWith(mode, 'owners:1');
      const host = ownedDir(mode, 'host-');
      const r = await store.skiff(['run', '--rm', '--userns', 'host', '-v', `${host}:/src`, img('owners:1'), 'sh', '-c', 'id -u; stat -c %u /pub; cat /proc/self/uid_map; echo r > /src/f']);
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n').slice(0, 2)).toEqual(['0', '65534']);
      expect(r.stdout.split('\n')[2]!.trim().split(/\s+/)).toEqual(['0', String(user.uid), '1']);
      expect(statSync(path.join(host, 'f')).uid).toBe(user.uid);
    });

    test('keep-id without a sub-ID range, and joined namespaces, are refused in one line', async () => {
      const store = await storeWith(mode, 'owners:1');
      const empty = path.join(ownedDir(mode, 'subid-'), 'none');
      writeFileSync(empty, '');
      const r = await store.skiff(['run', '--rm', '--userns', 'keep-id', '--network', 'none', img('owners:1'), 'true'], { env: { SKIFF_SUBUID_FILE: empty, SKIFF_SUBGID_FILE: empty } });
      expect(r.stderr).toBe("Error: --userns keep-id needs a sub-ID range in /etc/subuid and /etc/subgid: the container's root and other users are your sub-IDs (see 'skiff doctor')\n");
      expect(r.code).toBe(125);
      await ok(store, ['run', '-d', '--name', 'other', img('owners:1'), 'sleep', '60']);
      for (const flag of ['--pid', '--ipc']) {
        const j = await store.skiff(['run', '--rm', '--userns', 'keep-id', '--network', 'none', flag, 'container:other', img('owners:1'), 'true']);
        expect(j.stderr).toBe(`Error: conflicting options: --userns keep-id and ${flag} container:other: the container joins the user namespace of other\n`);
        expect(j.code).toBe(125);
      }
      await ok(store, ['rm', '-f', 'other']);
      expect(await ok(store, ['ps', '-aq'])).toBe('');
    });

    // setpriv gives skiff a supplementary group that only the host knows: root can set any.
    test.skipIf(process.getuid?.() !== 0)('--group-add keep-groups: your supplementary groups stay, so a directory of your group opens', async () => {
      const store = await storeWith(mode, 'owners:1');
      const shared = mkdtempSync(path.join(integrationEnv().workDir, 'group-'));
      const group = 4242;
      chownSync(shared, 0, group);
      chmodSync(shared, 0o770);
      writeFileSync(path.join(shared, 'team'), 'team file\n');
      chownSync(path.join(shared, 'team'), 0, group);
      chmodSync(path.join(shared, 'team'), 0o640);
      const run = (flags: string[]) =>
        collect(
          spawn('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, `--groups=${user.gid},${group}`, '--', skiffBin(), 'run', '--rm', ...flags, '-v', `${shared}:/team`, img('owners:1'), 'cat', '/team/team'], {
            env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: user.home, USER: user.name, SKIFF_ROOT: store.root },
            cwd: '/',
          }),
        );
      const kept = await run(['--group-add', 'keep-groups']);
      expect([kept.stderr, kept.stdout, kept.code]).toEqual(['', 'team file\n', 0]);
      const dropped = await run([]);
      expect(dropped.stdout).toBe('');
      expect(dropped.stderr).toContain('Permission denied');
      expect(dropped.code).toBe(1);
      rmSync(shared, { recursive: true, force: true });
    });
  } else {
    test('as root: host is the default (no user namespace); keep-id is refused in one line', async () => {
      const store = await storeWith(mode, 'owners:1');
      expect(await ok(store, ['run', '--rm', '--userns', 'host', img('owners:1'), 'sh', '-c', `id -u; ${OWNERS}`])).toBe(`0\n${IMAGE_OWNERS}`);
      const r = await store.skiff(['run', '--rm', '--userns', 'keep-id', '--network', 'none', img('owners:1'), 'true']);
      expect(r.stderr).toBe("Error: --userns keep-id is for rootless use: as root the container's IDs are the host's already (use -u UID:GID to run as your user)\n");
      expect(r.code).toBe(125);
      expect(await ok(store, ['ps', '-aq'])).toBe('');
    });
  }

  test('an unknown or unsupported mode is one line before anything is pulled', async () => {
    const store = newStore(mode);
    for (const [value, message] of [
      ['auto', '--userns auto is not supported: use host or keep-id[:uid=N,gid=N] (or leave it out)'],
      ['keep-id:uid=x', 'invalid --userns "keep-id:uid=x": keep-id takes uid=N and gid=N, not "uid=x"'],
    ]) {
      const r = await store.skiff(['run', '--rm', '--userns', value!, img('owners:1'), 'true']);
      expect(r.stderr).toBe(`Error: ${message}\n`);
      expect(r.code).toBe(125);
    }
    expect(store.ls('images')).toEqual([]);
  });
});
