// skiff commit, as root and as the unprivileged test user: a container's
// changes become one layer (whiteouts and opaque directories as .wh. entries,
// owners as the container saw them, hard links, devices, times), its
// configuration and -c changes the image's; the committed image runs, and
// one line for what cannot be committed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { integrationEnv, type Mode, describeModes } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type PushedImage, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;
let busybox: PushedImage;

beforeAll(async () => {
  reg = await startRegistry();
  const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
  const extra = {
    compression: 'gzip' as const,
    entries: [
      { name: 'data/', type: '5', mode: 0o755 },
      { name: 'data/keep', data: 'keep\n', mode: 0o644 },
      { name: 'data/drop', data: 'drop\n', mode: 0o644 },
      { name: 'cache/', type: '5', mode: 0o755 },
      { name: 'cache/old', data: 'old\n', mode: 0o644 },
    ],
  };
  busybox = await pushImage(reg, 'busybox', 'latest', { format: 'docker', layers: [bb, extra], config: { Cmd: ['sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] } });
}, 300_000);

afterAll(async () => {
  await reg?.stop();
});

async function storeWithBusybox(mode: Mode): Promise<TestStore> {
  const s = newStore(mode);
  const r = await s.skiff(['pull', '-q', `${reg.host}/busybox`]);
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return s;
}

/** The members of a gzipped layer blob, as `tar -tv` lists them (root reads any store). */
function members(s: TestStore, digest: string): string[] {
  const blob = readFileSync(path.join(s.root, 'blobs/sha256', digest.slice(7)));
  return execFileSync('tar', ['-tv', '--numeric-owner', '-f', '-'], { input: gunzipSync(blob), encoding: 'utf8' }).trim().split('\n');
}

function layerJson(s: TestStore, diffID: string): { compressed: { digest: string; mediaType: string }[]; entries: number } {
  return JSON.parse(readFileSync(path.join(s.root, 'layers', diffID.slice(7), 'layer.json'), 'utf8'));
}

describeModes('commit ($name)', (mode) => {
  test("the container's changes become one layer, and the committed image runs with them", async () => {
    const s = await storeWithBusybox(mode);
    const script = [
      'echo new > /new',
      'chown 1000:1000 /new',
      'ln /new /data/hard',
      'rm /data/drop',
      'rm -rf /cache && mkdir /cache && echo fresh > /cache/fresh',
      'ln -s /new /data/link',
      'mkfifo /data/fifo',
      'touch -d @1600000000 /data/keep-time && mkdir -p /deep/a/b && echo x > /deep/a/b/c',
    ].join(' && ');
    const made = await s.skiff(['run', '--name', 'c1', `${reg.host}/busybox`, 'sh', '-c', script]);
    expect(made, made.stderr).toMatchObject({ code: 0 });
    const r = await s.skiff(['commit', '-a', 'Ann <ann@example.com>', '-m', 'the message', '-c', 'CMD ["cat", "/new"]', '-c', 'ENV MODE=committed', 'c1', 'committed:1']);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    const id = r.stdout.trim();
    expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(r.stderr).toContain('Writing manifest to image destination');

    const inspect = JSON.parse((await s.skiff(['image', 'inspect', 'committed:1'])).stdout)[0];
    expect(inspect.Id).toBe(id);
    expect(inspect.Author).toBe('Ann <ann@example.com>');
    expect(inspect.Comment).toBe('the message');
    expect(inspect.Config.Cmd).toEqual(['cat', '/new']);
    expect(inspect.Config.Env).toEqual(['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'MODE=committed']);
    expect(inspect.RootFS.Layers.slice(0, 2)).toEqual(busybox.layers.map((l) => l.diffId));
    expect(inspect.RootFS.Layers).toHaveLength(3);
    const history = (await s.skiff(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'committed:1'])).stdout.split('\n');
    expect(history[0]).toBe('sh -c ' + script + '|the message');

    // The layer: .wh. entries for the deletion and the replaced directory, owners as the container saw them.
    const newLayer = inspect.RootFS.Layers[2] as string;
    const meta = layerJson(s, newLayer);
    expect(meta.compressed[0]!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    const list = members(s, meta.compressed[0]!.digest);
    const names = list.map((l) => l.split(/\s+/).slice(5).join(' '));
    expect(names).toContain('data/.wh.drop');
    expect(names).toContain('cache/.wh..wh..opq');
    expect(names).toContain('cache/fresh');
    // Names are sorted, so data/hard comes first and /new links to it.
    expect(names).toContain('new link to data/hard');
    expect(names).toContain('data/link -> /new');
    expect(names).not.toContain('etc/');
    expect(names.some((n) => n.startsWith('proc') || n.startsWith('etc/hosts') || n.startsWith('etc/resolv.conf'))).toBe(false);
    expect(list.find((l) => l.endsWith(' data/hard'))).toMatch(/^-rw-r--r-- 1000\/1000 /);
    expect(names).toEqual([...names].sort());
    expect(list.find((l) => l.includes('data/fifo'))).toMatch(/^p/);
    expect(list.find((l) => l.endsWith('data/keep-time'))).toContain('2020-09-13');

    const run = await s.skiff(['run', '--rm', 'committed:1']);
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: 'new\n' });
    const look = await s.skiff(['run', '--rm', 'committed:1', 'sh', '-c', 'stat -c "%u:%g" /new; ls /data; ls /cache; [ /new -ef /data/hard ] && echo hardlinked; echo $MODE']);
    expect(look, look.stderr).toMatchObject({ code: 0, stdout: '1000:1000\nfifo\nhard\nkeep\nkeep-time\nlink\nfresh\nhardlinked\ncommitted\n' });
  });

  test('a container that changed nothing commits an empty layer; --pause, -q and container commit', async () => {
    const s = await storeWithBusybox(mode);
    expect((await s.skiff(['run', '--name', 'quiet', `${reg.host}/busybox`, 'true'])).code).toBe(0);
    const r = await s.skiff(['container', 'commit', '-q', 'quiet']);
    expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    const inspect = JSON.parse((await s.skiff(['image', 'inspect', r.stdout.trim()])).stdout)[0];
    // The empty tar: two zero blocks.
    expect(inspect.RootFS.Layers[2]).toBe('sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef');
    expect(inspect.RepoTags).toEqual([]);
    // A running container, frozen if it can be, else committed running with a warning.
    const d = await s.skiff(['run', '-d', '--name', 'busy', `${reg.host}/busybox`, 'sh', '-c', 'echo up > /up; sleep 30']);
    expect(d, d.stderr).toMatchObject({ code: 0 });
    for (let i = 0; i < 50 && (await s.skiff(['exec', 'busy', 'cat', '/up'])).code !== 0; i++) await new Promise((res) => setTimeout(res, 100));
    const live = await s.skiff(['commit', 'busy', 'live:1']);
    expect(live, live.stderr).toMatchObject({ code: 0 });
    expect((await s.skiff(['run', '--rm', 'live:1', 'cat', '/up'])).stdout).toBe('up\n');
    expect((await s.skiff(['ps', '--format', '{{.Status}}', '--filter', 'name=busy'])).stdout).toMatch(/^Up/);
    await s.skiff(['rm', '-f', 'busy']);
  });

  test('one line and exit 125: no such container, a --rootfs container, a bad -c, a bad name', async () => {
    const s = await storeWithBusybox(mode);
    expect((await s.skiff(['create', '--name', 'plain', '--rootfs', mode.rootfs, 'true'])).code).toBe(0);
    expect((await s.skiff(['create', '--name', 'img', `${reg.host}/busybox`, 'true'])).code).toBe(0);
    const cases: [string[], string | RegExp][] = [
      [['commit', 'nosuch'], 'Error: no such container: nosuch\n'],
      [['commit', 'plain'], /^Error: commit needs a container made from an image: plain runs on --rootfs /],
      [['commit', '-c', 'RUN rm -rf /', 'img'], /^Error: invalid change "RUN rm -rf \/": the instruction must be one of CMD, ENTRYPOINT/],
      [['commit', 'img', 'Bad:Name'], /^Error: invalid reference format/],
    ];
    for (const [args, line] of cases) {
      const r = await s.skiff(args);
      expect(r.code, r.stderr).toBe(125);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n').filter(Boolean), r.stderr).toHaveLength(1);
      if (typeof line === 'string') expect(r.stderr).toBe(line);
      else expect(r.stderr).toMatch(line);
    }
  });
});
