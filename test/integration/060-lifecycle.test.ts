// The daemonless lifecycle of --rootfs containers: run -d, ps, logs, stop,
// kill, rm, wait, start -a, attach, restart policies, --rm, a killed monitor,
// and parallel runs. As root and as the unprivileged test user, each test with
// its own store (SKIFF_ROOT).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, chmodSync, chownSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { NEEDS_ROOT, skipTitle } from '../skip.js';
import { asModeUser, cgroupOutcome, cleanEnv, collect, skiffBin, until, integrationEnv, runSkiff, spawnSkiff, waitForOutput, type Mode, describeModes } from './harness.js';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// strace stops a create at a precise point: its first rename(2), the container's directory moved into place.
const strace = spawnSync('strace', ['-V']).status === 0;

function storeFor(mode: Mode): Record<string, string> {
  const dir = mkdtempSync(path.join(integrationEnv().workDir, 'store-'));
  chmodSync(dir, 0o700);
  if (mode.user) chownSync(dir, mode.user.uid, mode.user.gid);
  return { SKIFF_ROOT: dir };
}


describeModes('container lifecycle ($name)', (mode) => {
  const skiff = (env: Record<string, string>, args: string[], input?: string) => runSkiff(mode, args, { env, input });
  // "started" is printed once the trap is set: a test that waits for it knows TERM is handled.
  const LOOP = 'trap "echo got-TERM; exit 0" TERM; echo started; while :; do sleep 0.05; done';

  test('run -d, ps, logs, stop, rm', async () => {
    const env = storeFor(mode);
    const started = await skiff(env, ['run', '-d', '--name', 'web', '--rootfs', mode.rootfs, 'sh', '-c', LOOP]);
    expect(started.stderr).toBe('');
    expect(started.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const id = started.stdout.trim();

    const ps = await skiff(env, ['ps']);
    const [header, row] = ps.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(row).toMatch(new RegExp(`^${id.slice(0, 12)}\\s.*Up .*\\sweb$`));

    await until('the first log line', async () => ((await skiff(env, ['logs', 'web'])).stdout === 'started\n' ? true : undefined));
    const stop = await skiff(env, ['stop', 'web']);
    expect(stop.stdout).toBe('web\n');
    expect((await skiff(env, ['logs', 'web'])).stdout).toBe('started\ngot-TERM\n');
    const status = await skiff(env, ['container', 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}} {{.Name}}', id.slice(0, 8)]);
    expect(status.stdout).toBe('exited 0 /web\n');
    expect((await skiff(env, ['ps', '-q'])).stdout).toBe('');
    expect((await skiff(env, ['ps', '-a', '-q', '--no-trunc'])).stdout).toBe(`${id}\n`);
    expect((await skiff(env, ['rm', 'web'])).stdout).toBe('web\n');
    expect((await skiff(env, ['ps', '-a', '-q'])).stdout).toBe('');
  });

  test('logs -f follows a live container and ends when it exits; -t and --tail', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '--name', 'counter', '--rootfs', mode.rootfs, 'sh', '-c', 'for i in 1 2 3 4 5; do echo line-$i; sleep 0.2; done; echo err >&2']);
    const follow = await skiff(env, ['logs', '-f', 'counter']);
    expect(follow.stdout).toBe('line-1\nline-2\nline-3\nline-4\nline-5\n');
    expect(follow.stderr).toBe('err\n');
    const future = await skiff(env, ['logs', '--since', new Date(Date.now() + 60_000).toISOString(), 'counter']);
    expect([future.stdout, future.stderr]).toEqual(['', '']);
    expect((await skiff(env, ['logs', '--since', '10m', 'counter'])).stdout).toBe('line-1\nline-2\nline-3\nline-4\nline-5\n');
    expect((await skiff(env, ['logs', '--until', '10m', 'counter'])).stdout).toBe('');
    const third = (await skiff(env, ['logs', '-t', 'counter'])).stdout.split('\n')[2]!.split(' ')[0]!;
    expect((await skiff(env, ['logs', '--until', third, 'counter'])).stdout).toBe('line-1\nline-2\n');
    const badSince = await skiff(env, ['logs', '--since', 'yesterday', 'counter']);
    expect([badSince.code, badSince.stderr]).toEqual([125, 'Error: invalid value for --since: "yesterday": use RFC 3339, a Unix time, or a duration like 10m\n']);
    const tail = await skiff(env, ['logs', '--tail', '2', '-t', 'counter']);
    expect(tail.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z line-5\n$/);
    expect(tail.stderr).toMatch(/Z err\n$/);
    // Several containers (Podman's): each line after the short id, or the name with --names; -f follows all.
    await skiff(env, ['run', '--name', 'second', '--rootfs', mode.rootfs, 'echo', 'two']);
    const ids = await Promise.all(['counter', 'second'].map(async (n) => (await skiff(env, ['inspect', '--format', '{{.Id}}', n])).stdout.trim().slice(0, 12)));
    expect(await skiff(env, ['logs', '--tail', '2', 'counter', 'second'])).toMatchObject({ code: 0, stdout: `${ids[0]} line-5\n${ids[1]} two\n`, stderr: `${ids[0]} err\n` });
    expect((await skiff(env, ['logs', '-f', '--names', 'second', 'counter'])).stdout).toBe('second two\n' + [1, 2, 3, 4, 5].map((i) => `counter line-${i}\n`).join(''));
    expect(await skiff(env, ['logs', 'counter', 'nosuch'])).toMatchObject({ code: 125, stdout: '', stderr: 'Error: no such container: nosuch\n' });
  });

  test('wait and exit codes; kill -s; start -a', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '--name', 'three', '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 0.3; exit 3']);
    expect((await skiff(env, ['wait', 'three'])).stdout).toBe('3\n');

    await skiff(env, ['run', '-d', '--name', 'victim', '--rootfs', mode.rootfs, 'sh', '-c', 'trap "exit 42" USR1; echo trapped; while :; do sleep 0.05; done']);
    await until('the USR1 trap', async () => ((await skiff(env, ['logs', 'victim'])).stdout === 'trapped\n' ? true : undefined));
    expect((await skiff(env, ['kill', '-s', 'USR1', 'victim'])).code).toBe(0);
    expect((await skiff(env, ['wait', 'victim'])).stdout).toBe('42\n');
    const again = await skiff(env, ['kill', 'victim']);
    expect(again.code).toBe(125);
    expect(again.stderr).toMatch(/is not running\n$/);

    const created = await skiff(env, ['create', '--name', 'later', '--rootfs', mode.rootfs, 'sh', '-c', 'echo from-start; exit 7']);
    expect(created.code).toBe(0);
    expect((await skiff(env, ['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout).toContain('later Created\n');
    const attached = await skiff(env, ['start', '-a', 'later']);
    expect(attached.stdout).toBe('from-start\n');
    expect(attached.code).toBe(7);
  });

  test('a non-root container process is signalled inside its user namespace', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '-u', 'app', '--name', 'app', '--rootfs', mode.rootfs, 'sh', '-c', LOOP]);
    await until('the TERM trap', async () => ((await skiff(env, ['logs', 'app'])).stdout === 'started\n' ? true : undefined));
    const t0 = Date.now();
    expect((await skiff(env, ['stop', 'app'])).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000); // stopped by its TERM trap, not the 10 s SIGKILL
    expect((await skiff(env, ['logs', 'app'])).stdout).toBe('started\ngot-TERM\n');
  });

  test('attach and detach keys', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '-i', '--name', 'cat', '--rootfs', mode.rootfs, 'sh', '-c', 'while read l; do echo "echo:$l"; done']);
    const child = spawnSkiff(mode, ['attach', '--detach-keys', 'ctrl-x', 'cat'], { env });
    const done = collect(child, null);
    child.stdin!.write('hello\n');
    await waitForOutput(child, 'echo:hello');
    child.stdin!.write('\x18');
    const r = await done;
    expect(r.code).toBe(0);
    expect((await skiff(env, ['ps', '--format', '{{.Names}}'])).stdout).toBe('cat\n');
    expect((await skiff(env, ['rm', '-f', 'cat'])).code).toBe(0);
  });

  test('--restart on-failure:2 restarts twice; --rm removes itself', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '--restart', 'on-failure:2', '--name', 'flaky', '--rootfs', mode.rootfs, 'sh', '-c', 'echo try; exit 1']);
    const code = await skiff(env, ['wait', 'flaky']);
    expect(code.stdout).toBe('1\n');
    // RestartCount is 2 once the third run starts; its output is whole once it has exited.
    const restarts = await until('two restarts, the last one exited', async () => {
      const r = await skiff(env, ['container', 'inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'flaky']);
      return r.stdout.trim() === '2 exited' ? r : undefined;
    });
    expect(restarts.stdout).toBe('2 exited\n');
    expect((await skiff(env, ['logs', 'flaky'])).stdout).toBe('try\ntry\ntry\n');

    await skiff(env, ['run', '-d', '--rm', '--name', 'gone', '--rootfs', mode.rootfs, 'true']);
    await until('self-removal', async () => ((await skiff(env, ['ps', '-a', '--format', '{{.Names}}'])).stdout.includes('gone') ? undefined : true));
    expect((await skiff(env, ['ps', '-a', '--format', '{{.Names}}'])).stdout).toBe('flaky\n');
  });

  test('run -d --rm: the monitor removes the container itself, so it is gone when the monitor has exited; died, then remove, logged', async () => {
    const env = storeFor(mode);
    const containers = path.join(env['SKIFF_ROOT']!, 'containers');
    const since = new Date(Date.now() - 1000).toISOString(); // the event log is the runtime directory's, which other stores share
    const id = (await skiff(env, ['run', '-d', '--rm', '--name', 'brief', '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 0.5'])).stdout.trim();
    const { MonitorPid } = JSON.parse(readFileSync(path.join(containers, id, 'pid.json'), 'utf8')) as { MonitorPid: number };
    // Exited: its /proc entry gone, or a zombie its new parent has not reaped yet.
    const monitorGone = () => {
      try {
        return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${MonitorPid}/stat`, 'utf8'));
      } catch {
        return true;
      }
    };
    while (!monitorGone()) await sleep(1);
    // Before, the monitor started `skiff rm` as it exited, and that Node process removed it tens of ms later.
    expect(readdirSync(containers)).toEqual(['names']);
    expect(readdirSync(path.join(containers, 'names'))).toEqual([]);
    const events = await skiff(env, ['events', '--stream=false', '--since', since, '--filter', `container=${id}`, '--format', '{{.Status}}']);
    expect(events.stdout).toBe('create\ninit\nstart\ndied\nremove\n');
    // The name is free at once.
    expect((await skiff(env, ['run', '--rm', '--name', 'brief', '--rootfs', mode.rootfs, 'true'])).code).toBe(0);
  });

  test('wait on a run -d --rm container answers its exit code, though the monitor removes it a moment after its end', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '--rm', '--name', 'three', '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 0.3; exit 3']);
    const wait = await skiff(env, ['wait', 'three']);
    expect([wait.code, wait.stdout, wait.stderr]).toEqual([0, '3\n', '']);
  });

  test('run -d --rm with an anonymous volume: `skiff rm` still removes both (the monitor leaves that to it)', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '--rm', '--name', 'vol', '-v', '/data', '--rootfs', mode.rootfs, 'true']);
    await until('the container and its volume removed', async () => {
      const ps = await skiff(env, ['ps', '-a', '-q']);
      const volumes = await skiff(env, ['volume', 'ls', '-q']);
      return ps.stdout === '' && volumes.stdout === '' ? true : undefined;
    });
  });

  test('run -d --rm with a SIGKILLed monitor: the exited container stays for rm to remove', async () => {
    const env = storeFor(mode);
    const id = (await skiff(env, ['run', '-d', '--rm', '--name', 'cut', '--rootfs', mode.rootfs, 'sleep', '60'])).stdout.trim();
    const { MonitorPid } = JSON.parse(readFileSync(path.join(env['SKIFF_ROOT']!, 'containers', id, 'pid.json'), 'utf8')) as { MonitorPid: number };
    const [file, ...args] = asModeUser(mode, ['kill', '-9', String(MonitorPid)]);
    expect((await collect(spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] }))).code).toBe(0);
    const state = await until('exited', async () => {
      const r = await skiff(env, ['container', 'inspect', '-f', '{{.State.Status}}', 'cut']);
      return r.stdout === 'exited\n' ? r : undefined;
    });
    expect(state.code).toBe(0);
    expect((await skiff(env, ['rm', 'cut'])).stdout).toBe('cut\n');
    expect((await skiff(env, ['ps', '-a', '-q'])).stdout).toBe('');
  });

  test.skipIf(!strace)(skipTitle('create-killed-midway: the .tmp- directory and the name a killed create left are removed by container prune; a live create\'s are not', strace ? undefined : 'needs strace: apt-get install strace'), async () => {
    const env = storeFor(mode);
    const containers = path.join(env['SKIFF_ROOT']!, 'containers');
    // The create's first rename is its .tmp-<id>-<pid> into place: stopped there (3 s), or killed there.
    const createUnder = (inject: string, name: string) => {
      const [file, ...args] = asModeUser(mode, ['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=rename', '-e', `inject=rename:${inject}:when=1`, skiffBin(), 'create', '--name', name, '--rootfs', mode.rootfs, 'true']);
      return spawn(file!, args, { env: cleanEnv(mode, env), stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
    };
    const tmps = () => readdirSync(containers).filter((n) => n.startsWith('.tmp-'));
    // A first create writes the caches (the containers.conf cache is written by a rename too), so the next ones rename nothing else before.
    expect((await skiff(env, ['create', '--name', 'warm', '--rootfs', mode.rootfs, 'true'])).code).toBe(0);
    const killed = await collect(createUnder('error=EIO:signal=SIGKILL', 'half'));
    expect(killed.code).not.toBe(0);
    const [left] = tmps();
    expect(left).toMatch(/^\.tmp-[0-9a-f]{64}-\d+$/);
    expect(tmps()).toHaveLength(1);
    const taken = await skiff(env, ['create', '--name', 'half', '--rootfs', mode.rootfs, 'true']);
    expect(taken.code).toBe(125);

    const slow = createUnder('delay_enter=3000000', 'slow');
    const slowDone = collect(slow);
    await until('the live create\'s .tmp- directory', () => (tmps().length === 2 ? true : undefined));
    expect((await skiff(env, ['container', 'prune', '-f'])).code).toBe(0);
    // The killed one's directory and name are gone; the live one's stays, and it completes.
    expect(tmps()).toHaveLength(1);
    expect(tmps()).not.toContain(left);
    expect(readdirSync(path.join(containers, 'names'))).toEqual(['slow']);
    expect((await slowDone).code).toBe(0);
    expect(tmps()).toEqual([]);
    expect((await skiff(env, ['ps', '-a', '--format', '{{.Names}}'])).stdout).toBe('slow\n');
    expect((await skiff(env, ['create', '--name', 'half', '--rootfs', mode.rootfs, 'true'])).code).toBe(0);
  });

  test('--restart always: a crash restarts it; kill and stop end it for good (Docker\'s and Podman\'s rule), stop also past the timeout; start runs it again', async () => {
    const env = storeFor(mode);
    await skiff(env, ['run', '-d', '--restart', 'always', '--name', 'ra', '--rootfs', mode.rootfs, 'sleep', '60']);
    // A crash: the container's process killed from outside, not by skiff.
    const crash = async () => {
      const pid = (await skiff(env, ['container', 'inspect', '-f', '{{.State.Pid}}', 'ra'])).stdout.trim();
      const [file, ...args] = asModeUser(mode, ['kill', '-9', pid]);
      expect((await collect(spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] }))).code).toBe(0);
    };
    const restarted = (count: number) =>
      until(`restart ${count} after the crash`, async () => {
        const r = await skiff(env, ['container', 'inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'ra']);
        return r.stdout === `${count} running\n` ? r : undefined;
      });
    const status = async () => (await skiff(env, ['container', 'inspect', '-f', '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}', 'ra'])).stdout;
    await crash();
    await restarted(1);
    // A signal the container outlives (PID 1 without a handler ignores SIGHUP) leaves it running.
    expect((await skiff(env, ['kill', '-s', 'HUP', 'ra'])).stdout).toBe('ra\n');
    await sleep(300);
    expect(await status()).toBe('1 running 0\n');
    expect((await skiff(env, ['kill', 'ra'])).stdout).toBe('ra\n');
    // Past the monitor's restart delay (200 ms after one restart): still exited.
    await sleep(1200);
    expect(await status()).toBe('1 exited 137\n');
    expect((await skiff(env, ['start', 'ra'])).code).toBe(0);
    await crash();
    await restarted(1);
    // sleep as PID 1 ignores SIGTERM: the stop ends with SIGKILL after 1 s.
    expect((await skiff(env, ['stop', '-t', '1', 'ra'])).stdout).toBe('ra\n');
    await sleep(1000);
    expect(await status()).toBe('1 exited 137\n');
    expect((await skiff(env, ['rm', '-f', 'ra'])).code).toBe(0);
  });

  test('a SIGKILLed monitor: ps and inspect still tell the truth', async () => {
    const env = storeFor(mode);
    const id = (await skiff(env, ['run', '-d', '--name', 'orphan', '--rootfs', mode.rootfs, 'sleep', '60'])).stdout.trim();
    const monitorPid = Number((await skiff(env, ['container', 'inspect', '-f', '{{.State.Pid}}', id])).stdout) > 0;
    expect(monitorPid).toBe(true);
    // Kill the monitor (the container dies with it: parent-death signal).
    const [file, ...args] = asModeUser(mode, ['sh', '-c', `kill -9 $(grep -o '"MonitorPid":[0-9]*' ${env['SKIFF_ROOT']}/containers/${id}/pid.json | cut -d: -f2)`]);
    await collect(spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    const state = await until('exited', async () => {
      const r = await skiff(env, ['container', 'inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]);
      return r.stdout.startsWith('exited') ? r : undefined;
    });
    expect(state.stdout).toBe('exited 137\n');
    expect((await skiff(env, ['rm', 'orphan'])).code).toBe(0);
  });

  test('bad input: unknown container, name conflict, removing a running one', async () => {
    const env = storeFor(mode);
    const unknown = await skiff(env, ['stop', 'nope']);
    expect(unknown.code).toBe(1); // Docker's: 127-errors-issue16 checks every command
    expect(unknown.stderr).toBe('Error: no such container: nope\n');
    await skiff(env, ['run', '-d', '--name', 'busy', '--rootfs', mode.rootfs, 'sleep', '30']);
    const conflict = await skiff(env, ['run', '-d', '--name', 'busy', '--rootfs', mode.rootfs, 'true']);
    expect(conflict.code).toBe(125);
    expect(conflict.stderr).toMatch(/^Error: the container name "\/busy" is already in use by container "[0-9a-f]{64}"/);
    const running = await skiff(env, ['rm', 'busy']);
    expect(running.code).toBe(2);
    expect(running.stderr).toMatch(/container is running: stop the container before removing or force remove/);
    const t0 = Date.now();
    expect((await skiff(env, ['rm', '-f', 'busy'])).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000); // Docker's semantics: SIGKILL at once
    const stopped = await skiff(env, ['stop', 'nope2']);
    expect(stopped.code).toBe(1);
  });

  test("the spec the helper got in its environment is wiped: no -e value in the monitor's environ", async () => {
    const env = storeFor(mode);
    const secret = 'not-for-other-eyes-4711';
    const id = (await skiff(env, ['run', '-d', '-e', `TOKEN=${secret}`, '--rootfs', mode.rootfs, 'sleep', '30'])).stdout.trim();
    const { MonitorPid } = JSON.parse(readFileSync(path.join(env.SKIFF_ROOT, 'containers', id, 'pid.json'), 'utf8')) as { MonitorPid: number };
    const environ = readFileSync(`/proc/${MonitorPid}/environ`, 'latin1');
    expect(environ).not.toContain(Buffer.from(secret).toString('hex'));
    expect(environ).not.toContain(secret);
    // The variable's memory stays (the kernel shows the original block), its value overwritten.
    expect(environ).toMatch(/(^|\0)SKIFF_HELPER_SPEC=0+\0/);
    expect((await skiff(env, ['exec', id, 'sh', '-c', 'echo $TOKEN'])).stdout).toBe(`${secret}\n`);
    await skiff(env, ['rm', '-f', id]);
  });

  test('ps filters: one key matches any of its values, several keys all; exited=, before=, since=', async () => {
    const env = storeFor(mode);
    await skiff(env, ['create', '--name', 'fa', '--rootfs', mode.rootfs, 'true']);
    await skiff(env, ['run', '--name', 'fb', '--rootfs', mode.rootfs, 'true']);
    await skiff(env, ['run', '--name', 'fc', '--rootfs', mode.rootfs, 'sh', '-c', 'exit 3']);
    const names = async (...filters: string[]) =>
      (await skiff(env, ['ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f])])).stdout.trim().split('\n').join(' ');
    expect(await names('exited=3')).toBe('fc');
    expect(await names('status=exited', 'status=created')).toBe('fc fb fa');
    expect(await names('status=exited', 'exited=0')).toBe('fb');
    expect(await names('before=fc')).toBe('fb fa');
    expect(await names('since=fa', 'name=f')).toBe('fc fb');
    // Without -a, only status= reaches beyond the running ones, as in Docker.
    expect((await skiff(env, ['ps', '--filter', 'exited=3', '--format', '{{.Names}}'])).stdout).toBe('');
    expect((await skiff(env, ['ps', '--filter', 'status=exited', '--format', '{{.Names}}'])).stdout).toBe('fc\nfb\n');
    const bad = await skiff(env, ['ps', '--filter', 'before=nope']);
    expect([bad.code, bad.stderr]).toEqual([125, "Error: invalid filter 'before=nope': no such container: nope\n"]);
  });

  test('ten run -d and rm -f in parallel leave a consistent store', async () => {
    const env = storeFor(mode);
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => skiff(env, ['run', '-d', '--name', `p${i}`, '--rootfs', mode.rootfs, 'sleep', '30'])),
    );
    expect(runs.map((r) => r.code)).toEqual(Array(10).fill(0));
    expect((await skiff(env, ['ps', '-q'])).stdout.trim().split('\n')).toHaveLength(10);
    const removed = await Promise.all(Array.from({ length: 10 }, (_, i) => skiff(env, ['rm', '-f', `p${i}`])));
    expect(removed.map((r) => r.code)).toEqual(Array(10).fill(0));
    expect((await skiff(env, ['ps', '-a', '-q'])).stdout).toBe('');
  });
});

describeModes('exec ($name)', (mode) => {
  test("exec joins the container's PID namespace, hostname, mounts and environment", async () => {
    const env = storeFor(mode);
    const skiff = (args: string[], input?: string) => runSkiff(mode, args, { env, input });
    await skiff(['run', '-d', '--name', 'box', '-e', 'FROM_RUN=yes', '--hostname', 'boxhost', '--rootfs', mode.rootfs, 'sh', '-c', 'echo marker > /tmp/marker; exec sleep 60']);
    await until('the container to be up', async () => ((await skiff(['exec', 'box', 'sh', '-c', 'test -e /tmp/marker && pidof sleep'])).code === 0 ? true : undefined));
    const r = await skiff(['exec', '-e', 'EXTRA=1', 'box', 'sh', '-c', 'hostname; echo $FROM_RUN $EXTRA; cat /tmp/marker; ps -o pid,comm | grep -c sleep; readlink /proc/1/exe']);
    expect(r.stdout).toBe('boxhost\nyes 1\nmarker\n1\n/bin/busybox\n');
    expect((await skiff(['exec', 'box', 'sh', '-c', 'exit 33'])).code).toBe(33);
    const missing = await skiff(['exec', 'box', 'no-such-cmd']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toBe('Error: exec: "no-such-cmd": executable file not found in $PATH\n');
    expect((await skiff(['exec', '-u', 'app', '-w', '/tmp', 'box', 'sh', '-c', 'id -u; pwd'])).stdout).toBe('1000\n/tmp\n');
    expect((await skiff(['exec', '-i', 'box', 'cat'], 'piped\n')).stdout).toBe('piped\n');
    await skiff(['exec', '-d', 'box', 'sh', '-c', 'echo background > /tmp/bg']);
    const bg = await until('the background exec', async () => {
      const out = await skiff(['exec', 'box', 'cat', '/tmp/bg']);
      return out.code === 0 ? out : undefined;
    });
    expect(bg.stdout).toBe('background\n');
    // CVE-2019-5736: the exec'd helper runs from a sealed memfd and is non-dumpable.
    const probe = await skiff(['exec', 'box', 'sh', '-c', 'for p in /proc/[0-9]*; do readlink $p/exe; done | grep -c skiff-helper']);
    expect(probe.stdout.trim()).toBe('0');
    const stopped = await skiff(['rm', '-f', 'box']);
    expect(stopped.code).toBe(0);
    const gone = await skiff(['exec', 'box', 'true']);
    expect(gone.code).toBe(125);
  });
});

describeModes('foreground runs are containers too ($name)', (mode) => {
  test('ps -a shows a finished foreground run; --rm leaves nothing; --name works', async () => {
    const env = storeFor(mode);
    const skiff = (args: string[]) => runSkiff(mode, args, { env });
    expect((await skiff(['run', '--name', 'fg', '--rootfs', mode.rootfs, 'sh', '-c', 'exit 4'])).code).toBe(4);
    expect((await skiff(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout).toBe('fg exited\n');
    expect((await skiff(['container', 'inspect', '-f', '{{.State.ExitCode}}', 'fg'])).stdout).toBe('4\n');
    expect((await skiff(['run', '--rm', '--rootfs', mode.rootfs, 'true'])).code).toBe(0);
    expect((await skiff(['ps', '-a', '-q'])).stdout.trim().split('\n')).toHaveLength(1);
  });

  test('logs shows what a foreground run wrote, stdout and stderr apart; the caller saw it too', async () => {
    const env = storeFor(mode);
    const skiff = (args: string[]) => runSkiff(mode, args, { env });
    const run = await skiff(['run', '--name', 'said', '--rootfs', mode.rootfs, 'sh', '-c', 'echo out-1; echo err-1 >&2; echo out-2']);
    expect(run.stdout).toBe('out-1\nout-2\n');
    expect(run.stderr).toBe('err-1\n');
    const logs = await skiff(['logs', 'said']);
    expect(logs.stdout).toBe('out-1\nout-2\n');
    expect(logs.stderr).toBe('err-1\n');
  });

  test('attach to a foreground run says why it cannot, in one line', async () => {
    const env = storeFor(mode);
    const child = spawnSkiff(mode, ['run', '--name', 'fg', '--rootfs', mode.rootfs, 'sh', '-c', 'echo up; sleep 30'], { env });
    const done = collect(child, null);
    await waitForOutput(child, 'up');
    const r = await runSkiff(mode, ['attach', 'fg'], { env });
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("Error: cannot attach to fg: it runs in the foreground of the skiff that started it, which holds its input and output; attach works with containers started by 'run -d' or 'start' (see 'skiff logs fg')\n");
    expect((await runSkiff(mode, ['rm', '-f', 'fg'], { env })).code).toBe(0);
    await done;
  });

  test('rm-f-of-a-foreground-run: the run ends with the container\'s 137, no internal error, and leaves nothing', async () => {
    const env = storeFor(mode);
    for (const rm of [[], ['--rm']]) {
      const child = spawnSkiff(mode, ['run', ...rm, '--name', 'fg', '--rootfs', mode.rootfs, 'sh', '-c', 'echo up; sleep 30'], { env });
      const done = collect(child, null);
      await waitForOutput(child, 'up');
      expect((await runSkiff(mode, ['rm', '-f', 'fg'], { env })).code).toBe(0);
      const r = await done;
      expect([r.code, r.stderr]).toEqual([137, '']);
      expect((await runSkiff(mode, ['ps', '-a', '-q'], { env })).stdout).toBe('');
    }
  });

  test('wait-on-created-container: wait answers at once with 0 for a container never started, as Docker and Podman', async () => {
    const env = storeFor(mode);
    expect((await runSkiff(mode, ['create', '--name', 'made', '--rootfs', mode.rootfs, 'true'], { env })).code).toBe(0);
    // It blocked forever before: the test's timeout catches a return of that.
    const r = await runSkiff(mode, ['wait', 'made'], { env });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '0\n', '']);
    // Once started, wait waits for its end.
    expect((await runSkiff(mode, ['start', 'made'], { env })).code).toBe(0);
    expect((await runSkiff(mode, ['wait', 'made'], { env })).stdout).toBe('0\n');
    expect((await runSkiff(mode, ['rm', 'made'], { env })).code).toBe(0);
  });

  test('wait --condition (Podman\'s): created and running answer -1 once reached, stopped the exit code; several containers; a bad condition is one line', async () => {
    const env = storeFor(mode);
    const skiff = (args: string[]) => runSkiff(mode, args, { env });
    expect((await skiff(['create', '--name', 'c1', '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 1; exit 6'])).code).toBe(0);
    expect((await skiff(['create', '--name', 'c2', '--rootfs', mode.rootfs, 'sh', '-c', 'exit 7'])).code).toBe(0);
    expect(await skiff(['wait', '--condition', 'created', 'c1', 'c2'])).toMatchObject({ code: 0, stdout: '-1\n-1\n', stderr: '' });
    // Blocks until the start, in another process, makes it running.
    const running = skiff(['wait', '--condition', 'running', '--interval', '50ms', 'c1']);
    await sleep(300);
    expect((await skiff(['start', 'c1', 'c2'])).code).toBe(0);
    expect(await running).toMatchObject({ code: 0, stdout: '-1\n', stderr: '' });
    expect(await skiff(['wait', '--condition', 'stopped', '-i', '100', 'c1', 'c2'])).toMatchObject({ code: 0, stdout: '6\n7\n', stderr: '' });
    expect(await skiff(['wait', '--condition', 'running', '--condition', 'exited', 'c1'])).toMatchObject({ code: 0, stdout: '6\n' });
    expect(await skiff(['wait', '--condition', 'bogus', 'c1'])).toMatchObject({ code: 125, stdout: '', stderr: 'Error: invalid --condition "bogus"; use created, running, paused, stopped, exited, healthy or unhealthy\n' });
    expect(await skiff(['wait', '--condition', 'healthy', 'c1'])).toMatchObject({ code: 125, stdout: '', stderr: 'Error: container c1 has no healthcheck to wait for\n' });
    expect(await skiff(['wait', '--interval', '1x', 'c1'])).toMatchObject({ code: 125, stderr: 'Error: invalid --interval "1x": use a duration such as 250ms or 1s\n' });
    expect((await skiff(['rm', 'c1', 'c2'])).code).toBe(0);
  });

  test('a SIGKILLed skiff run leaves nothing that blocks the next run', async () => {
    const env = storeFor(mode);
    const skiff = (args: string[]) => runSkiff(mode, args, { env });
    for (const rm of [[], ['--rm']]) {
      const child = spawnSkiff(mode, ['run', ...rm, '--name', 'victim', '--rootfs', mode.rootfs, 'sh', '-c', 'echo up; sleep 30'], { env });
      const done = collect(child, null);
      await waitForOutput(child, 'up');
      child.kill('SIGKILL');
      await done;
      // The container died with it (parent-death signal): ps says so at once.
      let last = '';
      const state = await until('the container to be seen exited', async () => {
        const out = (await skiff(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout;
        last = out;
        return out === 'victim exited\n' ? out : undefined;
      }).catch(() => last);
      expect(state, last).toBe('victim exited\n');
      if (rm.length === 0) {
        expect((await skiff(['logs', 'victim'])).stdout).toBe('up\n');
        expect((await skiff(['container', 'inspect', '-f', '{{.State.ExitCode}}', 'victim'])).stdout).toBe('137\n');
        expect((await skiff(['rm', 'victim'])).code).toBe(0);
      } else {
        // --rm promised to remove it: its name is free for the next --rm run.
        const again = await skiff(['run', '--rm', '--name', 'victim', '--rootfs', mode.rootfs, 'true']);
        expect(again.stderr).toBe('');
        expect(again.code).toBe(0);
      }
    }
    expect((await skiff(['ps', '-a', '-q'])).stdout).toBe('');
  });

  test('ten run --rm in parallel (make -j) all succeed and leave nothing', async () => {
    const env = storeFor(mode);
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => runSkiff(mode, ['run', '--rm', '--rootfs', mode.rootfs, 'sh', '-c', `echo run-${i}`], { env })),
    );
    expect(runs.map((r) => [r.code, r.stdout])).toEqual(Array.from({ length: 10 }, (_, i) => [0, `run-${i}\n`]));
    expect((await runSkiff(mode, ['ps', '-a', '-q'], { env })).stdout).toBe('');
  });

  test('run -d --init returns at once and init is PID 1', async () => {
    const env = storeFor(mode);
    const skiff = (args: string[]) => runSkiff(mode, args, { env });
    const t0 = Date.now();
    expect((await skiff(['run', '-d', '--init', '--name', 'i', '--rootfs', mode.rootfs, 'sleep', '30'])).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    const ps = await skiff(['exec', 'i', 'ps', '-o', 'pid,comm']);
    expect(ps.stdout).toMatch(/^\s*1 skiff-init$/m);
    expect((await skiff(['stop', '-t', '1', 'i'])).code).toBe(0);
    expect((await skiff(['container', 'inspect', '-f', '{{.State.ExitCode}}', 'i'])).stdout).toBe('143\n');
  });
});

describeModes('rename, restart, prune ($name)', (mode) => {
  test('rename keeps the container; restart runs it again; prune removes the stopped', async () => {
    const env = storeFor(mode);
    const skiff = (args: string[]) => runSkiff(mode, args, { env });
    await skiff(['run', '-d', '--name', 'a', '--rootfs', mode.rootfs, 'sh', '-c', 'echo run; sleep 30']);
    expect((await skiff(['rename', 'a', 'b'])).code).toBe(0);
    expect((await skiff(['ps', '--format', '{{.Names}}'])).stdout).toBe('b\n');
    expect((await skiff(['rename', 'b', 'b'])).code).toBe(125);
    const reused = await skiff(['run', '-d', '--name', 'a', '--rootfs', mode.rootfs, 'true']);
    expect(reused.code).toBe(0); // the old name is free again
    expect((await skiff(['restart', '-t', '0', 'b'])).stdout).toBe('b\n');
    await until('two runs in the log', async () => ((await skiff(['logs', 'b'])).stdout === 'run\nrun\n' ? true : undefined));
    expect((await skiff(['container', 'inspect', '-f', '{{.State.Status}}', 'b'])).stdout).toBe('running\n');
    await skiff(['wait', 'a']);
    const pruned = await skiff(['container', 'prune', '-f']);
    expect(pruned.stdout).toMatch(/^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: \d/);
    expect((await skiff(['ps', '-a', '--format', '{{.Names}}'])).stdout).toBe('b\n');
    await skiff(['rm', '-f', 'b']);
  });
});

describeModes('pause and unpause ($name)', (mode) => {
  test('the cgroup freezer where this host gives the container a cgroup, else one clear line saying why there is none', async () => {
    const env = storeFor(mode);
    const skiff = (args: string[]) => runSkiff(mode, args, { env });
    const host = await cgroupOutcome(mode);
    await skiff(['run', '-d', '--name', 'tick', '--rootfs', mode.rootfs, 'sh', '-c', 'while :; do sleep 0.05; done']);
    const paused = await skiff(['pause', 'tick']);
    if (host.cgroup) {
      expect(paused, paused.stderr).toMatchObject({ code: 0 });
      expect((await skiff(['ps', '--format', '{{.Status}}'])).stdout).toMatch(/^Up .* \(Paused\)\n$/);
      expect((await skiff(['container', 'inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'tick'])).stdout).toBe('paused true\n');
      const exec = await skiff(['exec', 'tick', 'true']);
      expect(exec.code).toBe(125);
      expect(exec.stderr).toMatch(/is paused, unpause the container before exec\n$/);
      expect((await skiff(['pause', 'tick'])).code).toBe(125);
      expect((await skiff(['unpause', 'tick'])).code).toBe(0);
      expect((await skiff(['container', 'inspect', '-f', '{{.State.Status}}', 'tick'])).stdout).toBe('running\n');
      expect((await skiff(['exec', 'tick', 'true'])).code).toBe(0);
    } else {
      expect(paused.code).toBe(125);
      expect(paused.stderr).toBe(`Error: cannot pause tick: it has no cgroup of its own, because ${host.reason}\n`);
    }
    expect((await skiff(['rm', '-f', 'tick'])).code).toBe(0);
  });
});

// A full disk while state is written: the write fails with one line, the old
// state stays readable, and nothing half-made is left. Needs root to mount a
// small tmpfs as the store (the rootless mode gets it chowned to its user).
describeModes('a full disk ($name)', (mode) => {
  const canMount = process.getuid?.() === 0;
  test.skipIf(!canMount)(skipTitle('rename, run and run -d fail cleanly; the old state stays readable', canMount ? undefined : NEEDS_ROOT), async () => {
    const dir = mkdtempSync(path.join(integrationEnv().workDir, 'full-'));
    const owner = mode.user ? `,uid=${mode.user.uid},gid=${mode.user.gid}` : '';
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=1m,mode=0700${owner}`, 'tmpfs', dir]);
    try {
      const env = { SKIFF_ROOT: path.join(dir, 'store') };
      const skiff = (args: string[]) => runSkiff(mode, args, { env });
      expect((await skiff(['run', '--name', 'a', '--rootfs', mode.rootfs, 'sh', '-c', 'echo hi'])).code).toBe(0);
      expect((await skiff(['run', '-d', '--name', 'b', '--rootfs', mode.rootfs, 'sleep', '60'])).code).toBe(0);
      spawnSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'fill')}`, 'bs=4k']);

      const renamed = await skiff(['rename', 'a', 'c']);
      expect(renamed.code).toBe(125);
      expect(renamed.stderr).toMatch(/^Error: cannot write \S+container\.json: no space left on device \(nothing was changed\)\n$/);
      for (const args of [['run', '--name', 'd', '--rootfs', mode.rootfs, 'true'], ['run', '-d', '--rootfs', mode.rootfs, 'true']]) {
        const r = await skiff(args);
        expect(r.code).toBe(125);
        expect(r.stderr).toMatch(/^Error: .*no space left on device.*\n$/i);
      }
      const listed = await skiff(['ps', '-a', '--format', '{{.Names}} {{.State}}']);
      expect(listed.stdout).toBe('b running\na exited\n');
      expect((await skiff(['container', 'inspect', '-f', '{{.Name}} {{.State.ExitCode}}', 'a'])).stdout).toBe('/a 0\n');
      expect((await skiff(['logs', 'a'])).stdout).toBe('hi\n');
      const leftovers = readdirSync(path.join(dir, 'store', 'containers')).filter((n) => n.startsWith('.'));
      expect(leftovers).toEqual([]);
      rmSync(path.join(dir, 'fill'));
      expect((await skiff(['rm', '-f', 'a', 'b'])).code).toBe(0);
    } finally {
      spawnSync('umount', ['-l', dir]);
    }
  });
});
