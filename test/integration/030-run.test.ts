// skiff run --rootfs: the runtime core, as root and as the unprivileged test user.
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, test } from 'vitest';
import { collect, runSkiff, spawnSkiff, waitForOutput, describeModes } from './harness.js';

describeModes('run ($name)', (mode) => {
  const run = (args: string[], input?: string) => runSkiff(mode, ['run', '--rootfs', mode.rootfs, ...args], { input });

  test('the container runs as root inside', async () => {
    const r = await run(['id']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^uid=0\(root\) gid=0\(root\)/);
    expect(r.code).toBe(0);
  });

  test('the user namespace maps the full sub-ID range', async () => {
    const r = await run(['cat', '/proc/self/uid_map']);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    if (mode.user) {
      expect(lines[0]).toEqual([0, mode.user.uid, 1]);
      expect(lines[1]?.[0]).toBe(1);
      expect(lines[1]?.[2]).toBeGreaterThanOrEqual(65536);
    } else {
      // As root there is no user namespace: the initial mapping.
      expect(lines[0]).toEqual([0, 0, 4294967295]);
    }
  });

  test('chown to another user works inside', async () => {
    const r = await run(['sh', '-c', 'touch /tmp/owned && chown 1000:1000 /tmp/owned && stat -c %u:%g /tmp/owned && rm /tmp/owned']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('1000:1000');
  });

  test('ps sees only the container: the command is PID 1', async () => {
    const r = await run(['ps', '-o', 'pid,comm']);
    const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    expect(rows).toEqual([['1', 'ps']]);
  });

  test("the host's hostname is invisible; the default is the short id", async () => {
    const r = await run(['hostname']);
    expect(r.stdout.trim()).toMatch(/^[0-9a-f]{12}$/);
    expect(r.stdout.trim()).not.toBe(hostname());
    const named = await run(['--hostname', 'box1', 'hostname']);
    expect(named.stdout.trim()).toBe('box1');
  });

  test('--network none has only lo, up', async () => {
    const r = await run(['--network', 'none', 'ip', '-o', 'link']);
    const links = r.stdout.trim().split('\n');
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^1: lo: <LOOPBACK,UP/);
  });

  test("--network host shares the host's interfaces", async () => {
    const r = await run(['--network', 'host', 'ip', '-o', 'link']);
    const host = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).trim().split('\n');
    expect(r.stdout.trim().split('\n')).toHaveLength(host.length);
  });

  test("the host's IPC objects are invisible", async () => {
    const id = execFileSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' }).match(/(\d+)/)?.[1];
    try {
      const r = await run(['cat', '/proc/sysvipc/shm']);
      expect(r.stdout.trim().split('\n')).toHaveLength(1); // the header only
    } finally {
      execFileSync('ipcrm', ['-m', id!]);
    }
  });

  test("Docker's default capabilities and no_new_privs", async () => {
    const r = await run(['grep', '-E', '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)', '/proc/self/status']);
    const status = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/)));
    expect(status).toEqual({
      CapInh: '0000000000000000',
      CapPrm: '00000000a80425fb',
      CapEff: '00000000a80425fb',
      CapBnd: '00000000a80425fb',
      CapAmb: '0000000000000000',
      NoNewPrivs: '1',
    });
  });

  test('a non-root user keeps no effective capabilities', async () => {
    const r = await run(['-u', 'app', 'grep', '^CapEff', '/proc/self/status']);
    expect(r.stdout.trim()).toBe('CapEff:\t0000000000000000');
  });

  test('/proc/sysrq-trigger and /proc/sys are read-only; masked files read empty', async () => {
    const r = await run(['sh', '-c', 'echo h > /proc/sysrq-trigger && echo WROTE; echo 1 > /proc/sys/kernel/ns_last_pid && echo WROTE2; wc -c < /proc/keys; wc -c < /proc/timer_list; ls /sys/firmware | wc -l']);
    expect(r.stdout).not.toContain('WROTE');
    expect(r.stdout.trim().split(/\s+/)).toEqual(['0', '0', '0']);
  });

  test('/sys is read-only and /dev has only the standard devices', async () => {
    const r = await run(['sh', '-c', 'touch /sys/x 2>/dev/null && echo WROTE; ls /dev | sort | tr "\\n" " "']);
    expect(r.stdout).not.toContain('WROTE');
    expect(r.stdout.trim()).toBe('core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero');
  });

  test.each([0, 1, 42])('exit code %i comes back exactly', async (code) => {
    const r = await run(['sh', '-c', `exit ${code}`]);
    expect(r.code).toBe(code);
  });

  test('a command that cannot be run exits 126', async () => {
    const r = await run(['/etc/passwd']);
    expect(r.code).toBe(126);
    expect(r.stderr.trim()).toBe('Error: exec: "/etc/passwd": Permission denied');
  });

  test('a command that is not found exits 127', async () => {
    const r = await run(['no-such-command']);
    expect(r.code).toBe(127);
    expect(r.stderr.trim()).toBe('Error: exec: "no-such-command": executable file not found in $PATH');
    const abs = await run(['/no/such/file']);
    expect(abs.code).toBe(127);
  });

  test('a process killed by SIGKILL gives 137', async () => {
    const r = await run(['--init', 'sh', '-c', 'kill -9 $$']);
    expect(r.code).toBe(137);
  });

  test('a SIGTERM to skiff reaches the container', async () => {
    const child = spawnSkiff(mode, ['run', '--rootfs', mode.rootfs, 'sh', '-c', 'trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done']);
    const done = collect(child);
    await waitForOutput(child, 'ready');
    child.kill('SIGTERM');
    const r = await done;
    expect(r.stdout).toContain('got-TERM');
    expect(r.code).toBe(7);
  });

  test('an unhandled SIGTERM under --init gives 143', async () => {
    const child = spawnSkiff(mode, ['run', '--init', '--rootfs', mode.rootfs, 'sh', '-c', 'echo ready; sleep 30']);
    const done = collect(child);
    await waitForOutput(child, 'ready');
    child.kill('SIGTERM');
    expect((await done).code).toBe(143);
  });

  test('--init reaps zombies and stays PID 1', async () => {
    const r = await run(['--init', 'sh', '-c', 'sh -c "sleep 0.1 & exec true"; sleep 0.3; ps -o pid,stat,comm']);
    expect(r.stdout).not.toMatch(/\bZ\b/);
    expect(r.stdout).toMatch(/^\s*1\s+\S+\s+skiff-init/m);
  });

  test.each(['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGQUIT', 'SIGINT'] as const)('%s to skiff reaches the container', async (sig) => {
    const name = sig.slice(3);
    const child = spawnSkiff(mode, ['run', '--rootfs', mode.rootfs, 'sh', '-c', `trap "echo got-${name}; exit 9" ${name}; echo ready; while :; do sleep 0.05; done`]);
    const done = collect(child);
    await waitForOutput(child, 'ready');
    child.kill(sig);
    const r = await done;
    expect(r.stdout).toContain(`got-${name}`);
    expect(r.code).toBe(9);
  });

  test('no host fd is open inside', async () => {
    // Hand skiff extra open fds (3, 4, 5): none may reach the container. The
    // container's command is ls itself, whose only own fd (3) is the directory it reads.
    const child = spawnSkiff(mode, ['run', '--rootfs', mode.rootfs, 'ls', '/proc/self/fd'], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    const r = await collect(child);
    expect(r.stdout.trim().split('\n')).toEqual(['0', '1', '2', '3']);
  });

  test('the helper cannot be reopened from inside (CVE-2019-5736)', async () => {
    // Under --init, PID 1 runs the helper: from a sealed memfd copy, so its
    // /proc/1/exe is no file of the host and cannot be written.
    const r = await run(['--init', 'sh', '-c', 'readlink /proc/1/exe; echo x >> /proc/1/exe 2>/dev/null && echo WROTE; echo done']);
    expect(r.stdout).toMatch(/^\/memfd:skiff-helper \(deleted\)\ndone\n$/);
  });

  test('-i passes stdin through', async () => {
    const r = await run(['-i', 'cat'], 'hello from stdin\n');
    expect(r.stdout).toBe('hello from stdin\n');
  });

  test('without -i the container reads nothing', async () => {
    const r = await run(['cat'], 'ignored\n');
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  });

  test('-u by name gives the user, its group and supplementary groups', async () => {
    const r = await run(['-u', 'app', 'id']);
    expect(r.stdout.trim()).toBe('uid=1000(app) gid=1000(app) groups=29(audio),50(staff),1000(app)');
    const numeric = await run(['-u', '1000:50', 'id', '-u']);
    expect(numeric.stdout.trim()).toBe('1000');
    const home = await run(['-u', 'app', 'sh', '-c', 'echo $HOME']);
    expect(home.stdout.trim()).toBe('/home/app');
  });

  test('-u user:group runs with that group alone, not the user\'s memberships in /etc/group (as Podman and runc)', async () => {
    expect((await run(['-u', 'app:staff', 'id'])).stdout).toBe('uid=1000(app) gid=50(staff) groups=50(staff)\n');
    expect((await run(['-u', 'app:app', 'id'])).stdout).toBe('uid=1000(app) gid=1000(app) groups=1000(app)\n');
    expect((await run(['-u', '1000:50', 'id'])).stdout).toBe('uid=1000(app) gid=50(staff) groups=50(staff)\n');
    expect((await run(['-u', 'app:0', '--group-add', 'audio', 'id'])).stdout).toBe('uid=1000(app) gid=0(root) groups=0(root),29(audio)\n');
  });

  test('an unknown user is one clear line and exit 125', async () => {
    const r = await run(['-u', 'nosuchuser', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('Error: unable to find user nosuchuser: no matching entries in passwd file\n');
  });

  test('-w sets the working directory and creates it', async () => {
    const r = await run(['-w', '/srv/new/dir', 'pwd']);
    expect(r.stdout.trim()).toBe('/srv/new/dir');
  });

  test('-e, --env-file, PATH, HOME and HOSTNAME', async () => {
    const r = await run(['-e', 'A=1', '-e', 'B=two words', '--hostname', 'h1', 'env']);
    const env = r.stdout.trim().split('\n').sort();
    expect(env).toEqual(['A=1', 'B=two words', 'HOME=/root', 'HOSTNAME=h1', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    // -e takes a name with a space as Docker's and Podman's do (only an env file refuses one, as Docker's).
    expect((await run(['-e', 'MY VAR=1', 'env'])).stdout.split('\n')).toContain('MY VAR=1');
  });

  test('a spec too large for the environment reaches the helper on fd 3 (an -e of 70 kB, 120 kB)', async () => {
    for (const size of [70_000, 120_000]) {
      const r = await run(['-e', `BIG=${'x'.repeat(size)}`, 'sh', '-c', 'echo ${#BIG}']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`${size}\n`);
    }
  });

  test('everything after the command is its own argv, flags included', async () => {
    const r = await run(['ls', '-la', '/']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('bin');
    const echo = await run(['echo', '--rm', '-e', 'X', '--rootfs', '-it']);
    expect(echo.stdout).toBe('--rm -e X --rootfs -it\n');
  });

  test('--entrypoint runs before the command', async () => {
    const r = await run(['--entrypoint', 'echo', 'a', 'b']);
    expect(r.stdout).toBe('a b\n');
  });
});

describeModes('rootless without a sub-ID range ($name)', (mode) => {
  // SKIFF_SUBUID_FILE/SKIFF_SUBGID_FILE point skiff at other sub-ID files: an
  // empty one is a user with no range, on the real kernel.
  const env = { SKIFF_SUBUID_FILE: '/dev/null', SKIFF_SUBGID_FILE: '/dev/null' };
  const warning =
    "skiff: warning: your user has no range in /etc/subuid or /etc/subgid: only root exists in the container, images that need other users may fail (see 'skiff doctor')\n";

  test('a single mapping, with one warning', async () => {
    const r = await runSkiff(mode, ['run', '--rootfs', mode.rootfs, 'sh', '-c', 'id -u; cat /proc/self/uid_map'], { env });
    expect(r.stderr).toBe(warning);
    const [uid, map] = r.stdout.trim().split('\n');
    expect(uid).toBe('0');
    expect(map!.trim().split(/\s+/).map(Number)).toEqual([0, mode.user!.uid, 1]);
    expect(r.code).toBe(0);
  });

  test('another user cannot exist: one clear line and 125', async () => {
    const r = await runSkiff(mode, ['run', '-u', 'app', '--rootfs', mode.rootfs, 'id'], { env });
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(
      `${warning}Error: user 1000:1000 is not mapped in this rootless container: give your user a range in /etc/subuid and /etc/subgid (see 'skiff doctor')\n`,
    );
  });
}, { only: 'rootless' });

describeModes('bad input ($name)', (mode) => {
  test('a missing rootfs', async () => {
    const r = await runSkiff(mode, ['run', '--rootfs', '/no/such/rootfs', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('Error: root filesystem /no/such/rootfs does not exist\n');
  });

  test('an unknown flag', async () => {
    const r = await runSkiff(mode, ['run', '--bogus', '--rootfs', mode.rootfs, 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("Error: unknown flag: --bogus (see 'skiff run --help')\n");
  });

  test('a missing env file', async () => {
    const r = await runSkiff(mode, ['run', '--env-file', '/no/such/env', '--rootfs', mode.rootfs, 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('Error: cannot read env file /no/such/env: no such file\n');
  });

  test('no command', async () => {
    const r = await runSkiff(mode, ['run', '--rootfs', mode.rootfs]);
    expect(r.code).toBe(125);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });

  test('an unknown command', async () => {
    const r = await runSkiff(mode, ['frobnicate']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('Error: unknown command "frobnicate" for "skiff" (see \'skiff --help\')\n');
  });
});
