// skiff info and skiff doctor on the real host, as root and as the test user.
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { runSkiff, describeModes } from './harness.js';

describeModes('info and doctor ($name)', (mode) => {
  test('info --format json reads the real host', async () => {
    const r = await runSkiff(mode, ['info', '--format', 'json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.Host.Kernel).toBe(execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
    expect(info.Host.Rootless).toBe(mode.name === 'rootless');
    if (mode.user) expect(info.Host.IDMappings.UIDMap[0]).toEqual({ ContainerID: 0, HostID: mode.user.uid, Size: 1 });
  });

  test('info --format takes a Go template', async () => {
    const r = await runSkiff(mode, ['info', '--format', '{{.Host.Os}}/{{.Host.Arch}}']);
    expect(r.stdout).toBe('linux/amd64\n');
  });

  test('an unknown template field is one clear line and 125', async () => {
    const r = await runSkiff(mode, ['info', '--format', '{{.Host.Nope}}']);
    expect(r.code).toBe(125);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/^Error: .*Nope/);
  });

  test('doctor --format json lists every check with a status', async () => {
    const r = await runSkiff(mode, ['doctor', '--format', 'json']);
    const checks = JSON.parse(r.stdout) as { Name: string; Status: string; Fix?: string }[];
    expect(checks.length).toBeGreaterThan(5);
    for (const c of checks) expect(['ok', 'warn', 'fail']).toContain(c.Status);
    // Every failing check says how to fix it; the exit code says whether any failed.
    for (const c of checks.filter((c) => c.Status === 'fail')) expect(c.Fix).toBeTruthy();
    expect(r.code).toBe(checks.some((c) => c.Status === 'fail') ? 1 : 0);
    if (mode.user) {
      const subuid = checks.find((c) => /subuid/.test(c.Name));
      expect(subuid?.Status).toBe('ok');
    }
  });
});
