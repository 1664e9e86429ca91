// doctor's verdicts over faked facts: each prerequisite broken the way real
// hosts break it, and the exact command printed to fix it.
import { describe, expect, it } from 'vitest';
import type { CgroupDetection } from '../../lib/cgroups/detect.js';
import { renderChecks } from '../../lib/cli/commands/doctor.js';
import {
  checkCgroups,
  checkHelper,
  checkIdMapTool,
  checkNamespaces,
  checkNetworkTool,
  checkOverlay,
  checkSubIds,
  checkTun,
  checkUserNamespaces,
  doctorExitCode,
  freeSubIdRange,
  hasFileCapability,
  runChecks,
} from '../../lib/system/doctor-checks.js';
import type { DoctorFacts } from '../../lib/system/doctor-checks.js';
import { NAMESPACES } from '../../lib/host/probes.js';

const ALL_NS = Object.fromEntries(NAMESPACES.map((n) => [n, true])) as DoctorFacts['namespaces']['available'];

const V2_DELEGATED: CgroupDetection = {
  version: 'v2',
  v1: [],
  unified: { mountPoint: '/sys/fs/cgroup', root: '/', controllers: ['cpu', 'io', 'memory', 'pids'], readOnly: false },
  unifiedPath: '/user.slice/user-1000.slice/user@1000.service/app.slice/a.scope',
  v1Paths: {},
  delegation: {
    cgroup: '/user.slice/user-1000.slice/user@1000.service/app.slice/a.scope',
    dir: '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/a.scope',
    writable: true,
    controllers: ['cpu', 'memory', 'pids'],
    reason: '',
  },
  limits: { applied: true, via: 'v2', controllers: ['cpu', 'memory', 'pids'], reason: '' },
};

