// The readers behind `skiff info`: parsers over faked texts, store paths, and
// the probe runner (with /bin/sh standing in for unshare, so no namespace is
// needed to test how failures are reported).
import { describe, expect, it } from 'vitest';
import { skipTitle } from '../skip.js';
import { mountContaining, parseMountinfo } from '../../lib/host/mountinfo.js';
import { probeHost, probeOverlay, runProbe } from '../../lib/host/probes.js';
import { findProgram as findExecutable } from '../../lib/host/programs.js';
import { storeLocations } from '../../lib/store/paths.js';
import { goArch, idsMapped, isInitialIdMap, parseIdMap, parseMeminfo, parseOsRelease } from '../../lib/host/system.js';
import { parsePasswdLine } from '../../lib/host/users.js';

describe('os-release, meminfo, arch', () => {
  it('parses os-release with quotes and escapes', () => {
    const text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nNAME=\'Single\'\nX="a \\"q\\" b"\n# comment\nbroken line\n';
    expect(parseOsRelease(text)).toEqual({ PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)', ID: 'debian', VERSION_ID: '12', NAME: 'Single', X: 'a "q" b' });
  });

  it('reads meminfo in bytes, counts as they are', () => {
    const m = parseMeminfo('MemTotal:       24683620 kB\nMemFree:        1000 kB\nHugePages_Total:       0\nActive(anon):     12 kB\n');
    expect(m).toEqual({ MemTotal: 24683620 * 1024, MemFree: 1024000, HugePages_Total: 0, 'Active(anon)': 12288 });
  });

  it("names architectures as Go does", () => {
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
    expect(goArch('ia32')).toBe('386');
  });
});

describe('ID maps of this process', () => {
  it('tells the initial user namespace from a nested one', () => {
    const initial = parseIdMap('         0          0 4294967295\n');
    expect(initial).toEqual([{ containerID: 0, hostID: 0, size: 4294967295 }]);
    expect(isInitialIdMap(initial)).toBe(true);
    const nested = parseIdMap('0 1000 1\n1 100000 65536\n');
    expect(isInitialIdMap(nested)).toBe(false);
    expect(idsMapped(nested, 1, 65536)).toBe(true);
    expect(idsMapped(nested, 0, 65537)).toBe(true);
    expect(idsMapped(nested, 100000, 10)).toBe(false);
    expect(idsMapped(nested, 60000, 10000)).toBe(false);
  });
});

describe('mountinfo', () => {
  const text = `26 1 254:0 / / rw,relatime - ext4 /dev/vda rw
27 26 0:24 / /mnt/with\\040space ro,nosuid - tmpfs none ro,size=4k
28 26 0:25 / /usr rw,nosuid,nodev - ext4 /dev/vdb rw
29 28 0:26 / /usr/local rw shared:3 master:1 - xfs /dev/vdc rw
`;
  it('parses fields, optional fields and octal escapes', () => {
    const mounts = parseMountinfo(text);
    expect(mounts).toHaveLength(4);
    expect(mounts[1]).toMatchObject({ mountPoint: '/mnt/with space', options: ['ro', 'nosuid'], fsType: 'tmpfs', source: 'none' });
    expect(mounts[3]).toMatchObject({ mountPoint: '/usr/local', fsType: 'xfs', superOptions: ['rw'] });
  });

  it('finds the mount holding a path', () => {
    const mounts = parseMountinfo(text);
    expect(mountContaining(mounts, '/usr/bin/newuidmap')?.mountPoint).toBe('/usr');
    expect(mountContaining(mounts, '/usr/local/bin/x')?.fsType).toBe('xfs');
    expect(mountContaining(mounts, '/usrx')?.mountPoint).toBe('/');
  });
});

describe('store locations', () => {
  it('follows XDG for a user, with the /tmp fallback for runtime state', () => {
    expect(storeLocations({ uid: 1000, home: '/home/a' }, {})).toEqual({ graphRoot: '/home/a/.local/share/skiff', runRoot: '/tmp/skiff-1000' });
    expect(storeLocations({ uid: 1000, home: '/home/a' }, { XDG_DATA_HOME: '/data', XDG_RUNTIME_DIR: '/run/user/1000' })).toEqual({
      graphRoot: '/data/skiff',
      runRoot: '/run/user/1000/skiff',
    });
    // Relative XDG values are invalid and ignored.
    expect(storeLocations({ uid: 1000, home: '/home/a' }, { XDG_DATA_HOME: 'rel' }).graphRoot).toBe('/home/a/.local/share/skiff');
  });

  it('uses the system paths for root whatever the environment says', () => {
    expect(storeLocations({ uid: 0, home: '/root' }, { XDG_DATA_HOME: '/data' })).toEqual({ graphRoot: '/var/lib/skiff', runRoot: '/run/skiff' });
  });
});

describe('passwd', () => {
  it('parses a passwd line and refuses a broken one', () => {
    expect(parsePasswdLine('skifftest:x:1001:1001::/home/skifftest:/bin/bash')).toEqual({ name: 'skifftest', uid: 1001, gid: 1001, home: '/home/skifftest' });
    expect(parsePasswdLine('bad:x::1:a:/h:/s')).toBeUndefined();
    expect(parsePasswdLine('short:x:1')).toBeUndefined();
  });
});

describe('runProbe', () => {
  it('reports success, the first line of stderr, and a missing program', async () => {
    expect(await runProbe(['/bin/sh', '-c', 'exit 0'])).toEqual({ status: 'ok', detail: '' });
    expect(await runProbe(['/bin/sh', '-c', 'echo "unshare: unshare failed: Operation not permitted" >&2; echo more >&2; exit 1'])).toEqual({
      status: 'failed',
      detail: 'unshare: unshare failed: Operation not permitted',
    });
    expect(await runProbe(['/bin/sh', '-c', 'exit 3'])).toEqual({ status: 'failed', detail: 'sh exited with 3' });
    const missing = await runProbe(['/nonexistent/unshare', 'true']);
    expect(missing.status).toBe('unavailable');
    expect(missing.detail).toContain('cannot run /nonexistent/unshare');
  });
});

describe('overlay and host probes', () => {
  it('says why the overlay could not be tried, without running anything', async () => {
    const bad = await probeOverlay({ userns: true, baseDir: '/tmp/with,comma' });
    expect(bad).toMatchObject({ status: 'unavailable', dir: '/tmp/with,comma' });
    expect(bad.detail).toContain('cannot carry');
    const missing = await probeOverlay({ userns: true, baseDir: '/nonexistent/skiff-store' });
    expect(missing.status).toBe('unavailable');
    expect(missing.detail).toMatch(/cannot create a temporary directory in \/nonexistent\/skiff-store|unshare \(util-linux\) is not installed/);
  });

  it.skipIf(!findExecutable('unshare'))(skipTitle('probes namespaces apart when the overlay cannot be tried', findExecutable('unshare') ? undefined : 'needs unshare: apt-get install util-linux'), async () => {
    const r = await probeHost({ rootless: true, overlayInUserNS: true, baseDir: '/nonexistent/skiff-store' });
    expect(r.overlay.status).toBe('unavailable');
    // The namespace answer comes from its own probe, whatever this kernel allows.
    expect(Object.keys(r.namespaces.available)).toEqual(['User', 'Mount', 'PID', 'Net', 'IPC', 'UTS', 'Cgroup']);
    expect(r.namespaces.user.status === 'ok').toBe(r.namespaces.available.User);
  });
});
