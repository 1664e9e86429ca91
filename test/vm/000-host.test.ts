// The VM is the host it claims to be: cgroup v2 only, the test user's own
// systemd --user manager with a delegated subtree, and skiff runs rootless.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { integrationEnv, modes, runSkiff } from '../integration/harness.js';

const [rootless] = modes();

describe('the VM host', () => {
  it('has only the unified cgroup hierarchy, with the limit controllers', () => {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    expect(mounts).toMatch(/ \/sys\/fs\/cgroup .* - cgroup2 /);
    expect(mounts).not.toMatch(/ - cgroup /);
    expect(readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8')).toMatch(/\bmemory\b.*\bpids\b|\bpids\b.*\bmemory\b/);
  });

  it('runs these tests as the test user, in a service of its systemd --user manager', () => {
    expect(process.getuid?.()).not.toBe(0);
    const own = readFileSync('/proc/self/cgroup', 'utf8').trim();
    expect(own).toMatch(/^0::\/user\.slice\/user-\d+\.slice\/user@\d+\.service\//);
    // is-system-running exits non-zero unless "running"; its word is the state.
    const state = spawnSync('systemctl', ['--user', 'is-system-running'], { encoding: 'utf8' }).stdout.trim();
    expect(['running', 'degraded', 'starting']).toContain(state);
  });

  it('delegates the user manager\'s subtree: the user owns it and may use cpu, memory and pids', () => {
    const own = readFileSync('/proc/self/cgroup', 'utf8').trim().slice(3);
    const manager = own.slice(0, own.indexOf('.service/') + '.service'.length);
    const dir = `/sys/fs/cgroup${manager}`;
    expect(statSync(dir).uid).toBe(process.getuid?.());
    const controllers = readFileSync(`${dir}/cgroup.controllers`, 'utf8');
    for (const c of ['cpu', 'memory', 'pids']) expect(controllers.split(/\s+/)).toContain(c);
  });

  it('runs a rootless container', async () => {
    expect(rootless?.name).toBe('rootless');
    const r = await runSkiff(rootless!, ['run', '--rm', '--rootfs', rootless!.rootfs, 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^0\n\s+0\s+1000\s+1\n\s+1\s+100000\s+65536\n$/);
  });

  it('runs a rootless container from an image: overlay in a user namespace on this kernel (6.1: no lowerdir+, so mount(2))', async () => {
    const env = { env: { SKIFF_ROOT: mkdtempSync(path.join(integrationEnv().workDir, 'store-')) } };
    const tar = spawnSync('tar', ['-C', rootless!.rootfs, '-c', '.'], { maxBuffer: 1 << 28 });
    const imported = await runSkiff(rootless!, ['import', '-', 'vm-busybox'], { ...env, input: tar.stdout });
    expect(imported.code).toBe(0);
    const r = await runSkiff(rootless!, ['run', '--rm', '--network', 'none', 'vm-busybox', 'sh', '-c', 'echo hi > /new && cat /new && grep " / " /proc/self/mounts'], env);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^hi\noverlay \/ overlay .*userxattr/);
    // The layer's files belong to sub-IDs: skiff removes them, the suite's end could not.
    expect((await runSkiff(rootless!, ['rmi', 'vm-busybox'], env)).code).toBe(0);
  });
});
