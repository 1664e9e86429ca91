// Resource limits on this kind of host (cgroups v1 plus an empty v2, no
// systemd): root's limits through the v1 hierarchies, each checked from
// inside the container or from the cgroup's own files and counters; rlimits
// and the OOM score (no cgroup needed) in both modes; and the one-line
// refusal a rootless run gets here. The delegated v2 path is tested in the
// VM tier (test/vm/).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { NEEDS_ROOT, skipTitle } from '../skip.js';
import { chmodSync, chownSync, mkdtempSync } from 'node:fs';
import { allModes, integrationEnv, modes, runSkiff, until, type Mode, describeModes } from './harness.js';

function storeFor(mode: Mode): Record<string, string> {
  const dir = mkdtempSync(path.join(integrationEnv().workDir, 'store-'));
  chmodSync(dir, 0o700);
  if (mode.user) chownSync(dir, mode.user.uid, mode.user.gid);
  return { SKIFF_ROOT: dir };
}

/** The v1 hierarchy of a controller, where this host mounts one. */
function v1Mount(controller: string): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right?.startsWith('cgroup ')) continue;
    if (right.split(' ')[2]!.split(',').includes(controller)) return left!.split(' ')[4];
  }
  return undefined;
}

/** A container's directory in a v1 hierarchy, read from /proc/PID/cgroup as the host sees it. */
function v1Dir(pid: number, controller: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]!.split(',').includes(controller));
  return path.join(v1Mount(controller)!, line!.split(':')[2]!);
}

