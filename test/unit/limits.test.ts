// Resource limits, pure parts: Docker's flag parsing and checks, the OCI
// linux.resources they make, the v1/v2 cgroup files those become, and where a
// container's cgroup goes on each kind of host (faked trees: this machine is
// hybrid without systemd).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planContainerCgroup, prepareCgroupStart, type CgroupHost } from '../../lib/cgroups/container.js';
import { detectCgroups } from '../../lib/cgroups/detect.js';
import { compileDeviceFilter } from '../../lib/cgroups/device-filter.js';
import { cpuWeightFromShares, ioWeightFromBlkio, v1Writes, v2Writes } from '../../lib/cgroups/limits.js';
import { blkioBytes, ioStatBytes } from '../../lib/cgroups/stats.js';
import { applyResourceFlags, emptyResources, ociResources, ociRlimits, parseBytes, parseCpuList, parseUlimit } from '../../lib/oci/spec/resources.js';
import { bytesSize, cpuPercent, humanSize3, type StatsSample } from '../../lib/containers/stats.js';

const HOST = { cpus: 2, onlineCpus: '0-1', onlineMems: '0' };
const MiB = 1024 * 1024;
const dev = () => ({ major: 8, minor: 0 });

describe('flags -> HostConfig', () => {
  it('parses sizes as Docker (binary units, optional b/ib)', () => {
    expect(parseBytes('64m', '--memory')).toBe(64 * MiB);
    expect(parseBytes('1.5g', '--memory')).toBe(1.5 * 1024 * MiB);
    expect(parseBytes('512K', '--memory')).toBe(512 * 1024);
    expect(parseBytes('100', '--memory')).toBe(100);
    expect(parseBytes('2GiB', '--memory')).toBe(2 * 1024 * MiB);
    expect(parseBytes('10mb', '--memory')).toBe(10 * MiB);
    expect(() => parseBytes('ten', '--memory')).toThrow('invalid --memory "ten": expected a size such as 512k, 64m or 1g');
  });

  it('--memory alone allows as much swap as memory (MemorySwap twice it), as Docker', () => {
    const r = applyResourceFlags(emptyResources(), { memory: '64m' }, HOST);
    expect(r.Memory).toBe(64 * MiB);
    expect(r.MemorySwap).toBe(128 * MiB);
    expect(applyResourceFlags(emptyResources(), { memory: '64m', memorySwap: '-1' }, HOST).MemorySwap).toBe(-1);
    expect(applyResourceFlags(emptyResources(), { memory: '64m', memorySwap: '64m' }, HOST).MemorySwap).toBe(64 * MiB);
    // update --memory keeps the default ratio when swap was the default.
    expect(applyResourceFlags(r, { memory: '32m' }, HOST).MemorySwap).toBe(64 * MiB);
    // …but not an explicit one.
    const explicit = applyResourceFlags(emptyResources(), { memory: '64m', memorySwap: '200m' }, HOST);
    expect(applyResourceFlags(explicit, { memory: '32m' }, HOST).MemorySwap).toBe(200 * MiB);
  });

  it('--cpus becomes NanoCpus; the range is checked against the CPUs there are', () => {
    expect(applyResourceFlags(emptyResources(), { cpus: '0.5' }, HOST).NanoCpus).toBe(5e8);
    expect(() => applyResourceFlags(emptyResources(), { cpus: '3' }, HOST)).toThrow('--cpus 3: the range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
    expect(() => applyResourceFlags(emptyResources(), { cpus: '0.001' }, HOST)).toThrow('the range of CPUs is from 0.01');
  });

  it('--pids-limit: 0 and -1 are unlimited, unset is null (Docker\'s API)', () => {
    expect(emptyResources().PidsLimit).toBeNull();
    expect(applyResourceFlags(emptyResources(), { pidsLimit: '-1' }, HOST).PidsLimit).toBe(-1);
    expect(ociResources(applyResourceFlags(emptyResources(), { pidsLimit: '0' }, HOST), dev).pids).toBeUndefined();
    expect(ociResources(applyResourceFlags(emptyResources(), { pidsLimit: '7' }, HOST), dev).pids).toEqual({ limit: 7 });
  });

  it('cpusets: lists, and only CPUs that exist', () => {
    expect(parseCpuList('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(parseCpuList('2-1')).toBeUndefined();
    expect(parseCpuList('a')).toBeUndefined();
    expect(applyResourceFlags(emptyResources(), { cpusetCpus: '1' }, HOST).CpusetCpus).toBe('1');
    expect(() => applyResourceFlags(emptyResources(), { cpusetCpus: '0-3' }, HOST)).toThrow('requested CPUs are not available - requested 0-3, available: 0-1');
  });

  it('--ulimit NAME=SOFT[:HARD], -1 unlimited; config.json gets RLIMIT_ names', () => {
    expect(parseUlimit('nofile=1024:2048')).toEqual({ Name: 'nofile', Soft: 1024, Hard: 2048 });
    expect(parseUlimit('core=-1')).toEqual({ Name: 'core', Soft: -1, Hard: -1 });
    expect(() => parseUlimit('files=1')).toThrow('unknown limit "files"');
    expect(() => parseUlimit('nofile=-1:10')).toThrow('the soft limit -1 is above the hard limit 10');
    expect(ociRlimits([{ Name: 'nofile', Soft: 1, Hard: 2 }])).toEqual([{ type: 'RLIMIT_NOFILE', soft: 1, hard: 2 }]);
    // A later --ulimit of the same name wins.
    expect(applyResourceFlags(emptyResources(), { ulimits: ['nofile=1', 'nofile=2'] }, HOST).Ulimits).toEqual([{ Name: 'nofile', Soft: 2, Hard: 2 }]);
  });

  it('throttle devices: PATH:RATE, rates as sizes (bps) or numbers (iops)', () => {
    const r = applyResourceFlags(emptyResources(), { deviceReadBps: ['/dev/sda:1mb'], deviceWriteIops: ['/dev/sda:300'] }, HOST);
    expect(r.BlkioDeviceReadBps).toEqual([{ Path: '/dev/sda', Rate: MiB }]);
    expect(ociResources(r, dev).blockIO).toEqual({ throttleReadBpsDevice: [{ major: 8, minor: 0, rate: MiB }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 300 }] });
    expect(() => applyResourceFlags(emptyResources(), { deviceReadBps: ['sda:1mb'] }, HOST)).toThrow('invalid --device-read-bps "sda:1mb"');
  });
});

describe('linux.resources -> cgroup files', () => {
  const res = ociResources(
    applyResourceFlags(emptyResources(), { memory: '64m', memoryReservation: '32m', cpus: '1.5', cpuShares: '512', cpusetCpus: '0-1', pidsLimit: '100', blkioWeight: '500', deviceReadBps: ['/dev/sda:1m'], deviceWriteBps: ['/dev/sda:2m'] }, HOST),
    dev,
  );

  it('v2: memory.low/max/swap.max (swap alone), cpu.weight, cpu.max, cpuset, pids.max, io.weight and one io.max line per device', () => {
    expect(v2Writes(res).map((w) => `${w.file}=${w.value}`)).toEqual([
      `memory.low=${32 * MiB}`,
      `memory.max=${64 * MiB}`,
      `memory.swap.max=${64 * MiB}`,
      `cpu.weight=${cpuWeightFromShares(512)}`,
      'cpu.max=150000 100000',
      'cpuset.cpus=0-1',
      'pids.max=100',
      `io.weight=default ${ioWeightFromBlkio(500)}`,
      `io.max=8:0 rbps=${MiB} wbps=${2 * MiB}`,
    ]);
  });

  it('v1: the limit_in_bytes files (memsw is memory plus swap), CFS quota and period, shares, blkio', () => {
    expect(v1Writes(res).map((w) => `${w.controller}/${w.file}=${w.value}`)).toEqual([
      `memory/memory.limit_in_bytes=${64 * MiB}`,
      `memory/memory.memsw.limit_in_bytes=${128 * MiB}`,
      `memory/memory.soft_limit_in_bytes=${32 * MiB}`,
      'cpu/cpu.shares=512',
      'cpu/cpu.cfs_period_us=100000',
      'cpu/cpu.cfs_quota_us=150000',
      'cpuset/cpuset.cpus=0-1',
      'pids/pids.max=100',
      'blkio/blkio.weight=500',
      `blkio/blkio.throttle.read_bps_device=8:0 ${MiB}`,
      `blkio/blkio.throttle.write_bps_device=8:0 ${2 * MiB}`,
    ]);
  });

  it('v1: the device cgroup, one rule per write, the refusal of all first', () => {
    const devices = [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c' as const, major: 136, access: 'rwm' },
      { allow: true, type: 'b' as const, major: 8, minor: 0, access: 'r' },
    ];
    expect(v1Writes({ devices }).map((w) => `${w.controller}/${w.file}=${w.value}`)).toEqual([
      'devices/devices.deny=a *:* rwm',
      'devices/devices.allow=c 136:* rwm',
      'devices/devices.allow=b 8:0 r',
    ]);
    // Not a limit: it never makes a run need a cgroup, and v2 has no file for it.
    expect(v2Writes({ devices })).toEqual([]);
  });

  it('conversions as runc: shares -> weight, blkio weight -> io.weight', () => {
    expect(cpuWeightFromShares(2)).toBe(1);
    expect(cpuWeightFromShares(1024)).toBe(39);
    expect(cpuWeightFromShares(262144)).toBe(10000);
    expect(ioWeightFromBlkio(10)).toBe(1);
    expect(ioWeightFromBlkio(1000)).toBe(10000);
  });

  it('unlimited swap and no quota', () => {
    const r = ociResources(applyResourceFlags(emptyResources(), { memory: '64m', memorySwap: '-1', cpuQuota: '-1', cpuPeriod: '50000' }, HOST), dev);
    expect(v2Writes(r).map((w) => `${w.file}=${w.value}`)).toEqual([`memory.max=${64 * MiB}`, 'memory.swap.max=max', 'cpu.max=max 50000']);
  });
});

describe('stats arithmetic and units', () => {
  it('sums io.stat and blkio byte counters', () => {
    expect(ioStatBytes('8:0 rbytes=100 wbytes=50 rios=1 wios=1\n8:16 rbytes=1 wbytes=2\n')).toEqual({ read: 101, write: 52 });
    expect(blkioBytes('8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n')).toEqual({ read: 10, write: 20 });
  });

  it('prints sizes as Docker: binary for memory, three digits decimal for I/O', () => {
    expect(bytesSize(472 * 1024)).toBe('472KiB');
    expect(bytesSize(64 * MiB)).toBe('64MiB');
    expect(bytesSize(1.5 * MiB)).toBe('1.5MiB');
    expect(humanSize3(0)).toBe('0B');
    expect(humanSize3(1234)).toBe('1.23kB');
  });

  it('CPU % of one CPU: since the start for one sample, between samples when streaming', () => {
    const sample = (at: number, cpuNs: number): StatsSample => ({ record: {} as StatsSample['record'], running: true, at, startedAt: 0, counters: { cpuNs }, netRx: 0, netTx: 0 });
    expect(cpuPercent(sample(2000, 1e9), undefined)).toBe(50);
    expect(cpuPercent(sample(3000, 2e9), sample(2000, 1e9))).toBe(100);
  });
});

// --- where the cgroup goes ------------------------------------------------------

const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const V2_MOUNTINFO = `35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
`;
const SESSION = '/user.slice/user-1000.slice/session-2.scope';
const MANAGER = '/user.slice/user-1000.slice/user@1000.service';
const UNIT = `${MANAGER}/app.slice/app.service`;

describe('planContainerCgroup', () => {
  let tree: string;
  const id = 'c'.repeat(64);
  const cgdir = (rel: string, controllers: string) => {
    const dir = path.join(tree, 'sys/fs/cgroup', rel);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'cgroup.controllers'), controllers);
    for (const f of ['cgroup.procs', 'cgroup.subtree_control']) writeFileSync(path.join(dir, f), '');
    return dir;
  };
  const host = (uid: number, mountinfo: string, procCgroup: string, systemdManager: boolean): CgroupHost => ({
    uid,
    detection: detectCgroups({ mountinfo, procCgroup, uid, rootDir: tree }),
    systemdManager,
    rootDir: tree,
  });
  const limits = ociResources(applyResourceFlags(emptyResources(), { memory: '64m', cpusetCpus: '0' }, HOST), dev);

  beforeEach(() => {
    tree = mkdtempSync(path.join(os.tmpdir(), 'skiff-plan-'));
  });
  afterEach(() => rmSync(tree, { recursive: true, force: true }));

  it('root on a hybrid host: a directory per v1 controller, pause through the unified hierarchy', () => {
    cgdir('unified', 'hugetlb');
    const plan = planContainerCgroup(id, limits, { mode: 'enabled' }, host(0, HYBRID_MOUNTINFO, '0::/\n', false));
    expect(plan.cgroup).toEqual({
      kind: 'v2',
      dir: path.join(tree, 'sys/fs/cgroup/unified/skiff', id),
      manager: 'cgroupfs',
      v1: Object.fromEntries(['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio'].map((c) => [c, path.join(tree, 'sys/fs/cgroup', c, 'skiff', id)])),
    });
  });

  it('rootless on a hybrid host: no cgroup; a limit is refused with the reason', () => {
    cgdir('unified', 'hugetlb');
    const h = host(1000, HYBRID_MOUNTINFO, '0::/\n', false);
    expect(planContainerCgroup(id, {}, { mode: 'enabled' }, h).cgroup).toBeUndefined();
    expect(() => planContainerCgroup(id, limits, { mode: 'enabled' }, h)).toThrow(
      `--memory cannot be applied: cgroup v1 controllers cannot be delegated to an unprivileged user, and the cgroup v2 hierarchy at /sys/fs/cgroup/unified (controllers: hugetlb) is not delegated to you; run as root, or on a host with cgroup v2 and systemd`,
    );
  });

  it('rootless on v2 with a systemd user manager: a delegated scope, checked against what the manager was given', () => {
    cgdir('', 'cpuset cpu io memory pids');
    cgdir(SESSION, 'cpu memory pids');
    cgdir(MANAGER, 'cpu memory pids');
    const h = host(1000, V2_MOUNTINFO, `0::${SESSION}\n`, true);
    const plan = planContainerCgroup(id, ociResources(applyResourceFlags(emptyResources(), { memory: '64m' }, HOST), dev), { mode: 'enabled' }, h);
    expect(plan.cgroup).toEqual({ kind: 'v2', dir: '', manager: 'systemd', userScope: true, root: path.join(tree, 'sys/fs/cgroup') });
    // cpuset is not delegated by default.
    expect(() => planContainerCgroup(id, limits, { mode: 'enabled' }, h)).toThrow(
      `--cpuset-cpus cannot be applied: the cpuset controller is not available to your systemd user manager (it has: cpu memory pids); delegate it: a drop-in for user@.service with Delegate=cpu cpuset io memory pids (see docs/limits.md)`,
    );
    const start = prepareCgroupStart(id, 'web', plan.cgroup!, { memory: { limit: 64 * MiB } });
    expect(start.scope).toEqual({ socket: path.join(process.env['XDG_RUNTIME_DIR'] || `/run/user/${process.geteuid!()}`, 'systemd/private'), unit: `skiff-${id}.scope`, description: 'skiff container web' });
    expect(start.launch).toEqual({ split: { name: 'container', root: path.join(tree, 'sys/fs/cgroup'), enable: ['memory', '?cpu', '?io', '?pids'], writes: [{ file: 'memory.max', value: String(64 * MiB) }] } });
    // Device rules on cgroup v2: an eBPF program the helper attaches to the cgroup it makes.
    const rules = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c' as const, major: 1, minor: 3, access: 'rwm' }];
    const withDevices = prepareCgroupStart(id, 'web', plan.cgroup!, { devices: rules });
    expect(withDevices.launch.deviceFilter).toEqual(compileDeviceFilter(rules));
    expect(prepareCgroupStart(id, 'web', { ...plan.cgroup!, kind: 'v1-freezer', v1: { devices: '/d' } }, { devices: rules }).launch.deviceFilter).toBeUndefined();
  });

  it('--cgroups=split: the caller\'s own cgroup, when it is delegated; a second split finds the unit above "supervisor"', () => {
    cgdir('', 'cpu memory pids');
    cgdir(UNIT, 'cpu memory pids');
    // Delegated: the faked files belong to whoever runs the test.
    const me = process.getuid?.() ?? 0;
    const h = host(me, V2_MOUNTINFO, `0::${UNIT}\n`, true);
    expect(planContainerCgroup(id, {}, { mode: 'split' }, h).cgroup).toEqual({ kind: 'v2', dir: '', manager: 'split', root: path.join(tree, 'sys/fs/cgroup') });
    cgdir(`${UNIT}/supervisor`, '');
    const again = host(me, V2_MOUNTINFO, `0::${UNIT}/supervisor\n`, true);
    expect(planContainerCgroup(id, ociResources(applyResourceFlags(emptyResources(), { memory: '64m' }, HOST), dev), { mode: 'split' }, again).cgroup?.manager).toBe('split');
  });

  it('--cgroups=split where the caller\'s cgroup is not delegated: refused with the fix', () => {
    cgdir('', 'cpu memory pids');
    cgdir(SESSION, 'cpu memory pids');
    // The faked files belong to whoever runs the test: not delegated to anyone else.
    const other = host(4242, V2_MOUNTINFO, `0::${SESSION}\n`, true);
    expect(() => planContainerCgroup(id, {}, { mode: 'split' }, other)).toThrow(/^--cgroups=split needs a cgroup of your own to split, and your cgroup .* is not delegated to you: .* \(run it from a systemd unit with Delegate=yes; see docs\/limits.md\)$/);
  });

  it('--cgroups=disabled: no cgroup, and limits conflict', () => {
    const h = host(0, HYBRID_MOUNTINFO, '0::/\n', false);
    expect(planContainerCgroup(id, {}, { mode: 'disabled' }, h)).toEqual({ reason: 'it runs with --cgroups=disabled' });
    expect(() => planContainerCgroup(id, limits, { mode: 'disabled' }, h)).toThrow('--cgroups=disabled and --memory cannot be used together: limits need a cgroup');
  });
});
