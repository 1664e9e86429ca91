// Healthchecks (docs/user-guide.md "Healthchecks"): --health-* flags, the
// image's HEALTHCHECK (built with skiff build), the monitor's timer, `skiff
// healthcheck run`, inspect's .State.Health, ps's STATUS and health= filter,
// health_status events, --health-on-failure, and no process left behind.
// Real helper, root and rootless; short intervals, every wait bounded.
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { expect, test } from 'vitest';
import { collect, defaultStore, describeModes, expectOneLine, integrationEnv, runSkiff, spawnSkiff, until } from './harness.js';

interface HealthLog {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}
interface Health {
  Status: string;
  FailingStreak: number;
  Log: HealthLog[] | null;
}

/** Processes whose command line contains `text` (host-wide, as ps would list them). */
function processesWith(text: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      continue;
    }
    if (cmdline.includes(text)) found.push(`${entry} ${cmdline}`);
  }
  return found;
}

/** The command lines of a process's children. */
function childrenOf(pid: number): string[] {
  return processesWith('').filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p.split(' ')[0]}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
}

describeModes('healthchecks ($name)', (mode) => {
  const skiff = (args: string[]) => runSkiff(mode, args);
  const run = async (args: string[]): Promise<string> => {
    const r = await skiff(['run', '-d', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  const health = async (ref: string): Promise<Health> => {
    const r = await skiff(['inspect', '--format', '{{json .State.Health}}', ref]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Health;
  };
  const status = async (ref: string): Promise<string> => {
    const id = (await skiff(['inspect', '--format', '{{.Id}}', ref])).stdout.trim();
    return (await skiff(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Status}}'])).stdout.trim();
  };
  const healthOf = (ref: string, want: string, timeoutMs = 15_000) =>
    until(`${ref} ${want}`, async () => ((await health(ref)).Status === want ? true : undefined), timeoutMs);

  test('a passing check makes the container healthy: inspect, ps STATUS, ps --filter health=, health_status events', async () => {
    const id = await run(['--name', 'hc-pass', '--health-cmd', 'echo fine; test -e /tmp/ready', '--health-interval', '500ms', '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 2.5; touch /tmp/ready; sleep 60']);
    // No result yet: starting, as Docker shows it.
    expect(await status(id)).toMatch(/^Up .* \(starting\)$/);
    // wait --condition healthy (Podman's) blocks until the check passes, then prints -1.
    expect(await skiff(['wait', '--condition', 'healthy', '--interval', '100ms', id])).toMatchObject({ code: 0, stdout: '-1\n', stderr: '' });
    await healthOf(id, 'healthy');
    const h = await health(id);
    expect(h.FailingStreak).toBe(0);
    const last = h.Log!.at(-1)!;
    expect(last).toMatchObject({ ExitCode: 0, Output: 'fine\n' });
    expect(Date.parse(last.End)).toBeGreaterThanOrEqual(Date.parse(last.Start));
    expect(await status(id)).toMatch(/^Up .* \(healthy\)$/);
    const names = async (filter: string) => (await skiff(['ps', '-a', '--filter', filter, '--format', '{{.Names}}'])).stdout.trim();
    expect(await names('health=healthy')).toBe('hc-pass');
    expect(await names('health=unhealthy')).toBe('');
    const bad = await skiff(['ps', '--filter', 'health=sick']);
    expectOneLine(bad, 125, /invalid filter 'health=sick'/);
    // inspect's Config.Healthcheck: what runs, Docker's defaults filled in (nanoseconds).
    const cfg = JSON.parse((await skiff(['inspect', '--format', '{{json .Config.Healthcheck}}', id])).stdout) as Record<string, unknown>;
    expect(cfg).toEqual({ Test: ['CMD-SHELL', 'echo fine; test -e /tmp/ready'], Interval: 5e8, Timeout: 30e9, StartPeriod: 0, StartInterval: 5e9, Retries: 3 });
    // Podman's event: health_status with the health after the check.
    const events = (await skiff(['events', '--stream=false', '--filter', 'event=health_status', '--filter', `container=${id}`, '--format', 'json'])).stdout.trim().split('\n');
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(events.at(-1)!)).toMatchObject({ ID: id, Name: 'hc-pass', Status: 'health_status', HealthStatus: 'healthy', Type: 'container' });
    const human = (await skiff(['events', '--stream=false', '--filter', 'event=health_status', '--filter', `container=${id}`])).stdout.trim().split('\n');
    expect(human.at(-1)).toMatch(new RegExp(`container health_status ${id} \\(image=, name=hc-pass, health_status=healthy\\)$`));
    await skiff(['rm', '-f', id]);
  });

  test('a failing check makes it unhealthy after --health-retries consecutive failures', async () => {
    const id = await run(['--health-cmd', 'echo nope >&2; exit 3', '--health-interval', '500ms', '--health-retries', '2', '--rootfs', mode.rootfs, 'sleep', '60']);
    await until('the first failure', async () => ((await health(id)).FailingStreak >= 1 ? true : undefined), 15_000);
    // One failure of two: not unhealthy yet.
    const first = await health(id);
    if (first.FailingStreak === 1) expect(first.Status).toBe('starting');
    await healthOf(id, 'unhealthy');
    const h = await health(id);
    expect(h.FailingStreak).toBeGreaterThanOrEqual(2);
    expect(h.Log!.at(-1)).toMatchObject({ ExitCode: 3, Output: 'nope\n' });
    expect(await status(id)).toMatch(/^Up .* \(unhealthy\)$/);
    expect((await skiff(['ps', '--filter', 'health=unhealthy', '--format', '{{.ID}}'])).stdout.trim()).toBe(id.slice(0, 12));
    // The log keeps the last five results, as Docker's and Podman's do.
    await until('six results', async () => ((await health(id)).FailingStreak >= 6 ? true : undefined), 20_000);
    expect((await health(id)).Log).toHaveLength(5);
    await skiff(['rm', '-f', id]);
  }, 40_000);

  test('failures within --health-start-period do not count until a check passes', async () => {
    const id = await run(['--health-cmd', 'false', '--health-interval', '500ms', '--health-start-interval', '500ms', '--health-start-period', '60s', '--health-retries', '1', '--rootfs', mode.rootfs, 'sleep', '60']);
    await until('three failed checks', async () => ((await health(id)).Log?.length ?? 0) >= 3 ? true : undefined, 15_000);
    const h = await health(id);
    expect(h).toMatchObject({ Status: 'starting', FailingStreak: 0 });
    expect(h.Log!.every((l) => l.ExitCode === 1)).toBe(true);
    // Without the start period the first failure is enough (retries 1).
    const plain = await run(['--health-cmd', 'false', '--health-interval', '500ms', '--health-retries', '1', '--rootfs', mode.rootfs, 'sleep', '60']);
    await healthOf(plain, 'unhealthy');
    await skiff(['rm', '-f', id, plain]);
  });

  test('a check that runs past --health-timeout is killed, with what its shell forked, and counts as failed', async () => {
    // By hand (no timer), so that no next check can be running when the test looks.
    const id = await run(['--health-cmd', 'sleep 43; true', '--health-timeout', '500ms', '--health-interval', 'disable', '--health-retries', '1', '--rootfs', mode.rootfs, 'sleep', '60']);
    const r = await skiff(['healthcheck', 'run', id]);
    expect([r.code, r.stdout]).toEqual([1, 'unhealthy\n']);
    const h = await health(id);
    expect(h.Status).toBe('unhealthy');
    const last = h.Log!.at(-1)!;
    expect(last).toMatchObject({ ExitCode: -1, Output: 'Health check exceeded timeout (500ms)' });
    expect(Date.parse(last.End) - Date.parse(last.Start)).toBeLessThan(5000);
    // The shell and the sleep it forked (its process group) are gone, not left running in the container.
    expect(processesWith('sleep 43')).toEqual([]);
    // A check that leaves a process behind holding its output ends with its command, not with that process.
    const bg = await run(['--health-cmd', 'sleep 41 & echo started', '--health-interval', 'disable', '--rootfs', mode.rootfs, 'sleep', '60']);
    const passed = await skiff(['healthcheck', 'run', bg]);
    expect([passed.code, passed.stdout]).toEqual([0, '']);
    const entry = (await health(bg)).Log!.at(-1)!;
    expect(entry).toMatchObject({ ExitCode: 0, Output: 'started\n' });
    expect(Date.parse(entry.End) - Date.parse(entry.Start)).toBeLessThan(20_000);
    await skiff(['rm', '-f', id, bg]);
  });

  test('skiff healthcheck run: exit 0 healthy, 1 and "unhealthy" when the check fails, 125 for errors', async () => {
    // --health-interval disable (Podman's): no timer, checks only on demand.
    const id = await run(['--name', 'hc-manual', '--health-cmd', '["/bin/sh", "-c", "test ! -e /tmp/broken"]', '--health-interval', 'disable', '--health-retries', '1', '--rootfs', mode.rootfs, 'sleep', '60']);
    expect(await health(id)).toEqual({ Status: 'starting', FailingStreak: 0, Log: [] });
    const ok = await skiff(['healthcheck', 'run', 'hc-manual']);
    expect([ok.code, ok.stdout, ok.stderr]).toEqual([0, '', '']);
    expect((await health(id)).Status).toBe('healthy');
    expect((await skiff(['exec', id, 'touch', '/tmp/broken'])).code).toBe(0);
    const failed = await skiff(['healthcheck', 'run', 'hc-manual']);
    expect([failed.code, failed.stdout, failed.stderr]).toEqual([1, 'unhealthy\n', '']);
    expect((await health(id)).Status).toBe('unhealthy');
    expect((await skiff(['healthcheck', 'run', '--ignore-result', 'hc-manual'])).code).toBe(0);
    // Several at once: every result recorded, the file whole.
    const many = await Promise.all(Array.from({ length: 4 }, () => skiff(['healthcheck', 'run', 'hc-manual'])));
    expect(many.map((r) => r.code)).toEqual([1, 1, 1, 1]);
    expect((await health(id)).FailingStreak).toBe(6);

    // The fold waits for the health lock (held here as another check would hold it): the result is added after, not lost.
    const lockPath = path.join(defaultStore(mode), 'containers', id, 'health.lock');
    // -o: flock(1) holds the lock itself, not the sleep under it.
    const holder = spawn('flock', ['-x', '-o', lockPath, 'sleep', '30'], { stdio: 'ignore' });
    await until('the lock held', () => (childrenOf(holder.pid!).length > 0 ? true : undefined));
    const checker = spawnSkiff(mode, ['healthcheck', 'run', 'hc-manual']);
    const waiting = collect(checker);
    // Its check has run; it waits in flock(1) for the lock.
    await until('the result waiting for the lock', () => (childrenOf(checker.pid!).some((c) => c.includes('flock --exclusive')) ? true : undefined));
    expect((await health(id)).FailingStreak).toBe(6);
    for (const c of childrenOf(holder.pid!)) process.kill(Number(c.split(' ')[0]), 'SIGKILL');
    holder.kill('SIGKILL');
    expect((await waiting).code).toBe(1);
    expect((await health(id)).FailingStreak).toBe(7);

    expectOneLine(await skiff(['healthcheck', 'run', 'no-such-ctr']), 125, /no such container/i);
    const plain = await run(['--name', 'hc-none', '--rootfs', mode.rootfs, 'sleep', '60']);
    expectOneLine(await skiff(['healthcheck', 'run', 'hc-none']), 125, /container hc-none has no defined healthcheck/);
    expectOneLine(await skiff(['wait', '--condition', 'healthy', 'hc-none']), 125, /container hc-none has no healthcheck to wait for/);
    expect(await health(plain)).toEqual({ Status: '', FailingStreak: 0, Log: null });
    await skiff(['stop', '-t', '0', 'hc-manual']);
    expectOneLine(await skiff(['healthcheck', 'run', 'hc-manual']), 125, /container hc-manual is not running/);
    expect(await status(id)).toMatch(/^Exited /);
    await skiff(['rm', '-f', id, plain]);
  });

  test('--health-on-failure=kill and =stop end an unhealthy container, =restart starts it again', async () => {
    const killed = await run(['--health-cmd', 'false', '--health-interval', '500ms', '--health-retries', '1', '--health-on-failure', 'kill', '--rootfs', mode.rootfs, 'sleep', '60']);
    // PID 1 that ends on the stop signal (a plain `sleep` as PID 1 ignores SIGTERM).
    const stopped = await run(['--health-cmd', 'false', '--health-interval', '500ms', '--health-retries', '1', '--health-on-failure', 'stop', '--rootfs', mode.rootfs, 'sh', '-c', 'trap "exit 0" TERM; sleep 60 & wait']);
    expect((await skiff(['inspect', '--format', '{{.Config.HealthcheckOnFailureAction}}', killed])).stdout).toBe('kill\n');
    for (const [id, code] of [[killed, '137'], [stopped, '0']] as const) {
      await until(`${id} ended`, async () => ((await skiff(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id])).stdout.trim() === `exited ${code}` ? true : undefined), 20_000);
    }
    // restart: a new start (its health begins again at starting), Podman's restart event.
    const restarted = await run(['--health-cmd', 'false', '--health-interval', '500ms', '--health-retries', '1', '--health-on-failure', 'restart', '--rootfs', mode.rootfs, 'sh', '-c', 'trap "exit 0" TERM; sleep 60 & wait']);
    const firstStart = (await skiff(['inspect', '--format', '{{.State.StartedAt}}', restarted])).stdout;
    await until('a restart event', async () => ((await skiff(['events', '--stream=false', '--filter', 'event=restart', '--filter', `container=${restarted}`])).stdout.includes(restarted) ? true : undefined), 20_000);
    expect((await skiff(['inspect', '--format', '{{.State.StartedAt}}', restarted])).stdout).not.toBe(firstStart);
    await skiff(['rm', '-f', restarted]);
    // Stopped as asked: the restart policy would not bring it back; nothing of either is left.
    await until('no check or action left', () => (processesWith(killed).length + processesWith(stopped).length === 0 ? true : undefined));
    await skiff(['rm', '-f', killed, stopped]);
  }, 40_000);

  test('a foreground run keeps the timer too; its end, or skiff killed by SIGKILL, leaves no check behind', async () => {
    const fg = spawnSkiff(mode, ['run', '--name', 'hc-fg', '--health-cmd', 'true', '--health-interval', '1s', '--rootfs', mode.rootfs, 'sh', '-c', 'echo up; sleep 60']);
    const done = collect(fg);
    await until('hc-fg healthy', async () => ((await status('hc-fg')).endsWith('(healthy)') ? true : undefined), 15_000);
    expect((await health('hc-fg')).Log!.at(-1)).toMatchObject({ ExitCode: 0 });
    await skiff(['stop', '-t', '0', 'hc-fg']);
    await done;
    const id = (await skiff(['inspect', '--format', '{{.Id}}', 'hc-fg'])).stdout.trim();
    await until('no check of hc-fg left', () => (processesWith(`healthcheck run ${id}`).length === 0 ? true : undefined));
    await skiff(['rm', '-f', 'hc-fg']);

    const killed = spawnSkiff(mode, ['run', '--name', 'hc-fg9', '--health-cmd', 'sleep 53', '--health-interval', '1s', '--health-timeout', '60s', '--rootfs', mode.rootfs, 'sleep', '60']);
    const ended = collect(killed);
    await until('a check of hc-fg9 running', () => (processesWith('sleep 53').length > 0 ? true : undefined));
    killed.kill('SIGKILL');
    await ended;
    // skiff (setpriv execs it) is gone: its helper, the container and the check follow (parent-death signals).
    await until('nothing of hc-fg9 left', () => (processesWith('sleep 53').length + processesWith('--name hc-fg9').length === 0 ? true : undefined));
    await skiff(['rm', '-f', 'hc-fg9']);
  });

  test('no process is left behind: rm -f during a check, kill -9 of the monitor, kill -9 of the check', async () => {
    for (const end of ['rm -f', 'kill -9 of the monitor', 'kill -9 of skiff healthcheck run'] as const) {
      const id = await run(['--health-cmd', 'sleep 47', '--health-interval', '1s', '--health-timeout', '60s', '--rootfs', mode.rootfs, 'sleep', '60']);
      await until(`a check running (${end})`, () => (processesWith('sleep 47').length > 0 && processesWith(`healthcheck run ${id}`).length > 0 ? true : undefined), 30_000);
      if (end === 'rm -f') {
        expect((await skiff(['rm', '-f', id])).code).toBe(0);
      } else if (end === 'kill -9 of skiff healthcheck run') {
        for (const p of processesWith(`healthcheck run ${id}`)) process.kill(Number(p.split(' ')[0]), 'SIGKILL');
        // The check in the container dies with it; the container runs on.
        await until('the check gone', () => (processesWith('sleep 47').length === 0 ? true : undefined));
        expect(await status(id)).toMatch(/^Up /);
        await skiff(['rm', '-f', id]);
      } else {
        const { MonitorPid } = JSON.parse(readFileSync(path.join(defaultStore(mode), 'containers', id, 'pid.json'), 'utf8')) as { MonitorPid: number };
        process.kill(MonitorPid, 'SIGKILL');
      }
      await until(`nothing left after ${end}`, () => (processesWith('sleep 47').length + processesWith(`healthcheck run ${id}`).length === 0 ? true : undefined));
      await skiff(['rm', '-f', id]);
    }
  }, 40_000);

  test("--no-healthcheck over an image's HEALTHCHECK built with skiff build; flags override its fields", async () => {
    const ctx = mkdtempSync(path.join(integrationEnv().workDir, 'hc-ctx-'));
    cpSync(mode.rootfs, path.join(ctx, 'root'), { recursive: true, verbatimSymlinks: true });
    writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY root/ /\nHEALTHCHECK --interval=1s --retries=1 CMD test -e /tmp/ok || exit 1\n');
    if (mode.user) execFileSync('chown', ['-R', `${mode.user.uid}:${mode.user.gid}`, ctx]);
    const built = await skiff(['build', '-q', '-t', 'hcimage', ctx]);
    expect(built.code, built.stderr).toBe(0);
    const fromImage = await run(['hcimage', 'sleep', '60']);
    expect(JSON.parse((await skiff(['inspect', '--format', '{{json .Config.Healthcheck}}', fromImage])).stdout)).toMatchObject({ Test: ['CMD-SHELL', 'test -e /tmp/ok || exit 1'], Interval: 1e9, Retries: 1 });
    await healthOf(fromImage, 'unhealthy');
    const off = await run(['--no-healthcheck', 'hcimage', 'sleep', '60']);
    const offConfig = (JSON.parse((await skiff(['inspect', off])).stdout) as { Config: Record<string, unknown> }[])[0]!.Config;
    expect(offConfig['Healthcheck']).toBeUndefined();
    expect(await status(off)).toMatch(/^Up [^(]*$/);
    expectOneLine(await skiff(['healthcheck', 'run', off]), 125, /has no defined healthcheck/);
    // --health-cmd replaces the image's test; its interval and retries stay.
    const over = await run(['--health-cmd', 'true', 'hcimage', 'sleep', '60']);
    await healthOf(over, 'healthy');
    expect(JSON.parse((await skiff(['inspect', '--format', '{{json .Config.Healthcheck}}', over])).stdout)).toMatchObject({ Test: ['CMD-SHELL', 'true'], Interval: 1e9, Retries: 1 });
    // commit keeps the healthcheck the container runs with, as Docker's does; --no-healthcheck's is NONE.
    const imageCheck = async (ref: string) => JSON.parse((await skiff(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', ref])).stdout) as Record<string, unknown>;
    expect((await skiff(['commit', over, 'hc-over'])).code).toBe(0);
    expect(await imageCheck('hc-over')).toMatchObject({ Test: ['CMD-SHELL', 'true'], Interval: 1e9, Retries: 1 });
    expect((await skiff(['commit', off, 'hc-off'])).code).toBe(0);
    expect(await imageCheck('hc-off')).toEqual({ Test: ['NONE'] });
    await skiff(['rm', '-f', fromImage, off, over]);
    await skiff(['rmi', 'hc-over', 'hc-off']);
  }, 60_000);

  test('bad healthcheck flags: one line, exit 125, nothing created', async () => {
    const before = (await skiff(['ps', '-a', '-q'])).stdout;
    expectOneLine(await skiff(['run', '-d', '--health-interval', 'soon', '--health-cmd', 'true', '--rootfs', mode.rootfs, 'true']), 125, /invalid duration "soon" for --health-interval/);
    expectOneLine(await skiff(['create', '--no-healthcheck', '--health-cmd', 'true', '--rootfs', mode.rootfs, 'true']), 125, /--no-healthcheck conflicts with --health-\* options/);
    expectOneLine(await skiff(['run', '-d', '--health-retries', '-1', '--health-cmd', 'true', '--rootfs', mode.rootfs, 'true']), 125, /--health-retries cannot be negative/);
    expectOneLine(await skiff(['run', '-d', '--health-on-failure', 'panic', '--health-cmd', 'true', '--rootfs', mode.rootfs, 'true']), 125, /invalid --health-on-failure "panic"/);
    expect((await skiff(['ps', '-a', '-q'])).stdout).toBe(before);
  });
});

