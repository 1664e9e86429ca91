// Issue 9's defects found by trying skiff as a user would, each guarded by a
// test named after it: the container's root directory mode, compressed
// archives on `cp -`'s stdin, run against a concurrent rmi, concurrent pulls
// of one image. Real registry, real helper, as root and rootless.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { asModeUser, collect, describeModes, integrationEnv, skiffBin, type Mode, type Result } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;
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
  });
});
