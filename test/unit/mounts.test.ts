// -v, --mount and --tmpfs parsed into mount requests (lib/oci/spec/mounts.ts),
// and the helper's mount entries built from config.json.
import { describe, expect, test } from 'vitest';
import { checkDistinctDestinations, parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from '../../lib/oci/spec/mounts.js';
import { helperSpecEntries } from '../../lib/namespaces/helper.js';
import { buildRuntimeConfig } from '../../lib/oci/spec/runtime.js';
import type { RunOptions } from '../../lib/oci/spec/options.js';

describe('-v/--volume', () => {
  test('a host path is a bind (relative to the cwd), recursive, created if missing', () => {
    expect(parseVolumeFlag('./src:/app:ro,z', '/home/u')).toEqual({
      kind: 'bind',
      source: '/home/u/src',
      destination: '/app',
      flags: { readonly: true, chown: false, relabel: 'shared' },
      createSource: true,
      recursive: true,
      overlay: false,
    });
    expect(parseVolumeFlag('/a:/b/../c/:bind,rslave,noexec,nosuid,dev', '/')).toMatchObject({
      kind: 'bind',
      destination: '/c',
      recursive: false,
      flags: { propagation: 'rslave', noexec: true, nosuid: true, nodev: false },
    });
  });

  test('a name is a named volume; a destination alone an anonymous one', () => {
    expect(parseVolumeFlag('data:/var/lib/db:U,nocopy', '/')).toMatchObject({ kind: 'volume', name: 'data', destination: '/var/lib/db', nocopy: true, flags: { chown: true } });
    const anon = parseVolumeFlag('/cache', '/');
    expect(anon.kind).toBe('volume');
    expect((anon as { name?: string }).name).toBeUndefined();
  });

  test('idmap, with the container\'s mapping or its own', () => {
    expect(parseVolumeFlag('/a:/b:idmap', '/').flags.idmap).toBe(true);
    expect(parseVolumeFlag('/a:/b:idmap=uids=0-1000-10#10-2000-5;gids=0-1000-10', '/').flags.idmap).toBe('uids=0-1000-10#10-2000-5;gids=0-1000-10');
    expect(() => parseVolumeFlag('/a:/b:idmap=uids=0-1000-10', '/')).toThrow('give both uids= and gids=');
  });

  test.each([
    ['/a:/b:bogus', 'invalid volume specification "/a:/b:bogus": unknown option "bogus"'],
    ['/a:b', 'invalid volume specification "/a:b": the destination "b" must be an absolute path'],
    ['/a:/', 'invalid volume specification "/a:/": the destination cannot be "/"'],
    ['/a:/b:ro,rw', 'invalid volume specification "/a:/b:ro,rw": conflicting or repeated option "rw"'],
    ['/a:/b:c:d', 'invalid volume specification "/a:/b:c:d": expected [SOURCE:]DESTINATION[:OPTIONS]'],
    ['x:/b', 'invalid volume specification "x:/b": "x" is not a valid volume name'],
    ['vol:/b:O', 'invalid volume specification "vol:/b:O": O (an overlay) needs a host directory as the source'],
    ['/a:/b:O,ro', 'invalid volume specification "/a:/b:O,ro": O cannot be combined with ro, U, idmap or a propagation'],
    ['vol:/b:rbind', 'invalid volume specification "vol:/b:rbind": "rbind" applies to host directories, not to a volume'],
  ])('%s is refused', (text, message) => {
    expect(() => parseVolumeFlag(text, '/')).toThrow(message);
  });
});

describe('--mount', () => {
  test("Docker's keys for a bind, a volume and a tmpfs", () => {
    expect(parseMountFlag('type=bind,src=/h,dst=/c,readonly,bind-propagation=rshared', '/')).toMatchObject({
      kind: 'bind',
      source: '/h',
      destination: '/c',
      createSource: false,
      flags: { readonly: true, propagation: 'rshared' },
    });
    expect(parseMountFlag('type=volume,source=v1,target=/d,volume-nocopy,volume-subpath=a/b,volume-label=x=y,volume-opt=type=tmpfs', '/')).toMatchObject({
      kind: 'volume',
      name: 'v1',
      nocopy: true,
      subpath: 'a/b',
      labels: { x: 'y' },
      driverOptions: { type: 'tmpfs' },
    });
    expect(parseMountFlag('type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770', '/')).toEqual({
      kind: 'tmpfs',
      destination: '/t',
      flags: { readonly: false, chown: false },
      data: [`size=${64 * 1024 * 1024}`, 'mode=1770'],
      copyUp: false,
    });
    expect(parseMountFlag('"type=bind","source=/a,b",target=/c', '/')).toMatchObject({ source: '/a,b' });
    expect(parseMountFlag('type=bind,source=/a,target=/c,bind-recursive=disabled', '/')).toMatchObject({ recursive: false });
  });

  test.each([
    ['source=/a,target=/b', 'type is required'],
    ['type=bind,target=/b', 'source is required for type=bind'],
    ['type=bind,source=/a', 'target is required'],
    ['type=image,source=x,target=/b', 'type "image" is not supported'],
    ['type=bind,source=/a,target=/b,volume-nocopy', 'unknown or misplaced key "volume-nocopy" for type=bind'],
    ['type=volume,source=v1,target=/b,volume-driver=nfs', 'volume driver "nfs" is not available'],
    ['type=volume,source=v1,target=/b,volume-subpath=../x', 'must be a relative path inside the volume'],
    ['type=tmpfs,target=/b,tmpfs-mode=999', 'invalid tmpfs-mode "999"'],
    ['type=bind,source=/a,target=/b,readonly=maybe', 'invalid value "maybe" for readonly'],
  ])('%s is refused', (text, message) => {
    expect(() => parseMountFlag(text, '/')).toThrow(message);
  });
});

describe('--tmpfs', () => {
  test('mount(8) options; Docker defaults noexec, nosuid, nodev (applied later)', () => {
    expect(parseTmpfsFlag('/run:rw,size=64m,mode=755,noatime,exec')).toEqual({
      kind: 'tmpfs',
      destination: '/run',
      flags: { readonly: false, chown: false, noexec: false },
      data: ['size=64m', 'mode=755', 'noatime'],
      copyUp: false,
    });
    expect(() => parseTmpfsFlag('/run:foo=1')).toThrow('unknown option "foo=1"');
    expect(() => parseTmpfsFlag('/run:U')).toThrow('not to a tmpfs');
  });

  test('two mounts on one destination are refused', () => {
    expect(() => checkDistinctDestinations([parseTmpfsFlag('/a'), parseVolumeFlag('/x:/a', '/')])).toThrow('duplicate mount point: /a');
  });
});

describe('storage in config.json and the helper spec', () => {
  const options: RunOptions = {
    id: 'a'.repeat(64),
    rootfs: '/srv/rootfs',
    args: ['true'],
    env: [],
    workdir: '/',
    user: '',
    hostname: 'h',
    network: 'none',
    init: false,
    tty: false,
    interactive: false,
    idMappings: null,
    binds: [{ source: '/c/hosts', destination: '/etc/hosts', readonly: false }],
    storage: {
      readonlyRootfs: true,
      mounts: [
        { destination: '/data/sub', type: 'bind', source: '/h/sub', options: ['rbind', 'ro', 'rprivate'] },
        { destination: '/data', type: 'bind', source: '/v/_data', options: ['rbind', 'rw', 'nosuid', 'nodev', 'copyup', 'rprivate'] },
        { destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'size=1m'] },
      ],
    },
  };

  test('parents before what lies below them; a user mount replaces a standard one; the root read-only', () => {
    const config = buildRuntimeConfig(options);
    expect(config.root.readonly).toBe(true);
    expect(config.mounts.map((m) => `${m.destination} ${m.source}`)).toEqual([
      '/proc proc',
      '/dev tmpfs',
      '/dev/pts devpts',
      '/dev/mqueue mqueue',
      '/sys sysfs',
      '/data /v/_data',
      '/etc/hosts /c/hosts',
      '/data/sub /h/sub',
      '/dev/shm tmpfs',
    ]);
    const entries = helperSpecEntries(config).filter((e) => e.startsWith('mount=') || e.startsWith('rootfs_readonly='));
    expect(entries).toEqual([
      'mount=bind\t/v/_data\t/data\trbind,rw,nosuid,nodev,copyup,rprivate\t',
      'mount=bind\t/c/hosts\t/etc/hosts\tbind,rw\t',
      'mount=bind\t/h/sub\t/data/sub\trbind,ro,rprivate\t',
      'mount=tmpfs\ttmpfs\t/dev/shm\trw,nosuid\tsize=1m',
      'rootfs_readonly=1',
    ]);
  });
});
