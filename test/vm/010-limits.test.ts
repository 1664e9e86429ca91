// Rootless limits on cgroup v2 delegated by systemd (the VM tier): each
// container in a transient scope of the user's own systemd manager (the
// default where one runs), or a sub-cgroup of the caller's unit with
// --cgroups=split. Every limit is read back from the container's cgroup files
// or seen from inside it; OOM kills, update, stats, pause and exec too.
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { integrationEnv, modes, runSkiff } from '../integration/harness.js';

const mode = modes().find((m) => m.name === 'rootless')!;
const uid = process.getuid?.() ?? 0;
/** What a user's login gives: the runtime dir where systemd --user listens. */
const SESSION = { XDG_RUNTIME_DIR: `/run/user/${uid}` };
const HOG = `BEGIN{s="x"; while(1) s=s s}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function store(): Record<string, string> {
  return { ...SESSION, SKIFF_ROOT: mkdtempSync(path.join(integrationEnv().workDir, 'store-')) };
}

/** The v2 cgroup directory of a host pid. */
function cgroupOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!;
  return path.join('/sys/fs/cgroup', line.slice(3));
}

const read = (dir: string, file: string) => readFileSync(path.join(dir, file), 'utf8').trim();

describe('rootless limits through a systemd user scope', () => {
  const skiff = (env: Record<string, string>, args: string[]) => runSkiff(mode, args, { env });
  const pidOf = async (env: Record<string, string>, name: string) => Number((await skiff(env, ['inspect', '--format', '{{.State.Pid}}', name])).stdout);

  test('--memory: the container sits in skiff-ID.scope/container with memory.max; a hog is OOM-killed (137, OOMKilled)', async () => {
    const env = store();
    const d = await skiff(env, ['run', '-d', '--name', 'm', '--memory', '48m', '--rootfs', mode.rootfs, 'sleep', '60']);
    expect(d.stderr).toBe('');
    const id = d.stdout.trim();
    const dir = cgroupOf(await pidOf(env, 'm'));
    expect(dir).toMatch(new RegExp(`/user@${uid}\\.service/.*/skiff-${id}\\.scope/container$`));
    expect(read(dir, 'memory.max')).toBe(String(48 * 1024 * 1024));
    expect(read(dir, 'memory.swap.max')).toBe(String(48 * 1024 * 1024));
    // The helper (the monitor) is beside it, not in it: only the container's process counts.
    expect(readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(existsSync(path.join(path.dirname(dir), 'supervisor'))).toBe(true);
    await skiff(env, ['rm', '-f', 'm']);

    const hog = await skiff(env, ['run', '--name', 'hog', '--memory', '32m', '--memory-swap', '32m', '--rootfs', mode.rootfs, 'awk', HOG]);
    expect(hog.code).toBe(137);
    expect((await skiff(env, ['inspect', '--format', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'hog'])).stdout).toBe('true 137\n');
    expect((await skiff(env, ['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout).toMatch(/^hog Exited \(137\) .* ago \(OOM killed\)\n$/);
  });

  test('--pids-limit stops a fork bomb; exec\'d processes count against it', async () => {
    const env = store();
    const loop = 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); (sleep 5 &) 2>/dev/null || true; done; set -- /proc/[0-9]*; echo $#';
    const r = await skiff(env, ['run', '--rm', '--pids-limit', '8', '--rootfs', mode.rootfs, 'sh', '-c', loop]);
    expect(r.stderr).toBe('');
    expect(Number(r.stdout)).toBeGreaterThan(1);
    expect(Number(r.stdout)).toBeLessThanOrEqual(8);

    // sh runs the last command in its own place: two processes, the limit.
    await skiff(env, ['run', '-d', '--name', 'p', '--pids-limit', '2', '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 60 & sleep 60']);
    const dir = cgroupOf(await pidOf(env, 'p'));
    expect(read(dir, 'pids.max')).toBe('2');
    expect(read(dir, 'pids.current')).toBe('2');
    const exec = await skiff(env, ['exec', 'p', 'true']);
    expect(exec.code).not.toBe(0);
    await skiff(env, ['rm', '-f', 'p']);
  });

  test('--cpus throttles: cpu.max, throttled periods, and at most the quota of CPU time', async () => {
    const env = store();
    await skiff(env, ['run', '-d', '--name', 'spin', '--cpus', '0.2', '--rootfs', mode.rootfs, 'sh', '-c', 'while :; do :; done']);
    const dir = cgroupOf(await pidOf(env, 'spin'));
    expect(read(dir, 'cpu.max')).toBe('20000 100000');
    const usage = () => Number(/usage_usec (\d+)/.exec(read(dir, 'cpu.stat'))![1]);
    const before = usage();
    const t0 = Date.now();
    await sleep(3000);
    const used = (usage() - before) / 1000;
    const wall = Date.now() - t0;
    expect(Number(/nr_throttled (\d+)/.exec(read(dir, 'cpu.stat'))![1])).toBeGreaterThan(0);
    expect(used / wall).toBeLessThan(0.3);
    await skiff(env, ['rm', '-f', 'spin']);
  });

  test('--cpuset-cpus and --cpu-shares (delegated cpuset): seen from inside and in the files', async () => {
    const env = store();
    await skiff(env, ['run', '-d', '--name', 'cs', '--cpuset-cpus', '0', '--cpu-shares', '512', '--rootfs', mode.rootfs, 'sleep', '60']);
    const dir = cgroupOf(await pidOf(env, 'cs'));
    expect(read(dir, 'cpuset.cpus')).toBe('0');
    expect(read(dir, 'cpu.weight')).toBe('20');
    expect((await skiff(env, ['exec', 'cs', 'grep', 'Cpus_allowed_list', '/proc/self/status'])).stdout).toMatch(/^Cpus_allowed_list:\s+0\n$/);
    await skiff(env, ['rm', '-f', 'cs']);
  });

  test('update raises and lowers a running container\'s limits, and enables a controller it did not use', async () => {
    const env = store();
    await skiff(env, ['run', '-d', '--name', 'u', '--memory', '32m', '--rootfs', mode.rootfs, 'sleep', '60']);
    const dir = cgroupOf(await pidOf(env, 'u'));
    const r = await skiff(env, ['update', '--memory', '64m', '--pids-limit', '20', '--cpus', '0.5', 'u']);
    expect(r.stderr).toBe('');
    expect(read(dir, 'memory.max')).toBe(String(64 * 1024 * 1024));
    expect(read(dir, 'pids.max')).toBe('20');
    expect(read(dir, 'cpu.max')).toBe('50000 100000');
    expect((await skiff(env, ['inspect', '--format', '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}', 'u'])).stdout).toBe(`${64 * 1024 * 1024} 20\n`);
    await skiff(env, ['rm', '-f', 'u']);
  });

  test('stats --no-stream shows the limit, the use and the PIDs; pause freezes through the delegated cgroup; top lists it', async () => {
    const env = store();
    await skiff(env, ['run', '-d', '--name', 's', '--memory', '64m', '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 60 & while :; do :; done']);
    await sleep(1000);
    const json = JSON.parse((await skiff(env, ['stats', '--no-stream', '--format', 'json', 's'])).stdout) as Record<string, string>;
    expect(json['MemUsage']).toMatch(/^[\d.]+[KM]iB \/ 64MiB$/);
    expect(json['PIDs']).toBe('2');
    expect(Number(json['CPUPerc']!.replace('%', ''))).toBeGreaterThan(5);
    const dir = cgroupOf(await pidOf(env, 's'));
    expect((await skiff(env, ['pause', 's'])).stderr).toBe('');
    expect(read(dir, 'cgroup.events')).toMatch(/^frozen 1$/m);
    expect((await skiff(env, ['ps', '--format', '{{.Status}}'])).stdout).toMatch(/\(Paused\)/);
    expect((await skiff(env, ['unpause', 's'])).stderr).toBe('');
    expect(read(dir, 'cgroup.events')).toMatch(/^frozen 0$/m);
    const top = await skiff(env, ['top', 's', '-o', 'comm']);
    expect(top.stdout.split('\n').filter(Boolean).slice(1).sort()).toEqual(['sh', 'sleep']);
    await skiff(env, ['rm', '-f', 's']);
    // The scope is gone with the container.
    await sleep(500);
    expect(existsSync(path.dirname(dir))).toBe(false);
  });
});

describe('rootless limits in the caller\'s own cgroup (--cgroups=split)', () => {
  const skiff = (env: Record<string, string>, args: string[]) => runSkiff(mode, args, { env });

  test('the container gets a sibling of "supervisor" under the caller\'s cgroup, with its limits', async () => {
    const env = store();
    const mine = cgroupOf(process.pid);
    const unit = path.basename(mine) === 'supervisor' ? path.dirname(mine) : mine;
    const d = await skiff(env, ['run', '-d', '--name', 'sp', '--cgroups', 'split', '--memory', '40m', '--pids-limit', '9', '--rootfs', mode.rootfs, 'sleep', '60']);
    expect(d.stderr).toBe('');
    const id = d.stdout.trim();
    const pid = Number((await skiff(env, ['inspect', '--format', '{{.State.Pid}}', 'sp'])).stdout);
    expect(cgroupOf(pid)).toBe(path.join(unit, `skiff-${id}`));
    expect(read(cgroupOf(pid), 'memory.max')).toBe(String(40 * 1024 * 1024));
    expect(read(cgroupOf(pid), 'pids.max')).toBe('9');
    // Everything that was in the unit's cgroup now sits in "supervisor", this test included.
    expect(cgroupOf(process.pid)).toBe(path.join(unit, 'supervisor'));
    expect(readFileSync(path.join(unit, 'cgroup.procs'), 'utf8')).toBe('');
    await skiff(env, ['rm', '-f', 'sp']);
    expect(existsSync(path.join(unit, `skiff-${id}`))).toBe(false);
  });

  test('without a systemd user manager (no XDG_RUNTIME_DIR), a delegated caller\'s cgroup is split by default', async () => {
    const env = { SKIFF_ROOT: mkdtempSync(path.join(integrationEnv().workDir, 'store-')) };
    const r = await skiff(env, ['run', '--rm', '--memory', '40m', '--rootfs', mode.rootfs, 'cat', '/proc/self/cgroup']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0::/\n');
    expect(readdirSync(path.dirname(cgroupOf(process.pid))).filter((n) => n.startsWith('skiff-'))).toEqual([]);
  });
});
