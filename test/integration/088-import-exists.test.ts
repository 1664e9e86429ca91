// skiff import (of what export writes, from a file, stdin or an http URL,
// compressed or not), image exists and container exists, as root and as the
// unprivileged test user.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTar } from '../unit/helpers/make-tar.js';
import { collect, integrationEnv, type Mode, describeModes } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;
let work: string;

beforeAll(async () => {
  reg = await startRegistry();
  const bb = { entries: busyboxLayer(integrationEnv().imageRootfs), compression: 'gzip' as const };
  await pushImage(reg, 'busybox', 'latest', { format: 'docker', layers: [bb], config: { Cmd: ['sh'] } });
  work = mkdtempSync(path.join(integrationEnv().workDir, 'import-'));
  chmodSync(work, 0o777);
}, 300_000);

afterAll(async () => {
  await reg?.stop();
});

async function pulled(mode: Mode): Promise<TestStore> {
  const s = newStore(mode);
  const r = await s.skiff(['pull', '-q', `${reg.host}/busybox`]);
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return s;
}

const out = (name: string) => path.join(work, `${name}-${Math.random().toString(36).slice(2, 8)}`);

describeModes('import and exists ($name)', (mode) => {
  test("import of export's tar runs, with -c and -m; from stdin gzip-compressed; from an http URL", async () => {
    const s = await pulled(mode);
    expect((await s.skiff(['run', '--name', 'src', `${reg.host}/busybox`, 'sh', '-c', 'echo exported > /marker; chown 1000:1000 /marker'])).code).toBe(0);
    const tar = out('rootfs.tar');
    const exp = await s.skiff(['export', '-o', tar, 'src']);
    expect(exp, exp.stderr).toMatchObject({ code: 0 });
    const r = await s.skiff(['import', '-c', 'CMD ["cat", "/marker"]', '-c', 'ENV FROM=import', '-m', 'from export', tar, 'imported:1']);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    const run = await s.skiff(['run', '--rm', 'imported:1']);
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: 'exported\n' });
    const look = await s.skiff(['run', '--rm', 'imported:1', 'sh', '-c', 'stat -c %u:%g /marker; echo $FROM']);
    expect(look.stdout).toBe('1000:1000\nimport\n');
    const inspect = JSON.parse((await s.skiff(['image', 'inspect', 'imported:1'])).stdout)[0];
    expect(inspect.Comment).toBe('from export');
    expect(inspect.RootFS.Layers).toHaveLength(1);
    expect(inspect.Architecture).toBe('amd64');

    // The same tar gzipped on stdin: the same layer, so the same diffID.
    const viaStdin = s.spawn(['image', 'import', '-', 'from-stdin:1']);
    viaStdin.stdin!.end(execFileSync('gzip', ['-c', tar], { maxBuffer: 1 << 28 }));
    const fromStdin = await collect(viaStdin, null);
    expect(fromStdin, fromStdin.stderr).toMatchObject({ code: 0 });
    const layers = JSON.parse((await s.skiff(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'from-stdin:1'])).stdout);
    expect(layers).toEqual(inspect.RootFS.Layers);

    // Over HTTP (a server on 127.0.0.1 serving the file).
    const server = http.createServer((_req, res) => res.end(readFileSync(tar)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rootfs.tar`;
      const fromUrl = await s.skiff(['import', url, 'from-url:1']);
      expect(fromUrl, fromUrl.stderr).toMatchObject({ code: 0 });
      expect((await s.skiff(['run', '--rm', 'from-url:1', 'cat', '/marker'])).stdout).toBe('exported\n');
    } finally {
      server.close();
    }
  });

  test('bad tarballs: one line, exit 125, nothing in the store', async () => {
    const s = await pulled(mode);
    const before = { images: s.ls('images'), layers: s.ls('layers'), names: s.ls('names') };
    const escape = out('escape.tar');
    writeFileSync(escape, makeTar([{ name: 'ok', data: 'ok' }, { name: '../../escape', data: 'x' }]));
    const truncated = out('truncated.tar');
    writeFileSync(truncated, makeTar([{ name: 'big', data: Buffer.alloc(100_000, 1) }]).subarray(0, 50_000));
    for (const f of [escape, truncated]) chmodSync(f, 0o644);
    const cases: [string[], RegExp][] = [
      [['import', escape, 'bad:1'], /^Error: unsafe layer entry "..\/..\/escape": .* climbs out of the layer root; nothing was imported\n$/],
      [['import', truncated], /is not a valid tar archive: unexpected end of data in "big" \(the archive is truncated\)\n$/],
      [['import', path.join(work, 'nosuch.tar')], /^Error: cannot read .*nosuch\.tar: no such file\n$/],
      [['import', '-c', 'RUN x', escape], /^Error: invalid change "RUN x"/],
    ];
    for (const [args, line] of cases) {
      const r = await s.skiff(args);
      expect(r.code, r.stderr).toBe(125);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(line);
      expect({ images: s.ls('images'), layers: s.ls('layers'), names: s.ls('names') }).toEqual(before);
      expect(s.ls('tmp')).toEqual([]);
    }
  });

  test('image exists and container exists: 0 or 1, nothing printed; a malformed name is 125', async () => {
    const s = await pulled(mode);
    expect((await s.skiff(['create', '--name', 'there', `${reg.host}/busybox`, 'true'])).code).toBe(0);
    const check = async (args: string[], code: number) => {
      const r = await s.skiff(args);
      expect(r, args.join(' ')).toMatchObject({ code, stdout: '' });
      if (code !== 125) expect(r.stderr).toBe('');
    };
    await check(['image', 'exists', `${reg.host}/busybox`], 0);
    await check(['image', 'exists', `${reg.host}/busybox:nope`], 1);
    await check(['image', 'exists', 'Bad:Name:x'], 125);
    await check(['container', 'exists', 'there'], 0);
    await check(['container', 'exists', 'gone'], 1);
  });
});
