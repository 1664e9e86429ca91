// Issue 16's cp and --entrypoint flags, through the real CLI, as root and
// rootless: cp from one container to another (Podman's), by Docker's path
// rules, running and stopped; cp --pause (Podman's) freezes a running
// container for the copy, or says in one line why it cannot; --entrypoint as
// a JSON array (Podman's), anything else as one program name.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cgroupOutcome, describeModes, integrationEnv } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;
let image = '';

beforeAll(async () => {
  reg = await startRegistry();
  const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
  const data = {
    compression: 'gzip' as const,
    entries: [
      { name: 'data/', type: '5', mode: 0o755 },
      { name: 'data/a', data: 'file a\n', mode: 0o640, uid: 1000, gid: 1000 },
      { name: 'data/sub/', type: '5', mode: 0o750 },
      { name: 'data/sub/b', data: 'file b\n', mode: 0o644 },
    ],
  };
  await pushImage(reg, 'cpimg', '1', { format: 'oci', layers: [bb, data], config: { Cmd: ['sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] } });
  image = `${reg.host}/cpimg:1`;
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

async function ok(s: TestStore, args: string[]): Promise<string> {
  const r = await s.skiff(args);
  expect(r, `${args.join(' ')}: ${r.stderr}`).toMatchObject({ code: 0 });
  return r.stdout;
}

describeModes('cp between containers, cp --pause, --entrypoint JSON ($name)', (mode) => {
  test('cp CTR:SRC CTR:DEST follows the rules of a host path, from a running container into a stopped one and back', async () => {
    const s = newStore(mode);
    await ok(s, ['pull', '-q', image]);
    await ok(s, ['run', '-d', '--name', 'src', image, 'sleep', '60']);
    await ok(s, ['create', '--name', 'dst', image, 'true']);
    // A file to a new name, a directory into an existing one, a directory's contents.
    await ok(s, ['cp', 'src:/data/a', 'dst:/copied-a']);
    await ok(s, ['cp', 'src:/data', 'dst:/tmp']);
    await ok(s, ['exec', 'src', 'mkdir', '/into']);
    await ok(s, ['cp', 'src:data/sub/.', 'dst:/etc']);
    await ok(s, ['cp', 'dst:/copied-a', 'src:/into/']);
    expect(await ok(s, ['exec', 'src', 'sh', '-c', 'cat /into/copied-a; stat -c "%a %u" /into/copied-a'])).toBe('file a\n640 0\n');
    // -a as root keeps the owner the source container gave it (the extractor sets it).
    await ok(s, ['cp', '-a', 'src:/data/a', 'src:/into/a-kept']);
    expect(await ok(s, ['exec', 'src', 'stat', '-c', '%u:%g', '/into/a-kept'])).toBe(mode.user ? '0:0\n' : '1000:1000\n');
    await ok(s, ['commit', '-q', 'dst', 'dst-files:1']);
    expect(await ok(s, ['run', '--rm', 'dst-files:1', 'sh', '-c', 'cat /copied-a /tmp/data/sub/b /etc/b; stat -c %a /tmp/data/sub'])).toBe('file a\nfile b\nfile b\n750\n');
    // A missing source: one line, nothing made.
    const missing = await s.skiff(['cp', 'src:/no/such', 'dst:/x']);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toBe('Error: could not find the file /no/such in container src\n');
    await ok(s, ['rm', '-f', 'src', 'dst']);
  });

  test('cp --pause: a running container is frozen for the copy and thawed after, or one line says why it cannot be', async () => {
    const s = newStore(mode);
    await ok(s, ['pull', '-q', image]);
    await ok(s, ['run', '-d', '--name', 'live', image, 'sleep', '60']);
    const out = path.join(s.root, 'copied-out');
    const cg = await cgroupOutcome(mode);
    const r = await s.skiff(['cp', '--pause', 'live:/data/a', out]);
    if (cg.cgroup) {
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(readFileSync(out, 'utf8')).toBe('file a\n');
      const events = await ok(s, ['events', '--stream=false', '--filter', 'container=live', '--format', '{{.Status}}']);
      expect(events.trim().split('\n').slice(-2)).toEqual(['pause', 'unpause']);
    } else {
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/^Error: cannot pause live: it has no cgroup of its own, because .*\n$/);
      expect(existsSync(out)).toBe(false);
    }
    expect(await ok(s, ['inspect', '--format', '{{.State.Status}}', 'live'])).toBe('running\n');
    // A stopped container has nothing to freeze; --pause=false is the default.
    await ok(s, ['stop', '-t', '0', 'live']);
    await ok(s, ['cp', '--pause', 'live:/data/a', out]);
    await ok(s, ['cp', '--pause=false', 'live:/data/a', out]);
    await ok(s, ['rm', 'live']);
  });

  test('--entrypoint: a JSON array is the words of the entrypoint; anything else is one program; [] clears it', async () => {
    const s = newStore(mode);
    await ok(s, ['pull', '-q', image]);
    expect(await ok(s, ['run', '--rm', '--entrypoint', '["/bin/sh","-c"]', image, 'echo "$0 from json"'])).toBe('/bin/sh from json\n');
    await ok(s, ['create', '--name', 'ep', '--entrypoint', '["/bin/sh", "-c"]', image, 'true']);
    expect(await ok(s, ['inspect', '--format', '{{json .Config.Entrypoint}}', 'ep'])).toBe('["/bin/sh","-c"]\n');
    expect(await ok(s, ['run', '--rm', '--entrypoint', '[]', image, 'echo', 'cleared'])).toBe('cleared\n');
    // Not an array of strings: the value is the program's name, which does not exist.
    const notJson = await s.skiff(['run', '--rm', '--entrypoint', '[/bin/sh', image]);
    expect(notJson.code).toBe(127);
    const numbers = await s.skiff(['run', '--rm', '--entrypoint', '[1,2]', image]);
    expect(numbers.code).toBe(127);
    expect(await ok(s, ['run', '--rm', '--entrypoint', 'echo', image, 'plain'])).toBe('plain\n');
    await ok(s, ['rm', 'ep']);
  });
});