const HYBRID_USER: CgroupDetection = {
  version: 'hybrid',
  v1: [{ mountPoint: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'], readOnly: false }],
  unified: { mountPoint: '/sys/fs/cgroup/unified', root: '/', controllers: ['hugetlb'], readOnly: false },
  unifiedPath: '/',
  v1Paths: { memory: '/' },
  delegation: { cgroup: '/', dir: '/sys/fs/cgroup/unified', writable: false, controllers: ['hugetlb'], reason: 'its directory is owned by uid 0 (mode 0555)' },
  limits: {
    applied: false,
    controllers: [],
    reason: 'cgroup v1 controllers cannot be delegated to an unprivileged user, and the cgroup v2 hierarchy at /sys/fs/cgroup/unified (controllers: hugetlb) is not delegated to you',
  },
};

/** A healthy rootless host: every check passes. */
function healthy(): DoctorFacts {
  return {
    mode: 'rootless',
    runningAsRoot: false,
    user: { name: 'alice', uid: 1000, gid: 1000, groups: [1000] },
    nodeVersion: '20.20.2',
    kernel: '6.8.0',
    distro: ['debian'],
    sysctl: { maxUserNamespaces: 96364 },
    namespaces: { available: { ...ALL_NS }, errors: {}, user: { status: 'ok', detail: '' } },
    newuidmap: { name: 'newuidmap', path: '/usr/bin/newuidmap', uid: 0, mode: 0o104755 },
    newgidmap: { name: 'newgidmap', path: '/usr/bin/newgidmap', uid: 0, mode: 0o104755 },
    subuid: { file: '/etc/subuid', ranges: [{ start: 100000, count: 65536 }], others: [] },
    subgid: { file: '/etc/subgid', ranges: [{ start: 100000, count: 65536 }], others: [] },
    processUidMap: [{ containerID: 0, hostID: 0, size: 4294967295 }],
    processGidMap: [{ containerID: 0, hostID: 0, size: 4294967295 }],
    tun: { exists: true, charDevice: true, mode: 0o20666, uid: 0, gid: 0 },
    pasta: '/usr/bin/pasta',
    overlay: { status: 'ok', detail: '', dir: '/home/alice/.local/share/skiff', userns: true, fsType: 'ext4' },
    cgroups: V2_DELEGATED,
    cgroupManager: 'systemd',
    systemd: { booted: true, userManager: true },
    helper: { path: '/opt/skiff/helpers-c/skiff-helper', fromEnv: false, exists: true, executable: true, stale: false, installRoot: '/opt/skiff' },
    compiler: '/usr/bin/cc',
  };
}

describe('a healthy host', () => {
  it('passes every check and exits 0', () => {
    const results = runChecks(healthy());
    expect(results.map((r) => [r.Name, r.Status])).toEqual([
      ['node', 'ok'],
      ['user namespaces', 'ok'],
      ['namespaces', 'ok'],
      ['newuidmap', 'ok'],
      ['newgidmap', 'ok'],
      ['subuid range', 'ok'],
      ['subgid range', 'ok'],
      ['overlay in a user namespace', 'ok'],
      ['cgroups', 'ok'],
      ['/dev/net/tun', 'ok'],
      ['pasta/slirp4netns', 'ok'],
      ['skiff helper', 'ok'],
    ]);
    expect(results.every((r) => r.Fix === '')).toBe(true);
    expect(doctorExitCode(results)).toBe(0);
    expect(results[1]!.Detail).toBe('enabled (max 96364)');
    expect(results[5]!.Detail).toBe('alice: 100000-165535 (65536 IDs)');
  });
});

describe('user namespaces', () => {
  it('fails when max_user_namespaces is 0, with the sysctl that fixes it', () => {
    const f = healthy();
    f.sysctl.maxUserNamespaces = 0;
    const r = checkUserNamespaces(f);
    expect(r.Status).toBe('fail');
    expect(r.Detail).toBe('disabled: user.max_user_namespaces is 0');
    expect(r.Fix.split('\n')[0]).toBe('sudo sysctl -w user.max_user_namespaces=28633');
  });

  it('fails on Debian\'s unprivileged_userns_clone=0', () => {
    const f = healthy();
    f.sysctl.unprivilegedUsernsClone = 0;
    const r = checkUserNamespaces(f);
    expect(r.Status).toBe('fail');
    expect(r.Fix.split('\n')[0]).toBe('sudo sysctl -w kernel.unprivileged_userns_clone=1');
    expect(r.Fix).toContain('/etc/sysctl.d/');
  });

  it("blames Ubuntu's AppArmor restriction when the probe fails under it", () => {
    const f = healthy();
    f.sysctl.apparmorRestrictUnprivilegedUserns = 1;
    f.namespaces.user = { status: 'failed', detail: 'unshare: write failed /proc/self/uid_map: Operation not permitted' };
    f.namespaces.available.User = false;
    const r = checkUserNamespaces(f);
    expect(r.Status).toBe('fail');
    expect(r.Detail).toContain('AppArmor restricts unprivileged user namespaces');
    expect(r.Detail).toContain('Operation not permitted');
    expect(r.Fix.split('\n')[0]).toBe('sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0');
  });

  it('trusts the probe over the sysctls', () => {
    const f = healthy();
    f.namespaces.user = { status: 'failed', detail: 'unshare: unshare failed: Operation not permitted' };
    expect(checkUserNamespaces(f)).toMatchObject({ Status: 'fail', Detail: 'cannot be created: unshare: unshare failed: Operation not permitted' });
  });

  it('warns when unshare is missing, naming the package', () => {
    const f = healthy();
    f.namespaces.user = { status: 'unavailable', detail: 'unshare (util-linux) is not installed' };
    expect(checkUserNamespaces(f)).toMatchObject({ Status: 'warn', Fix: 'sudo apt-get install util-linux' });
  });

  it('only warns in root mode, which does not use them', () => {
    const f = healthy();
    f.mode = 'root';
    f.runningAsRoot = true;
    f.sysctl.maxUserNamespaces = 0;
    const r = checkUserNamespaces(f);
    expect(r.Status).toBe('warn');
    expect(r.Detail).toContain('root mode does not need them');
    expect(r.Fix.split('\n')[0]).toBe('sysctl -w user.max_user_namespaces=28633');
  });

  it('reports other namespaces that cannot be created', () => {
    const f = healthy();
    f.namespaces.available.Cgroup = false;
    f.namespaces.errors.Cgroup = 'unshare: unshare failed: Invalid argument';
    expect(checkNamespaces(f)).toMatchObject({ Status: 'fail', Detail: 'cannot create cgroup: unshare: unshare failed: Invalid argument (refused by the kernel or a security policy)' });
  });
});

describe('newuidmap and newgidmap', () => {
  it('fails when missing, with the package of the distribution', () => {
    const f = healthy();
    f.newuidmap = { name: 'newuidmap' };
    expect(checkIdMapTool(f, f.newuidmap)).toMatchObject({ Status: 'fail', Fix: 'sudo apt-get install uidmap' });
    f.distro = ['rocky', 'rhel', 'centos', 'fedora'];
    expect(checkIdMapTool(f, f.newuidmap).Fix).toBe('sudo dnf install shadow-utils');
  });

  it('fails when neither setuid root nor capable, and says chmod u+s', () => {
    const f = healthy();
    f.newuidmap = { name: 'newuidmap', path: '/usr/bin/newuidmap', uid: 0, mode: 0o100755, fileCaps: '' };
    const r = checkIdMapTool(f, f.newuidmap);
    expect(r.Status).toBe('fail');
    expect(r.Fix.split('\n')[0]).toBe('sudo chmod u+s /usr/bin/newuidmap');
    expect(r.Fix).toContain('sudo setcap cap_setuid+ep /usr/bin/newuidmap');
  });

  it('accepts file capabilities instead of the setuid bit (Fedora)', () => {
    const f = healthy();
    f.newgidmap = { name: 'newgidmap', path: '/usr/bin/newgidmap', uid: 0, mode: 0o100755, fileCaps: 'cap_setgid=ep' };
    expect(checkIdMapTool(f, f.newgidmap)).toMatchObject({ Status: 'ok', Detail: '/usr/bin/newgidmap, file capability cap_setgid=ep' });
    // The wrong capability does not count.
    f.newgidmap.fileCaps = 'cap_setuid=ep';
    expect(checkIdMapTool(f, f.newgidmap).Status).toBe('fail');
  });

  it('warns when the capabilities could not be read', () => {
    const f = healthy();
    f.newuidmap = { name: 'newuidmap', path: '/usr/bin/newuidmap', uid: 0, mode: 0o100755, fileCapsError: 'getcap is not installed' };
    const r = checkIdMapTool(f, f.newuidmap);
    expect(r.Status).toBe('warn');
    expect(r.Detail).toContain('getcap is not installed');
  });

  it('fails a setuid binary not owned by root, and one on a nosuid mount', () => {
    const f = healthy();
    f.newuidmap = { name: 'newuidmap', path: '/usr/bin/newuidmap', uid: 1000, mode: 0o104755 };
    expect(checkIdMapTool(f, f.newuidmap).Fix).toBe('sudo chown root:root /usr/bin/newuidmap\nsudo chmod u+s /usr/bin/newuidmap');
    f.newuidmap = { name: 'newuidmap', path: '/usr/bin/newuidmap', uid: 0, mode: 0o104755, nosuidMount: '/usr' };
    expect(checkIdMapTool(f, f.newuidmap)).toMatchObject({ Status: 'fail', Fix: 'sudo mount -o remount,suid /usr' });
  });

  it('reads getcap output in its old and new spellings', () => {
    expect(hasFileCapability('cap_setuid=ep', 'cap_setuid')).toBe(true);
    expect(hasFileCapability('= cap_setuid+ep', 'cap_setuid')).toBe(true);
    expect(hasFileCapability('cap_setgid,cap_setuid=ep', 'cap_setuid')).toBe(true);
    expect(hasFileCapability('cap_setuid=p', 'cap_setuid')).toBe(false);
    expect(hasFileCapability('cap_net_raw=ep', 'cap_setuid')).toBe(false);
    expect(hasFileCapability('', 'cap_setuid')).toBe(false);
  });
});

describe('sub-ID ranges', () => {
  it('warns about a user with no range and picks a free one for usermod', () => {
    const f = healthy();
    f.subuid = { file: '/etc/subuid', ranges: [], others: [{ owner: 'bob', start: 100000, count: 65536 }] };
    f.subgid = { file: '/etc/subgid', ranges: [], others: [{ owner: 'bob', start: 100000, count: 65536 }] };
    const uid = checkSubIds(f, 'subuid');
    expect(uid.Status).toBe('warn');
    expect(uid.Detail).toContain('alice has no range in /etc/subuid: containers get a single mapping');
    expect(uid.Fix).toBe('sudo usermod --add-subuids 165536-231071 alice');
    expect(checkSubIds(f, 'subgid').Fix).toBe('sudo usermod --add-subgids 165536-231071 alice');
  });

  it('suggests the first free range, as useradd would', () => {
    expect(freeSubIdRange([])).toBe(100000);
    expect(freeSubIdRange([{ start: 100000, count: 65536 }, { start: 165536, count: 65536 }])).toBe(231072);
    expect(freeSubIdRange([{ start: 300000, count: 10 }])).toBe(100000);
    expect(freeSubIdRange([{ start: 150000, count: 10 }])).toBe(150010);
    expect(freeSubIdRange([{ start: 100000, count: 65536 }, { start: 120000, count: 10 }])).toBe(165536);
  });

  it('warns about a range smaller than 65536', () => {
    const f = healthy();
    f.subuid.ranges = [{ start: 200000, count: 1000 }];
    const r = checkSubIds(f, 'subuid');
    expect(r.Status).toBe('warn');
    expect(r.Detail).toBe('alice has 1000 IDs (200000-200999), fewer than 65536: images with files owned by IDs above 1000 fail to unpack');
    // Free in both files: past alice's own subgid range and her small subuid one.
    expect(r.Fix).toBe('sudo usermod --add-subuids 201000-266535 alice');
  });

  it("warns when the range overlaps another user's", () => {
    const f = healthy();
    f.subuid.others = [{ owner: 'bob', start: 150000, count: 65536 }];
    const r = checkSubIds(f, 'subuid');
    expect(r.Status).toBe('warn');
    expect(r.Detail).toContain("overlap bob's 150000-215535");
    expect(r.Fix.split('\n')[0]).toBe('sudo usermod --del-subuids 100000-165535 alice');
  });

  it('fails inside a user namespace that does not map the range', () => {
    const f = healthy();
    f.processUidMap = [{ containerID: 0, hostID: 1000, size: 65536 }];
    const r = checkSubIds(f, 'subuid');
    expect(r.Status).toBe('fail');
    expect(r.Detail).toBe('skiff runs inside a user namespace that does not map 100000-165535: newuidmap will refuse it');
  });

  it('is not about root mode, and says how to check a user', () => {
    const f = healthy();
    f.mode = 'root';
    expect(checkSubIds(f, 'subuid')).toMatchObject({ Status: 'ok' });
    expect(checkSubIds(f, 'subuid').Detail).toContain("skiff doctor --user NAME");
  });
});

describe('/dev/net/tun and networking', () => {
  it('fails a 0600 device for a user, with chmod and a udev rule', () => {
    const f = healthy();
    f.tun.mode = 0o20600;
    const r = checkTun(f);
    expect(r.Status).toBe('fail');
    expect(r.Detail).toBe('mode 0600, owner 0:0: alice cannot open it, so private networking (pasta, slirp4netns) is unavailable; --network none and host work');
    expect(r.Fix).toBe(
      'sudo chmod 666 /dev/net/tun\necho \'KERNEL=="tun", MODE="0666"\' | sudo tee /etc/udev/rules.d/60-skiff-tun.rules   # keep it after a reboot',
    );
  });

  it('accepts a device the user can open through a group', () => {
    const f = healthy();
    f.tun = { exists: true, charDevice: true, mode: 0o20660, uid: 0, gid: 108 };
    expect(checkTun(f).Status).toBe('fail');
    f.user.groups = [1000, 108];
    expect(checkTun(f).Status).toBe('ok');
  });

  it('fails a missing device with modprobe, and only warns root about users', () => {
    const f = healthy();
    f.tun = { exists: false, charDevice: false, mode: 0, uid: 0, gid: 0 };
    expect(checkTun(f)).toMatchObject({ Status: 'fail', Fix: 'sudo modprobe tun' });
    const root = healthy();
    root.mode = 'root';
    root.runningAsRoot = true;
    root.user = { name: 'root', uid: 0, gid: 0, groups: [0] };
    root.tun.mode = 0o20600;
    expect(checkTun(root)).toMatchObject({ Status: 'warn' });
    expect(checkTun(root).Fix.split('\n')[0]).toBe('chmod 666 /dev/net/tun');
  });

  it('falls back to slirp4netns and fails with neither', () => {
    const f = healthy();
    delete f.pasta;
    f.slirp4netns = '/usr/bin/slirp4netns';
    expect(checkNetworkTool(f).Status).toBe('ok');
    delete f.slirp4netns;
    expect(checkNetworkTool(f)).toMatchObject({ Status: 'fail', Fix: 'sudo apt-get install passt' });
  });
});

describe('overlay', () => {
  it('warns with the fallback when the kernel refuses, naming an old kernel', () => {
    const f = healthy();
    f.kernel = '5.10.0-28-amd64';
    f.overlay = { status: 'failed', detail: 'mount: /tmp/x/merged: wrong fs type, bad option', dir: '/tmp', userns: true, fsType: 'tmpfs' };
    const r = checkOverlay(f);
    expect(r.Status).toBe('warn');
    expect(r.Detail).toContain('kernel 5.10.0-28-amd64: overlayfs in a user namespace needs 5.11 or later');
    expect(r.Detail).toContain('copying each layer');
    expect(r.Fix).toBe('sudo apt-get install fuse-overlayfs');
    f.fuseOverlayfs = '/usr/bin/fuse-overlayfs';
    expect(checkOverlay(f)).toMatchObject({ Status: 'warn', Fix: '' });
    expect(checkOverlay(f).Detail).toContain('falls back to fuse-overlayfs');
  });
});

describe('cgroups', () => {
  it('says limits are applied through a delegated v2 cgroup', () => {
    expect(checkCgroups(healthy()).Detail).toBe(
      'v2, delegated: /user.slice/user-1000.slice/user@1000.service/app.slice/a.scope, limits applied through v2 (cpu, memory, pids), manager systemd',
    );
  });

  it('says clearly that limits will not be applied on a hybrid host, and why', () => {
    const f = healthy();
    f.cgroups = HYBRID_USER;
    f.systemd = { booted: false, userManager: false };
    f.cgroupManager = 'cgroupfs';
    const r = checkCgroups(f);
    expect(r.Status).toBe('warn');
    expect(r.Detail).toBe(
      'hybrid (v1 controllers, and v2 at /sys/fs/cgroup/unified with hugetlb): limits (--memory, --cpus, --pids-limit) will not be applied, because cgroup v1 controllers cannot be delegated to an unprivileged user, and the cgroup v2 hierarchy at /sys/fs/cgroup/unified (controllers: hugetlb) is not delegated to you; runs that ask for no limits work',
    );
    expect(r.Fix).toContain('systemd.unified_cgroup_hierarchy=1');
  });

  it('points a v2 user without delegation at systemd-run or linger', () => {
    const f = healthy();
    f.cgroups = {
      ...V2_DELEGATED,
      delegation: { ...V2_DELEGATED.delegation!, writable: false, reason: 'its directory is owned by uid 0 (mode 0755)' },
      limits: { applied: false, controllers: [], reason: 'the cgroup /user.slice is not delegated to you: its directory is owned by uid 0 (mode 0755)' },
    };
    expect(checkCgroups(f).Fix).toBe('systemd-run --user --scope skiff run ...   # runs skiff in a cgroup delegated to you');
    f.systemd.userManager = false;
    expect(checkCgroups(f).Fix.split('\n')[0]).toBe('sudo loginctl enable-linger alice   # then log in again, so that systemd runs your user manager');
  });

  it('warns about missing controllers in a delegated cgroup', () => {
    const f = healthy();
    f.cgroups = { ...V2_DELEGATED, limits: { applied: true, via: 'v2', controllers: ['memory'], reason: 'no cpu, pids controllers: those limits are not applied' } };
    const r = checkCgroups(f);
    expect(r.Status).toBe('warn');
    expect(r.Fix).toContain('Delegate=cpu cpuset io memory pids');
  });
});

describe('the helper', () => {
  it('fails when not built, and adds the compiler when there is none', () => {
    const f = healthy();
    f.helper = { ...f.helper, exists: false, executable: false };
    expect(checkHelper(f)).toMatchObject({ Status: 'fail', Fix: 'cd /opt/skiff && node scripts/build.mjs --helper-only' });
    delete f.compiler;
    expect(checkHelper(f).Fix).toBe('sudo apt-get install gcc libc6-dev make\ncd /opt/skiff && node scripts/build.mjs --helper-only');
  });

  it('warns when older than its sources', () => {
    const f = healthy();
    f.helper.stale = true;
    expect(checkHelper(f).Status).toBe('warn');
  });
});

describe('root inside a user namespace', () => {
  it('warns first that root mode is root in name only, and not otherwise', () => {
    const f = healthy();
    f.mode = 'root';
    f.processUidMap = [{ containerID: 0, hostID: 1001, size: 1 }];
    const results = runChecks(f);
    expect(results[0]).toMatchObject({ Name: 'root', Status: 'warn' });
    expect(results[0]!.Detail).toContain('uid 0 is host uid 1001');
    f.processUidMap = [{ containerID: 0, hostID: 0, size: 4294967295 }];
    expect(runChecks(f)[0]!.Name).toBe('node');
  });
});

describe('exit code and text output', () => {
  it('exits 1 when a check fails, 0 for warnings only', () => {
    expect(doctorExitCode([{ Name: 'a', Status: 'warn', Detail: '', Fix: '' }])).toBe(0);
    expect(doctorExitCode([{ Name: 'a', Status: 'ok', Detail: '', Fix: '' }, { Name: 'b', Status: 'fail', Detail: '', Fix: '' }])).toBe(1);
  });

  it('prints one line per check, the fix indented below, colour only when asked', () => {
    const results = [
      { Name: 'user namespaces', Status: 'ok' as const, Detail: 'enabled (max 96364)', Fix: '' },
      { Name: '/dev/net/tun', Status: 'fail' as const, Detail: 'mode 0600', Fix: 'sudo chmod 666 /dev/net/tun\nsecond line' },
      { Name: 'cgroups', Status: 'warn' as const, Detail: 'v1', Fix: '' },
    ];
    expect(renderChecks(results, { colour: false })).toBe(
      [
        '✔ user namespaces: enabled (max 96364)',
        '✘ /dev/net/tun: mode 0600',
        '    fix: sudo chmod 666 /dev/net/tun',
        '         second line',
        '! cgroups: v1',
        '',
        '3 checks: 1 failed, 1 warning',
        '',
      ].join('\n'),
    );
    expect(renderChecks(results, { colour: true })).toContain('\x1b[31m✘\x1b[0m /dev/net/tun');
    expect(renderChecks(results.slice(0, 1), { colour: false })).toContain('all 1 checks passed');
  });
});