const root = modes().find((m) => m.name === 'root');
const rootless = modes().find((m) => m.name === 'rootless');
const v1Limits = ['memory', 'cpu', 'cpuacct', 'pids', 'cpuset', 'blkio'].every((c) => v1Mount(c) !== undefined);
const rootV1 = root !== undefined && v1Limits;
const hybridRootless = rootless !== undefined && v1Limits;
const HOG = `BEGIN{s="x"; while(1) s=s s}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!rootV1)(skipTitle('limits as root through cgroup v1', !root ? NEEDS_ROOT : !v1Limits ? 'this host has no cgroup v1 memory, cpu, cpuacct, pids, cpuset and blkio: run on a v1 or hybrid host' : undefined), () => {
  const mode = root!;
  const skiff = (env: Record<string, string>, args: string[]) => runSkiff(mode, args, { env });

  test('a memory hog over --memory is OOM-killed: exit 137, State.OOMKilled, ps says so', async () => {
    const env = storeFor(mode);
    const r = await skiff(env, ['run', '--name', 'hog', '--memory', '32m', '--rootfs', mode.rootfs, 'awk', HOG]);
    expect(r.code).toBe(137);
    const inspect = await skiff(env, ['inspect', '--format', '{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}', 'hog']);
    expect(inspect.stdout).toBe('true 137 33554432 67108864\n');
    expect((await skiff(env, ['ps', '-a', '--format', '{{.Status}}'])).stdout).toMatch(/^Exited \(137\) .* ago \(OOM killed\)\n$/);
    // The same under the monitor (run -d).
    const d = await skiff(env, ['run', '-d', '--name', 'hog2', '--memory', '32m', '--rootfs', mode.rootfs, 'awk', HOG]);
    expect(d.code).toBe(0);
    expect((await skiff(env, ['wait', 'hog2'])).stdout).toBe('137\n');
    expect((await skiff(env, ['inspect', '--format', '{{.State.OOMKilled}}', 'hog2'])).stdout).toBe('true\n');
    // A run that stays under its limit is not marked.
    await skiff(env, ['run', '--name', 'fine', '--memory', '32m', '--rootfs', mode.rootfs, 'true']);
    expect((await skiff(env, ['inspect', '--format', '{{.State.OOMKilled}}', 'fine'])).stdout).toBe('false\n');
  });

  test('--memory, --memory-swap, --memory-reservation, --pids-limit, --cpus, --cpu-shares and --cpuset-cpus reach the cgroup files', async () => {
    const env = storeFor(mode);
    const d = await skiff(env, [
      'run', '-d', '--name', 'lim', '--memory', '48m', '--memory-swap', '96m', '--memory-reservation', '16m', '--pids-limit', '25',
      '--cpus', '0.25', '--cpu-shares', '512', '--cpuset-cpus', '0', '--rootfs', mode.rootfs, 'sleep', '30',
    ]);
    expect(d.stderr).toBe('');
    const pid = Number((await skiff(env, ['inspect', '--format', '{{.State.Pid}}', 'lim'])).stdout);
    const file = (controller: string, name: string) => readFileSync(path.join(v1Dir(pid, controller), name), 'utf8').trim();
    expect(file('memory', 'memory.limit_in_bytes')).toBe(String(48 * 1024 * 1024));
    expect(file('memory', 'memory.soft_limit_in_bytes')).toBe(String(16 * 1024 * 1024));
    if (existsSync(path.join(v1Dir(pid, 'memory'), 'memory.memsw.limit_in_bytes'))) expect(file('memory', 'memory.memsw.limit_in_bytes')).toBe(String(96 * 1024 * 1024));
    expect(file('pids', 'pids.max')).toBe('25');
    expect(file('cpu', 'cpu.cfs_quota_us')).toBe('25000');
    expect(file('cpu', 'cpu.cfs_period_us')).toBe('100000');
    expect(file('cpu', 'cpu.shares')).toBe('512');
    expect(file('cpuset', 'cpuset.cpus')).toBe('0');
    // From inside: the kernel lets it run on CPU 0 only.
    const inside = await skiff(env, ['exec', 'lim', 'sh', '-c', 'grep Cpus_allowed_list /proc/self/status']);
    expect(inside.stdout).toMatch(/^Cpus_allowed_list:\s+0\n$/);
    await skiff(env, ['rm', '-f', 'lim']);
  });

  test('--pids-limit stops a fork bomb', async () => {
    const env = storeFor(mode);
    // 40 sleepers asked for, at most 8 processes allowed; counted by the shell's own glob (a fork would fail).
    const loop = 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); (sleep 3 &) 2>/dev/null || true; done; set -- /proc/[0-9]*; echo $#';
    const r = await skiff(env, ['run', '--rm', '--pids-limit', '8', '--rootfs', mode.rootfs, 'sh', '-c', loop]);
    expect(r.code).toBe(0);
    const count = Number(r.stdout.trim());
    expect(count).toBeGreaterThan(1);
    expect(count).toBeLessThanOrEqual(8);
  });

  test('--cpus throttles: the cgroup counts throttled periods and at most the quota of CPU time', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '--name', 'spin', '--cpus', '0.2', '--rootfs', mode.rootfs, 'sh', '-c', 'while :; do :; done']);
    const pid = Number((await skiff(env, ['inspect', '--format', '{{.State.Pid}}', 'spin'])).stdout);
    const usage = () => Number(readFileSync(path.join(v1Dir(pid, 'cpuacct'), 'cpuacct.usage'), 'utf8'));
    const before = usage();
    const t0 = process.hrtime.bigint();
    await sleep(1500);
    const used = usage() - before;
    const wall = Number(process.hrtime.bigint() - t0);
    const throttled = /nr_throttled (\d+)/.exec(readFileSync(path.join(v1Dir(pid, 'cpu'), 'cpu.stat'), 'utf8'))![1];
    await skiff(env, ['rm', '-f', 'spin']);
    expect(Number(throttled)).toBeGreaterThan(0);
    // 0.2 CPU over 1.5 s is 0.3 s; allow a period's slack, never a whole CPU.
    expect(used / wall).toBeLessThan(0.3);
  });

  test('update changes a running container\'s limits, in its cgroup and its record', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '--name', 'upd', '--memory', '32m', '--rootfs', mode.rootfs, 'sleep', '30']);
    const pid = Number((await skiff(env, ['inspect', '--format', '{{.State.Pid}}', 'upd'])).stdout);
    const u = await skiff(env, ['update', '--memory', '64m', '--pids-limit', '12', '--cpus', '0.5', 'upd']);
    expect(u.stderr).toBe('');
    expect(u.stdout).toBe('upd\n');
    expect(readFileSync(path.join(v1Dir(pid, 'memory'), 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(64 * 1024 * 1024));
    expect(readFileSync(path.join(v1Dir(pid, 'pids'), 'pids.max'), 'utf8').trim()).toBe('12');
    expect(readFileSync(path.join(v1Dir(pid, 'cpu'), 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000');
    expect((await skiff(env, ['inspect', '--format', '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}}', 'upd'])).stdout).toBe(`${64 * 1024 * 1024} 12 500000000\n`);
    // Lower again: memsw must follow the limit down.
    expect((await skiff(env, ['update', '--memory', '24m', 'upd'])).stderr).toBe('');
    expect(readFileSync(path.join(v1Dir(pid, 'memory'), 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(24 * 1024 * 1024));
    expect((await skiff(env, ['update', 'upd'])).stderr).toBe("Error: you must provide one or more flags when using this command (see 'skiff update --help')\n");
    // A stopped container keeps the new limits for its next start.
    await skiff(env, ['stop', '-t', '0', 'upd']);
    await skiff(env, ['update', '--memory', '40m', 'upd']);
    await skiff(env, ['start', 'upd']);
    const pid2 = Number((await skiff(env, ['inspect', '--format', '{{.State.Pid}}', 'upd'])).stdout);
    expect(readFileSync(path.join(v1Dir(pid2, 'memory'), 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(40 * 1024 * 1024));
    await skiff(env, ['rm', '-f', 'upd']);
  });

  test('stats --no-stream: Docker\'s columns; the limit, the PIDs and the CPU use of a busy container', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '--name', 'st', '--memory', '64m', '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 30 & while :; do :; done']);
    // Both processes are there, and the loop has run a while (CPU % is over a sampling interval).
    await until('two processes', async () => ((await skiff(env, ['stats', '--no-stream', '--format', '{{.PIDs}}', 'st'])).stdout === '2\n' ? true : undefined));
    await sleep(500);
    const table = await skiff(env, ['stats', '--no-stream']);
    const [header, row] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    expect(row).toMatch(/^[0-9a-f]{12}\s+st\s+\d+\.\d\d%\s+[\d.]+[KM]?i?B \/ 64MiB\s+\d+\.\d\d%\s+[\d.]+[kMG]?B \/ [\d.]+[kMG]?B\s+\S+ \/ \S+\s+2$/);
    const json = JSON.parse((await skiff(env, ['stats', '--no-stream', '--format', 'json', 'st'])).stdout) as Record<string, string>;
    expect(json['Name']).toBe('st');
    expect(json['PIDs']).toBe('2');
    expect(Number(json['CPUPerc']!.replace('%', ''))).toBeGreaterThan(10);
    expect((await skiff(env, ['stats', '--no-stream', '--format', '{{.Name}}: {{.MemUsage}}', 'st'])).stdout).toMatch(/^st: \S+ \/ 64MiB\n$/);
    await skiff(env, ['rm', '-f', 'st']);
  });

  test('--device-read-bps and --device-write-iops reach blkio throttling; a non-block device is refused', async () => {
    const env = storeFor(mode);
    const disk = readdirSync('/sys/block').find((d) => !d.startsWith('loop') && !d.startsWith('ram') && existsSync(`/dev/${d}`));
    if (disk) {
      const [major, minor] = readFileSync(`/sys/block/${disk}/dev`, 'utf8').trim().split(':');
      await skiff(env, ['run', '-d', '--name', 'io', '--device-read-bps', `/dev/${disk}:1mb`, '--device-write-iops', `/dev/${disk}:100`, '--rootfs', mode.rootfs, 'sleep', '30']);
      const pid = Number((await skiff(env, ['inspect', '--format', '{{.State.Pid}}', 'io'])).stdout);
      expect(readFileSync(path.join(v1Dir(pid, 'blkio'), 'blkio.throttle.read_bps_device'), 'utf8')).toBe(`${major}:${minor} 1048576\n`);
      expect(readFileSync(path.join(v1Dir(pid, 'blkio'), 'blkio.throttle.write_iops_device'), 'utf8')).toBe(`${major}:${minor} 100\n`);
      await skiff(env, ['rm', '-f', 'io']);
    }
    const bad = await skiff(env, ['run', '--rm', '--device-read-bps', '/dev/null:1mb', '--rootfs', mode.rootfs, 'true']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toBe('Error: /dev/null is not a block device (throttling needs one such as /dev/sda)\n');
  });

  test('--blkio-weight: applied where the blkio controller has weights, else refused by name', async () => {
    const env = storeFor(mode);
    const r = await skiff(env, ['run', '--rm', '--blkio-weight', '300', '--rootfs', mode.rootfs, 'true']);
    if (existsSync(path.join(v1Mount('blkio')!, 'blkio.weight'))) expect(r.code).toBe(0);
    else {
      expect(r.code).toBe(125);
      expect(r.stderr).toBe("Error: cannot set blkio.weight: this host's blkio controller has no such file: I/O weights need the BFQ I/O scheduler on the devices\n");
    }
  });
});

describeModes('limits without a cgroup ($name)', (mode) => {
  const skiff = (env: Record<string, string>, args: string[]) => runSkiff(mode, args, { env });

  test('--ulimit sets the rlimits; one above the caller\'s hard limit is refused rootless', async () => {
    const env = storeFor(mode);
    const r = await skiff(env, ['run', '--rm', '--ulimit', 'nofile=100:200', '--ulimit', 'nproc=50', '--rootfs', mode.rootfs, 'sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -u']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('100\n200\n50\n');
    // exec'd processes get them too.
    await skiff(env, ['run', '-d', '--name', 'ul', '--ulimit', 'nofile=64', '--rootfs', mode.rootfs, 'sleep', '30']);
    expect((await skiff(env, ['exec', 'ul', 'sh', '-c', 'ulimit -n'])).stdout).toBe('64\n');
    expect((await skiff(env, ['inspect', '--format', '{{json .HostConfig.Ulimits}}', 'ul'])).stdout).toBe('[{"Name":"nofile","Soft":64,"Hard":64}]\n');
    await skiff(env, ['rm', '-f', 'ul']);
    const bad = await skiff(env, ['run', '--rm', '--ulimit', 'nofile=10:5', '--rootfs', mode.rootfs, 'true']);
    expect(bad.stderr).toBe('Error: invalid --ulimit "nofile=10:5": the soft limit 10 is above the hard limit 5\n');
    if (mode.user) {
      const high = await skiff(env, ['run', '--rm', '--ulimit', 'nofile=100:99999999', '--rootfs', mode.rootfs, 'true']);
      expect(high.code).toBe(125);
      expect(high.stderr).toMatch(/^Error: --ulimit nofile: the hard limit 99999999 is above yours \(\d+\), and raising it needs CAP_SYS_RESOURCE on the host\n$/);
    }
  });

  test('--oom-score-adj: raised in both modes, lowered only with CAP_SYS_RESOURCE', async () => {
    const env = storeFor(mode);
    const r = await skiff(env, ['run', '--rm', '--oom-score-adj', '300', '--rootfs', mode.rootfs, 'cat', '/proc/self/oom_score_adj']);
    expect(r.stdout).toBe('300\n');
    const low = await skiff(env, ['run', '--rm', '--oom-score-adj', '-10', '--rootfs', mode.rootfs, 'cat', '/proc/self/oom_score_adj']);
    // Root without CAP_SYS_RESOURCE (some sandboxes) cannot lower it either.
    const capEff = BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
    if (mode.user || (capEff & (1n << 24n)) === 0n) {
      expect(low.code).toBe(125);
      expect(low.stderr).toMatch(/^Error: --oom-score-adj -10: setting it below the current value \(-?\d+\) needs CAP_SYS_RESOURCE on the host \(root\)\n$/);
    } else expect(low.stdout).toBe('-10\n');
  });

  test('bad values: one line, exit 125', async () => {
    const env = storeFor(mode);
    const cases: [string[], string][] = [
      [['--memory', '64q'], 'Error: invalid --memory "64q": expected a size such as 512k, 64m or 1g'],
      [['--memory', '1m'], 'Error: --memory 1m: the minimum memory limit is 6MB'],
      [['--memory', '64m', '--memory-swap', '32m'], 'Error: --memory-swap 32m is below --memory 64m: it is the total of memory and swap, so at least the memory limit (-1: unlimited swap)'],
      [['--memory-swap', '64m'], 'Error: --memory-swap needs --memory: the swap limit counts memory plus swap'],
      [['--cpus', '0.5', '--cpu-quota', '50000'], 'Error: conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set (--cpus N is --cpu-period 100000 --cpu-quota N*100000)'],
      [['--cpus', 'lots'], 'Error: invalid --cpus "lots": expected a number such as 0.5 or 2'],
      [['--cpuset-cpus', '0-999'], `Error: --cpuset-cpus 0-999: requested CPUs are not available - requested 0-999, available: ${readFileSync('/sys/devices/system/cpu/online', 'utf8').trim()}`],
      [['--pids-limit', 'x'], 'Error: invalid --pids-limit "x": expected a whole number'],
      [['--blkio-weight', '5'], 'Error: --blkio-weight 5: the range of blkio weight is from 10 to 1000 (0 disables it)'],
      [['--kernel-memory', '64m'], 'Error: --kernel-memory is obsolete: the kernel no longer limits kernel memory on its own (cgroup v2 counts it in --memory): use --memory'],
      [['--cgroups', 'disabled', '--memory', '64m'], 'Error: --cgroups=disabled and --memory cannot be used together: limits need a cgroup'],
      [['--cgroups', 'sometimes'], 'Error: invalid --cgroups "sometimes": use enabled, disabled, no-conmon or split'],
    ];
    for (const [flags, message] of cases) {
      const r = await skiff(env, ['run', '--rm', ...flags, '--rootfs', mode.rootfs, 'true']);
      expect({ flags, code: r.code, stderr: r.stderr }).toEqual({ flags, code: 125, stderr: `${message}\n` });
    }
    expect((await skiff(env, ['ps', '-a', '-q'])).stdout).toBe('');
  });

  test('--cgroups=disabled runs without a cgroup; pause then says why', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '--name', 'nocg', '--cgroups', 'disabled', '--rootfs', mode.rootfs, 'sleep', '30']);
    const pid = Number((await skiff(env, ['inspect', '--format', '{{.State.Pid}}', 'nocg'])).stdout);
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).not.toMatch(/skiff/);
    const p = await skiff(env, ['pause', 'nocg']);
    expect(p.stderr).toBe('Error: cannot pause nocg: it has no cgroup of its own, because it runs with --cgroups=disabled\n');
    const stats = await skiff(env, ['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'nocg']);
    expect(stats.stdout).toBe('nocg 1\n');
    await skiff(env, ['rm', '-f', 'nocg']);
  });
});

describe.skipIf(!hybridRootless)(skipTitle('limits refused rootless on a v1 or hybrid host', !rootless ? allModes().find((m) => m.name === 'rootless')!.skip : !v1Limits ? 'this host has no cgroup v1 controllers' : undefined), () => {
  const mode = rootless!;
  const skiff = (env: Record<string, string>, args: string[]) => runSkiff(mode, args, { env });
  const WHY =
    'cgroup v1 controllers cannot be delegated to an unprivileged user, and the cgroup v2 hierarchy at /sys/fs/cgroup/unified (controllers: hugetlb) is not delegated to you; ' +
    'run as root, or on a host with cgroup v2 and systemd (systemd.unified_cgroup_hierarchy=1) (see docs/limits.md)';

  test('a limit is refused with the reason and the fix; nothing is left behind; no limit runs', async () => {
    const env = storeFor(mode);
    for (const [flags, flag] of [[['--memory', '64m'], '--memory'], [['--pids-limit', '10'], '--pids-limit'], [['--cpus', '0.5'], '--cpus'], [['--cpuset-cpus', '0'], '--cpuset-cpus']] as const) {
      const r = await skiff(env, ['run', '--rm', ...flags, '--rootfs', mode.rootfs, 'true']);
      expect(r.code).toBe(125);
      const first = r.stderr.split('\n')[0]!;
      expect(first.startsWith(`Error: ${flag} cannot be applied: `)).toBe(true);
      if (readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() === 'hugetlb') expect(first).toBe(`Error: ${flag} cannot be applied: ${WHY}`);
    }
    expect((await skiff(env, ['ps', '-a', '-q'])).stdout).toBe('');
    const create = await skiff(env, ['create', '--memory', '64m', '--rootfs', mode.rootfs, 'true']);
    expect(create.code).toBe(125);
    expect((await skiff(env, ['ps', '-a', '-q'])).stdout).toBe('');
    const plain = await skiff(env, ['run', '--rm', '--rootfs', mode.rootfs, 'echo', 'ok']);
    expect(plain.stdout).toBe('ok\n');
  });

  test('update of a container without a cgroup is refused the same way', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '--name', 'u', '--rootfs', mode.rootfs, 'sleep', '30']);
    const r = await skiff(env, ['update', '--memory', '64m', 'u']);
    expect(r.code).toBe(125);
    expect(r.stderr.startsWith('Error: --memory cannot be applied: ')).toBe(true);
    await skiff(env, ['rm', '-f', 'u']);
  });
});
