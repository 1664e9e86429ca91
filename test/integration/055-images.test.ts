// The image commands on a real store, as root and as the unprivileged test
// user: images (columns, -q, -a, --digests, --no-trunc, --filter, --format),
// tag, rmi (untag vs delete), inspect, history, image prune, the `image` group,
// and one clear line with exit 125 for every bad input.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Mode, describeModes } from './harness.js';
import { pushImage, startRegistry, type PushedImage, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;
let base: PushedImage;
let app: PushedImage;
let labelled: PushedImage;

const file = (name: string, data: string) => ({ name, data, mode: 0o644 });

beforeAll(async () => {
  reg = await startRegistry();
  const baseLayer = { compression: 'gzip' as const, entries: [file('base', 'b'.repeat(2000))] };
  base = await pushImage(reg, 'base', '1', { format: 'docker', layers: [baseLayer], imageConfig: { created: '2020-01-01T00:00:00Z' } });
  app = await pushImage(reg, 'app', '1', {
    format: 'oci',
    layers: [baseLayer, { compression: 'gzip', entries: [file('app', 'a'.repeat(3000))] }],
    config: { Cmd: ['/app'], Env: ['A=1'] },
    imageConfig: {
      created: '2021-01-01T00:00:00Z',
      history: [
        { created: '2020-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in / ' },
        { created: '2020-06-01T00:00:00Z', created_by: '/bin/sh -c #(nop)  ENV A=1', empty_layer: true },
        { created: '2021-01-01T00:00:00Z', created_by: 'COPY app /app', comment: 'buildkit' },
      ],
    },
  });
  labelled = await pushImage(reg, 'labelled', '1', {
    format: 'oci',
    layers: [{ compression: 'none', entries: [file('l', 'l')] }],
    config: { Labels: { team: 'store', tier: 'gold' } },
    imageConfig: { created: '2022-01-01T00:00:00Z' },
  });
}, 300_000);

afterAll(async () => {
  await reg?.stop();
});

const short = (img: PushedImage) => img.configDigest.slice(7, 19);

async function storeWith(mode: Mode, ...repos: string[]): Promise<TestStore> {
  const s = newStore(mode);
  for (const repo of repos) {
    const r = await s.skiff(['pull', '-q', `${reg.host}/${repo}`]);
    expect(r, r.stderr).toMatchObject({ code: 0 });
  }
  return s;
}

/** Splits a table into rows of cells (cells are separated by 3+ spaces, as Docker's tabwriter pads). */
const cells = (out: string) => out.trimEnd().split('\n').map((l) => l.trim().split(/ {3,}/));

describeModes('images ($name)', (mode) => {
  test('lists REPOSITORY TAG IMAGE ID CREATED SIZE, newest first', async () => {
    const s = await storeWith(mode, 'base:1', 'app:1');
    const r = await s.skiff(['images']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toMatch(/^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
    expect(cells(r.stdout).slice(1)).toEqual([
      [`${reg.host}/app`, '1', short(app), expect.stringMatching(/^\d+ years ago$/), '5kB'],
      [`${reg.host}/base`, '1', short(base), expect.stringMatching(/^\d+ years ago$/), '2kB'],
    ]);
    // `image ls` and `image list` are the same command.
    expect((await s.skiff(['image', 'ls'])).stdout).toBe(r.stdout);
    expect((await s.skiff(['image', 'list'])).stdout).toBe(r.stdout);
  });

  test('-q, --no-trunc, --digests, --format json and Go templates', async () => {
    const s = await storeWith(mode, 'base:1', 'app:1');
    expect((await s.skiff(['images', '-q'])).stdout).toBe(`${short(app)}\n${short(base)}\n`);
    expect((await s.skiff(['images', '-q', '--no-trunc'])).stdout).toBe(`${app.configDigest}\n${base.configDigest}\n`);
    const digests = await s.skiff(['images', '--digests']);
    expect(digests.stdout.split('\n')[0]).toMatch(/^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$/);
    expect(cells(digests.stdout)[1]!.slice(0, 4)).toEqual([`${reg.host}/app`, '1', app.manifestDigest, short(app)]);
    const json = (await s.skiff(['images', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(json[0]).toMatchObject({ Repository: `${reg.host}/app`, Tag: '1', ID: short(app), Digest: '<none>', Size: '5kB', CreatedAt: '2021-01-01 00:00:00 +0000 UTC' });
    const tpl = await s.skiff(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    expect(tpl.stdout).toBe(`${reg.host}/app:1 ${short(app)}\n${reg.host}/base:1 ${short(base)}\n`);
    const table = await s.skiff(['images', '--format', 'table {{.ID}}\t{{.Tag}}']);
    expect(cells(table.stdout)).toEqual([['IMAGE ID', 'TAG'], [short(app), '1'], [short(base), '1']]);
    const bad = await s.skiff(['images', '--format', '{{.Nope}}']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/^Error: invalid format "\{\{\.Nope\}\}": there is no field Nope \(fields: /);
  });

  test('--filter reference, dangling, label, before and since; a REPOSITORY argument', async () => {
    const s = await storeWith(mode, 'base:1', 'app:1', 'labelled:1');
    const names = async (...args: string[]) => {
      const r = await s.skiff(['images', '--format', '{{.Repository}}', ...args]);
      expect(r.stderr).toBe('');
      return r.stdout.trim().split('\n').filter((l) => l !== '');
    };
    expect(await names('--filter', 'reference=*/app')).toEqual([`${reg.host}/app`]);
    expect(await names('--filter', `reference=${reg.host}/b*:1`)).toEqual([`${reg.host}/base`]);
    expect(await names(`${reg.host}/labelled`)).toEqual([`${reg.host}/labelled`]);
    // Without the registry, as Podman matches and as `image inspect app` finds it.
    expect(await names('app')).toEqual([`${reg.host}/app`]);
    expect(await names('-f', 'reference=b*:1')).toEqual([`${reg.host}/base`]);
    expect(await names('-f', 'reference=app:2')).toEqual([]);
    // Podman's --sort and --noheading.
    expect(await names('--sort', 'repository')).toEqual([`${reg.host}/app`, `${reg.host}/base`, `${reg.host}/labelled`]);
    expect(await names('--sort', 'created')).toEqual(await names());
    const table = await s.skiff(['images', '--noheading', '--sort', 'repository']);
    expect(table.stdout.split('\n')[0]).toMatch(new RegExp(`^${reg.host}/app +1 `));
    expect(await s.skiff(['images', '--sort', 'colour'])).toMatchObject({ code: 125, stderr: 'Error: invalid --sort "colour": use created, id, repository, size, tag\n' });
    expect(await names('-f', 'label=team=store')).toEqual([`${reg.host}/labelled`]);
    expect(await names('-f', 'label=tier', '-f', 'label=team')).toEqual([`${reg.host}/labelled`]);
    expect(await names('-f', 'label=team=other')).toEqual([]);
    expect(await names('-f', `before=${reg.host}/app:1`)).toEqual([`${reg.host}/base`]);
    expect(await names('-f', `since=${reg.host}/app:1`)).toEqual([`${reg.host}/labelled`]);
    expect(await names('-f', 'dangling=true')).toEqual([]);
    // Untagging the last tag of a repository drops that repository's digest name too (Docker's rule).
    expect(await s.skiff(['tag', `${reg.host}/base:1`, 'moved:x'])).toMatchObject({ code: 0 });
    expect(await s.skiff(['rmi', `${reg.host}/base:1`])).toMatchObject({ code: 0, stdout: `Untagged: ${reg.host}/base:1\nUntagged: ${reg.host}/base@${base.manifestDigest}\n` });
    expect(await names('-f', 'reference=moved')).toEqual(['moved']);
    expect(await names('-f', 'dangling=false')).toEqual([`${reg.host}/labelled`, `${reg.host}/app`, 'moved']);
    const bad = await s.skiff(['images', '--filter', 'colour=red']);
    expect(bad).toMatchObject({ code: 125, stderr: 'Error: invalid filter "colour=red": supported filters are reference, dangling, before, since, label\n' });
  });

  test('tag adds a name; rmi untags while names remain, then deletes the image and its unshared layer', async () => {
    const s = await storeWith(mode, 'base:1', 'app:1');
    expect(await s.skiff(['tag', `${reg.host}/app:1`, 'myapp:v2'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await s.skiff(['image', 'tag', short(app), 'other.test/app'])).toMatchObject({ code: 0 });
    const listed = await s.skiff(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    expect(listed.stdout.split('\n').filter((l) => l.endsWith(short(app))).sort()).toEqual([`${reg.host}/app:1 ${short(app)}`, `myapp:v2 ${short(app)}`, `other.test/app:latest ${short(app)}`].sort());

    expect(await s.skiff(['rmi', 'myapp:v2'])).toMatchObject({ code: 0, stdout: 'Untagged: myapp:v2\n', stderr: '' });
    // Podman's NamesHistory keeps an untagged name: every tag, the latest first, each once.
    expect(await s.skiff(['tag', `${reg.host}/app:1`, 'myapp:v2'])).toMatchObject({ code: 0 });
    expect(await s.skiff(['rmi', 'myapp:v2'])).toMatchObject({ code: 0 });
    const history = await s.skiff(['image', 'inspect', '--format', '{{json .NamesHistory}}', short(app)]);
    expect(JSON.parse(history.stdout), history.stderr).toEqual(['docker.io/library/myapp:v2', 'other.test/app:latest', `${reg.host}/app:1`]);
    const conflict = await s.skiff(['rmi', short(app)]);
    expect(conflict).toMatchObject({ code: 125, stdout: '', stderr: `Error: conflict: unable to delete ${short(app)} (must be forced) - image is referenced in multiple repositories\n` });
    const forced = await s.skiff(['image', 'rm', '-f', short(app)]);
    expect(forced.code).toBe(0);
    expect(forced.stdout.split('\n')).toEqual([
      `Untagged: ${reg.host}/app:1`,
      `Untagged: ${reg.host}/app@${app.manifestDigest}`,
      'Untagged: other.test/app:latest',
      `Deleted: ${app.configDigest}`,
      `Deleted: ${app.layers[1]!.diffId}`,
      '',
    ]);
    expect(s.ls('layers')).toEqual([base.layers[0]!.diffId.slice(7)]);
    const last = await s.skiff(['rmi', `${reg.host}/base:1`]);
    expect(last.stdout.split('\n')).toEqual([
      `Untagged: ${reg.host}/base:1`,
      `Untagged: ${reg.host}/base@${base.manifestDigest}`,
      `Deleted: ${base.configDigest}`,
      `Deleted: ${base.layers[0]!.diffId}`,
      '',
    ]);
    expect(s.ls('layers')).toEqual([]);
    expect(s.ls('blobs/sha256')).toEqual([]);
    expect(s.ls('names')).toEqual([]);
    // Its names history went with the image.
    expect(s.ls('names-history')).toEqual([]);
  });

  test('tag takes several targets (Podman); untag removes names, or all of them, and leaves the image', async () => {
    const s = await storeWith(mode, 'app:1');
    const names = async () => (await s.skiff(['images', '-a', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout.split('\n').filter(Boolean).sort();
    expect(await s.skiff(['tag', `${reg.host}/app:1`, 'one:1', 'two:2'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await names()).toEqual([`${reg.host}/app:1 ${short(app)}`, `one:1 ${short(app)}`, `two:2 ${short(app)}`]);
    // A bad target fails before any is written.
    expect(await s.skiff(['tag', `${reg.host}/app:1`, 'three:3', 'x@sha256:' + '0'.repeat(64)])).toMatchObject({ code: 125, stderr: `Error: refusing to create a tag with a digest reference: x@sha256:${'0'.repeat(64)}\n` });
    expect(await s.skiff(['untag', short(app), 'one:1', 'two:2'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await names()).toEqual([`${reg.host}/app:1 ${short(app)}`]);
    // A name the image does not have: one line, nothing removed.
    expect(await s.skiff(['tag', `${reg.host}/app:1`, 'one:1'])).toMatchObject({ code: 0 });
    expect(await s.skiff(['untag', short(app), 'one:1', 'nope:1'])).toMatchObject({ code: 125, stdout: '', stderr: 'Error: nope:1: tag not known\n' });
    expect(await names()).toEqual([`${reg.host}/app:1 ${short(app)}`, `one:1 ${short(app)}`]);
    // No name: every one goes, digests too; the image stays, dangling.
    expect(await s.skiff(['image', 'untag', 'one:1'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await names()).toEqual([`<none>:<none> ${short(app)}`]);
    expect((await s.skiff(['untag', 'nosuch'])).code).toBe(125);
  });

  test('inspect shows Docker\'s fields; --format applies a template to each image', async () => {
    const s = await storeWith(mode, 'app:1');
    const r = await s.skiff(['inspect', `${reg.host}/app:1`]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('[\n    {\n        "Id": ')).toBe(true);
    const [obj] = JSON.parse(r.stdout);
    expect(obj).toMatchObject({
      Id: app.configDigest,
      RepoTags: [`${reg.host}/app:1`],
      RepoDigests: [`${reg.host}/app@${app.manifestDigest}`],
      Created: '2021-01-01T00:00:00Z',
      Architecture: 'amd64',
      Os: 'linux',
      Size: 5000,
      Config: { Cmd: ['/app'], Env: ['A=1'] },
      RootFS: { Type: 'layers', Layers: app.layers.map((l) => l.diffId) },
      GraphDriver: { Name: 'overlay' },
    });
    const fmt = await s.skiff(['image', 'inspect', '-f', '{{.Id}} {{json .Config.Cmd}}', short(app), app.configDigest.slice(7, 30)]);
    expect(fmt.stdout).toBe(`${app.configDigest} ["/app"]\n`.repeat(2));
    const missing = await s.skiff(['inspect', `${reg.host}/app:1`, 'nosuch']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toHaveLength(1);
    // Neither a container nor an image: Docker's and Podman's "no such object".
    expect(missing.stderr).toBe('Error: no such object: nosuch\n');
    // image inspect names an image.
    expect((await s.skiff(['image', 'inspect', 'nosuch'])).stderr).toBe('Error: no such image: nosuch:latest\n');
  });

  test('history lists the config\'s history, newest first, with layer sizes', async () => {
    const s = await storeWith(mode, 'app:1');
    const r = await s.skiff(['history', `${reg.host}/app:1`]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
    expect(cells(r.stdout).slice(1)).toEqual([
      [short(app), expect.stringMatching(/ago$/), 'COPY app /app', '3kB', 'buildkit'],
      ['<missing>', expect.stringMatching(/ago$/), '/bin/sh -c #(nop)  ENV A=1', '0B'],
      ['<missing>', expect.stringMatching(/ago$/), '/bin/sh -c #(nop) ADD file:0123456789abcdef0…', '2kB'],
    ]);
    expect((await s.skiff(['image', 'history', '-q', short(app)])).stdout).toBe(`${short(app)}\n<missing>\n<missing>\n`);
    const full = await s.skiff(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}', `${reg.host}/app:1`]);
    expect(full.stdout.split('\n')[0]).toBe(`${app.configDigest}|COPY app /app|3kB`);
    expect(full.stdout.split('\n')[2]).toBe('<missing>|/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in / |2kB');
    const raw = await s.skiff(['history', '--human=false', '--format', 'json', `${reg.host}/app:1`]);
    expect(JSON.parse(raw.stdout.split('\n')[0]!)).toMatchObject({ ID: short(app), Size: '3000', CreatedSince: '2021-01-01T00:00:00Z', Comment: 'buildkit' });
  });

  test('image prune removes dangling images (or all with -a) and says how much space it freed', async () => {
    const s = await storeWith(mode, 'base:1', 'app:1');
    expect(await s.skiff(['image', 'prune', '-f'])).toMatchObject({ code: 0, stdout: 'Total reclaimed space: 0B\n' });
    // Re-point app's tag: the old image keeps only its digest name, and is dangling.
    expect((await s.skiff(['tag', `${reg.host}/base:1`, `${reg.host}/app:1`])).code).toBe(0);
    const dangling = await s.skiff(['images', '--filter', 'dangling=true', '--format', '{{.Repository}} {{.Tag}} {{.ID}}']);
    expect(dangling.stdout).toBe(`${reg.host}/app <none> ${short(app)}\n`);
    const cancelled = await s.skiff(['image', 'prune'], { input: 'n\n' });
    expect(cancelled).toMatchObject({ code: 125, stdout: '' });
    expect(cancelled.stderr).toBe('WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] Error: image prune has been cancelled\n');
    const pruned = await s.skiff(['image', 'prune'], { input: 'y\n' });
    expect(pruned.code).toBe(0);
    // The layer's content, config, manifest and the layer blob the pull kept.
    expect(pruned.stdout).toBe(
      `Deleted Images:\nuntagged: ${reg.host}/app@${app.manifestDigest}\ndeleted: ${app.configDigest}\ndeleted: ${app.layers[1]!.diffId}\n\nTotal reclaimed space: ${(3000 + app.configBytes.length + app.manifestBytes.length + app.layers[1]!.size) / 1000}kB\n`,
    );
    const all = await s.skiff(['image', 'prune', '-a', '-f']);
    expect(all.stdout).toMatch(/^Deleted Images:\n(untagged: .*\n){3}deleted: .*\ndeleted: .*\n\nTotal reclaimed space: \S+\n$/);
    expect((await s.skiff(['images', '-q'])).stdout).toBe('');
    expect(s.ls('layers')).toEqual([]);
  });

  test('images are found by full id, unique id prefix and short name; bad input is one line and exit 125', async () => {
    const s = await storeWith(mode, 'base:1', 'app:1');
    expect((await s.skiff(['inspect', '-f', '{{.Id}}', 'app:1'])).stdout).toBe(`${app.configDigest}\n`);
    expect((await s.skiff(['inspect', '-f', '{{.Id}}', app.configDigest])).stdout).toBe(`${app.configDigest}\n`);
    expect((await s.skiff(['inspect', '-f', '{{.Id}}', `sha256:${short(app).slice(0, 6)}`])).stdout).toBe(`${app.configDigest}\n`);
    const expectFail = async (args: string[], line: string) => {
      const r = await s.skiff(args);
      expect(r, args.join(' ')).toMatchObject({ code: 125, stderr: `Error: ${line}\n` });
    };
    expect(await s.skiff(['rmi', 'nosuch'])).toMatchObject({ code: 1, stderr: 'Error: no such image: nosuch:latest\n' });
    await expectFail(['history', 'nosuch:2'], 'no such image: nosuch:2');
    await expectFail(['tag', 'nosuch', 'x:1'], 'no such image: nosuch:latest');
    await expectFail(['tag', `${reg.host}/app:1`, 'Bad'], 'invalid reference format "Bad": repository name must be lowercase');
    await expectFail(['tag', `${reg.host}/app:1`, `x@${app.manifestDigest}`], `refusing to create a tag with a digest reference: x@${app.manifestDigest}`);
    await expectFail(['image', 'frobnicate'], `unknown command "frobnicate" for "skiff image" (see 'skiff image --help')`);
    await expectFail(['tag', 'only-one'], `"skiff tag" requires at least 2 arguments (see 'skiff tag --help')`);
    // An id prefix two images share (find one: the first hex digit of both, when equal).
    const a = app.configDigest.slice(7);
    const b = base.configDigest.slice(7);
    let common = 0;
    while (a[common] === b[common]) common++;
    if (common > 0) await expectFail(['rmi', a.slice(0, common)], `image id prefix "${a.slice(0, common)}" is ambiguous: it matches 2 images; give more characters`);
    const inHelp = await s.skiff(['image', 'rm', '--help']);
    expect(inHelp.code).toBe(0);
    expect(inHelp.stdout).toContain('Usage: skiff image rm [OPTIONS] IMAGE [IMAGE...]');
  });
});
