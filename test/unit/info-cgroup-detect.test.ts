// cgroup detection over faked mountinfo texts and a faked /sys/fs/cgroup tree.
// This machine is hybrid (v1 controllers plus a cgroup2 at
// /sys/fs/cgroup/unified with only hugetlb) and has no systemd: pure v2, v1
// alone and a delegated v2 subtree cannot be seen here, so the tree is built
// in a temp dir and the detector reads it there (rootDir).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cgroupDir, cgroupManager, detectCgroups, parseProcCgroup } from '../../lib/cgroups/detect.js';

// /proc/self/mountinfo of this host (cgroup lines and a few others).
const HYBRID_MOUNTINFO = `26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_PROC_CGROUP = `9:name=systemd:/
8:pids:/
4:memory:/process_api/c199d4afd77887fd992bdd226ab09f5b
2:cpuacct:/
1:cpu:/
0::/
`;

// A systemd host with the unified hierarchy only (Fedora, Debian 11+).
const V2_MOUNTINFO = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;
const USER_CGROUP = '/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope';
const V2_PROC_CGROUP = `0::${USER_CGROUP}\n`;

// An old host: v1 only, cpu and cpuacct co-mounted.
const V1_MOUNTINFO = `25 1 8:1 / / rw - ext4 /dev/sda1 rw
30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:5 - cgroup cgroup rw,cpu,cpuacct
32 30 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:6 - cgroup cgroup rw,memory
33 30 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:7 - cgroup cgroup rw,pids
34 30 0:30 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,xattr,name=systemd
`;

let root: string;
let me: number;

function write(rel: string, content = ''): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

/** A cgroup v2 directory: its controllers, and the files delegation is judged by. */
function fakeCgroup(rel: string, controllers: string): string {
  write(path.join(rel, 'cgroup.controllers'), `${controllers}\n`);
  write(path.join(rel, 'cgroup.procs'));
  write(path.join(rel, 'cgroup.subtree_control'));
  return path.join(root, rel);
}

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'skiff-cgroup-test-'));
  me = statSync(root).uid;
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('parseProcCgroup', () => {
  it('splits the unified path from the v1 paths, comma-joined controllers included', () => {
    expect(parseProcCgroup(HYBRID_PROC_CGROUP)).toEqual({
      unified: '/',
      v1: { 'name=systemd': '/', pids: '/', memory: '/process_api/c199d4afd77887fd992bdd226ab09f5b', cpuacct: '/', cpu: '/' },
    });
    expect(parseProcCgroup('3:cpu,cpuacct:/a\n')).toEqual({ unified: undefined, v1: { cpu: '/a', cpuacct: '/a' } });
  });
});

describe('detectCgroups', () => {
  it('sees this host as hybrid: v1 controllers for root, nothing delegated to a user', () => {
    fakeCgroup('sys/fs/cgroup/unified', 'hugetlb');
    const asRoot = detectCgroups({ mountinfo: HYBRID_MOUNTINFO, procCgroup: HYBRID_PROC_CGROUP, rootDir: root, uid: 0 });
    expect(asRoot.version).toBe('hybrid');
    expect(asRoot.unified).toEqual({ mountPoint: '/sys/fs/cgroup/unified', root: '/', controllers: ['hugetlb'], readOnly: false });
    expect(asRoot.v1.map((h) => h.controllers.join(','))).toEqual(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids']);
    expect(asRoot.limits).toEqual({
      applied: true,
      via: 'v1',
      controllers: ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids'],
      reason: '',
    });

    const asUser = detectCgroups({ mountinfo: HYBRID_MOUNTINFO, procCgroup: HYBRID_PROC_CGROUP, rootDir: root, uid: me + 1 });
    expect(asUser.version).toBe('hybrid');
    expect(asUser.delegation?.writable).toBe(false);
    expect(asUser.limits.applied).toBe(false);
    expect(asUser.limits.reason).toBe(
      'cgroup v1 controllers cannot be delegated to an unprivileged user, and the cgroup v2 hierarchy at /sys/fs/cgroup/unified (controllers: hugetlb) is not delegated to you',
    );
  });

  it('sees pure v2 with a delegated user cgroup', () => {
    fakeCgroup('sys/fs/cgroup', 'cpuset cpu io memory hugetlb pids rdma misc');
    fakeCgroup(`sys/fs/cgroup${USER_CGROUP}`, 'cpu memory pids');
    const d = detectCgroups({ mountinfo: V2_MOUNTINFO, procCgroup: V2_PROC_CGROUP, rootDir: root, uid: me });
    expect(d.version).toBe('v2');
    expect(d.v1).toEqual([]);
    expect(d.unifiedPath).toBe(USER_CGROUP);
    expect(d.delegation).toEqual({
      cgroup: USER_CGROUP,
      dir: path.join(root, 'sys/fs/cgroup', USER_CGROUP),
      writable: true,
      controllers: ['cpu', 'memory', 'pids'],
      reason: '',
    });
    expect(d.limits).toEqual({ applied: true, via: 'v2', controllers: ['cpu', 'memory', 'pids'], reason: '' });
  });

  it('says which controllers a delegated v2 cgroup lacks', () => {
    fakeCgroup('sys/fs/cgroup', 'cpu memory pids');
    fakeCgroup(`sys/fs/cgroup${USER_CGROUP}`, 'memory');
    const d = detectCgroups({ mountinfo: V2_MOUNTINFO, procCgroup: V2_PROC_CGROUP, rootDir: root, uid: me });
    expect(d.limits).toEqual({ applied: true, via: 'v2', controllers: ['memory'], reason: 'no cpu, pids controllers: those limits are not applied' });
  });

  it('sees pure v2 not delegated when the cgroup belongs to someone else', () => {
    fakeCgroup('sys/fs/cgroup', 'cpu memory pids');
    fakeCgroup(`sys/fs/cgroup${USER_CGROUP}`, 'cpu memory pids');
    const d = detectCgroups({ mountinfo: V2_MOUNTINFO, procCgroup: V2_PROC_CGROUP, rootDir: root, uid: me + 1 });
    expect(d.delegation?.writable).toBe(false);
    expect(d.delegation?.reason).toMatch(new RegExp(`^its directory is owned by uid ${me} \\(mode 0\\d{3}\\)$`));
    expect(d.limits.applied).toBe(false);
    expect(d.limits.reason).toContain(`the cgroup ${USER_CGROUP} is not delegated to you`);
  });

  it('judges delegation by cgroup.procs too, not only the directory', () => {
    fakeCgroup('sys/fs/cgroup', 'cpu memory pids');
    const dir = fakeCgroup(`sys/fs/cgroup${USER_CGROUP}`, 'cpu memory pids');
    // Writable by anyone but cgroup.procs: only that file can be the reason.
    chmodSync(dir, 0o777);
    chmodSync(path.join(dir, 'cgroup.subtree_control'), 0o666);
    chmodSync(path.join(dir, 'cgroup.procs'), 0o444);
    const d = detectCgroups({ mountinfo: V2_MOUNTINFO, procCgroup: V2_PROC_CGROUP, rootDir: root, uid: me + 1 });
    expect(d.delegation?.writable).toBe(false);
    expect(d.delegation?.reason).toBe(`cgroup.procs is owned by uid ${me} (mode 0444)`);
    chmodSync(path.join(dir, 'cgroup.procs'), 0o666);
    expect(detectCgroups({ mountinfo: V2_MOUNTINFO, procCgroup: V2_PROC_CGROUP, rootDir: root, uid: me + 1 }).delegation?.writable).toBe(true);
  });

  it('treats a delegated cgroup with no controllers as no limits', () => {
    fakeCgroup('sys/fs/cgroup', '');
    fakeCgroup(`sys/fs/cgroup${USER_CGROUP}`, '');
    const d = detectCgroups({ mountinfo: V2_MOUNTINFO, procCgroup: V2_PROC_CGROUP, rootDir: root, uid: me });
    expect(d.delegation?.writable).toBe(true);
    expect(d.limits.applied).toBe(false);
    expect(d.limits.reason).toContain('has no controllers to give its children');
  });

  it('honours a read-only cgroup2 mount even for root', () => {
    fakeCgroup('sys/fs/cgroup', 'cpu memory pids');
    const ro = V2_MOUNTINFO.replace('/sys/fs/cgroup rw,', '/sys/fs/cgroup ro,');
    const d = detectCgroups({ mountinfo: ro, procCgroup: '0::/\n', rootDir: root, uid: 0 });
    expect(d.delegation).toMatchObject({ writable: false, reason: '/sys/fs/cgroup is mounted read-only' });
    expect(d.limits.applied).toBe(false);
  });

  it('sees v1 alone: root uses it, a user gets no limits', () => {
    const asRoot = detectCgroups({ mountinfo: V1_MOUNTINFO, procCgroup: '4:pids:/\n3:memory:/\n2:cpu,cpuacct:/\n', rootDir: root, uid: 0 });
    expect(asRoot.version).toBe('v1');
    expect(asRoot.unified).toBeUndefined();
    expect(asRoot.v1.map((h) => h.mountPoint)).toEqual(['/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids']);
    expect(asRoot.limits).toEqual({ applied: true, via: 'v1', controllers: ['cpu', 'cpuacct', 'memory', 'pids'], reason: '' });
    const asUser = detectCgroups({ mountinfo: V1_MOUNTINFO, procCgroup: '', rootDir: root, uid: 1000 });
    expect(asUser.limits).toEqual({ applied: false, controllers: [], reason: 'cgroup v1 controllers cannot be delegated to an unprivileged user' });
  });

  it('gives root in a user namespace no root rights over the host cgroups', () => {
    fakeCgroup('sys/fs/cgroup/unified', 'hugetlb');
    const d = detectCgroups({ mountinfo: HYBRID_MOUNTINFO, procCgroup: HYBRID_PROC_CGROUP, rootDir: root, uid: 0, initialUserNS: false });
    expect(d.limits.applied).toBe(false);
    expect(d.limits.reason).toMatch(/^cgroup v1 controllers cannot be delegated to root in a user namespace/);
  });

  it('finds nothing when no cgroup filesystem is mounted', () => {
    const d = detectCgroups({ mountinfo: '22 1 8:1 / / rw - ext4 /dev/sda1 rw\n', procCgroup: '', rootDir: root, uid: 0 });
    expect(d.version).toBe('none');
    expect(d.limits).toEqual({ applied: false, controllers: [], reason: 'no cgroup filesystem is mounted' });
  });

  it('checks another user\'s session cgroup when told to', () => {
    fakeCgroup('sys/fs/cgroup', 'cpu memory pids');
    fakeCgroup('sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service', 'cpu memory pids');
    const d = detectCgroups({
      mountinfo: V2_MOUNTINFO,
      procCgroup: '0::/init.scope\n',
      rootDir: root,
      uid: me,
      unifiedPathOverride: '/user.slice/user-1000.slice/user@1000.service',
    });
    expect(d.delegation?.cgroup).toBe('/user.slice/user-1000.slice/user@1000.service');
    expect(d.limits.applied).toBe(true);
  });
});

describe('cgroupDir', () => {
  it('maps a cgroup path through a bind-mounted sub-tree and refuses paths outside it', () => {
    const mount = { mountPoint: '/sys/fs/cgroup', root: '/machine.slice/ctr' };
    expect(cgroupDir('/', mount, '/machine.slice/ctr/sub')).toBe('/sys/fs/cgroup/sub');
    expect(cgroupDir('/', mount, '/machine.slice/ctr')).toBe('/sys/fs/cgroup');
    expect(cgroupDir('/', mount, '/other')).toBeUndefined();
    expect(cgroupDir('/', { mountPoint: '/sys/fs/cgroup', root: '/' }, '/../..')).toBeUndefined();
  });
});

describe('cgroupManager', () => {
  it('uses systemd only where systemd runs the machine and, for a user, the user', () => {
    expect(cgroupManager({ systemdBooted: false, rootless: false, userManager: false })).toBe('cgroupfs');
    expect(cgroupManager({ systemdBooted: true, rootless: false, userManager: false })).toBe('systemd');
    expect(cgroupManager({ systemdBooted: true, rootless: true, userManager: false })).toBe('cgroupfs');
    expect(cgroupManager({ systemdBooted: true, rootless: true, userManager: true })).toBe('systemd');
  });
});
