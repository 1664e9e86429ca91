// Containers from images: skiff run IMAGE pulls when missing, mounts the
// layers as an overlay with the container's own upper dir, applies the image
// config, and gives the container its own /etc/hostname, hosts, resolv.conf.
// Real registry, as root and rootless.
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cgroupOutcome, collect, integrationEnv, describeModes, until, waitForOutput } from './harness.js';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from './registry-harness.js';
import { newStore } from './store-harness.js';

/** The children of a process (empty once it is gone). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A process's command name ('' once it is gone). */
function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

let reg: TestRegistry;
const dir = (name: string, extra: object = {}) => ({ name: `${name}/`, type: '5', mode: 0o755, ...extra });
const file = (name: string, data: string, extra: object = {}) => ({ name, data, mode: 0o644, ...extra });
const link = (name: string, target: string) => ({ name, type: '2', linkname: target, mode: 0o777 });
/** A file on the host that an /etc symlink climbing out of the root would reach if it were followed there. */
const escapeMarker = `/tmp/skiff-etc-link-escape-${process.pid}`;

beforeAll(async () => {
  reg = await startRegistry();
  const env = integrationEnv();
  const bb = { entries: busyboxLayer(env.imageRootfs), compression: 'gzip' as const };
  await pushImage(reg, 'busybox', 'latest', { format: 'docker', layers: [bb], config: { Cmd: ['sh'] } });
  await pushImage(reg, 'app', '1', {
    format: 'oci',
    layers: [
      bb,
      { compression: 'gzip', entries: [dir('srv'), file('srv/old', 'old\n'), dir('opt'), file('opt/keep', 'keep\n'), file('opt/drop', 'drop\n')] },
      // Whiteouts and an opaque directory, as real images carry them.
      { compression: 'zstd', entries: [dir('srv'), file('srv/.wh..wh..opq', ''), file('srv/new', 'new\n'), dir('opt'), file('opt/.wh.drop', '')] },
    ],
    config: {
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['echo "cmd:$GREETING from $(pwd) as $(id -un)"'],
      Env: ['GREETING=hello', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      WorkingDir: '/srv',
      User: 'app',
      StopSignal: 'SIGUSR1',
      Labels: { from: 'image', tier: 'base' },
      ExposedPorts: { '80/tcp': {} },
      Volumes: { '/data': {} },
    },
  });
  // /etc/hostname, hosts and resolv.conf as links, as distributions ship them (resolv.conf into
  // systemd-resolved's directory, absent from the image), one of them climbing out of the root.
  await pushImage(reg, 'etclinks', '1', {
    format: 'oci',
    layers: [
      bb,
      {
        compression: 'gzip',
        entries: [
          dir('etc'),
          file('etc/hosts.image', 'image hosts\n'),
          link('etc/hosts', '/etc/hosts.image'),
          link('etc/hostname', `../../../../..${escapeMarker}`),
          link('etc/resolv.conf', '../run/systemd/resolve/stub-resolv.conf'),
        ],
      },
    ],
    config: { Cmd: ['sh'] },
  });
  // Account files that are not regular files: reading them would block (a FIFO) or never end (/dev/zero).
  const accounts = { fifo: { name: 'etc/passwd', type: '6', mode: 0o644 }, zero: link('etc/passwd', '/dev/zero'), groupfifo: { name: 'etc/group', type: '6', mode: 0o644 } };
  for (const [tag, entry] of Object.entries(accounts)) {
    await pushImage(reg, 'accounts', tag, { format: 'oci', layers: [bb, { compression: 'gzip', entries: [dir('etc'), entry] }], config: { Cmd: ['true'] } });
  }
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

describeModes('run IMAGE ($name)', (mode) => {
  test('pulls when missing and applies Entrypoint, Cmd, Env, WorkingDir and User', async () => {
    const store = newStore(mode);
    const r = await store.skiff(['run', '--rm', `${reg.host}/app:1`]);
    expect(r.stdout).toBe('cmd:hello from /srv as app\n');
    expect(r.code).toBe(0);
    const over = await store.skiff(['run', '--rm', '-u', 'root', '-w', '/', '-e', 'GREETING=hi', `${reg.host}/app:1`, 'echo $GREETING $(pwd) $(id -u)']);
    expect(over.stdout).toBe('hi / 0\n');
    const entry = await store.skiff(['run', '--rm', '--entrypoint', 'cat', `${reg.host}/app:1`, '/srv/new']);
    expect(entry.stdout).toBe('new\n');
  });

  test("the image's StopSignal, Labels, ExposedPorts and Volumes are recorded; stop sends StopSignal; --label and --stop-signal", async () => {
    const store = newStore(mode);
    const loop = 'trap "echo got-USR1; exit 0" USR1; trap "echo got-TERM; exit 0" TERM; echo ready; while :; do sleep 0.05; done';
    await store.skiff(['run', '-d', '--name', 'sig', '-l', 'tier=web', '--label', 'extra', '--entrypoint', 'sh', `${reg.host}/app:1`, '-c', loop]);
    const config = await store.skiff(['inspect', '-f', '{{json .Config.Labels}} {{.Config.StopSignal}} {{json .Config.ExposedPorts}} {{json .Config.Volumes}} {{.Image}}', 'sig']);
    expect(config.stdout).toMatch(/^\{"extra":"","from":"image","tier":"web"\} SIGUSR1 \{"80\/tcp":\{\}\} \{"\/data":\{\}\} sha256:[0-9a-f]{64}\n$/);
    expect((await store.skiff(['ps', '--filter', 'label=tier=web', '--format', '{{.Names}}'])).stdout).toBe('sig\n');
    expect((await store.skiff(['ps', '--filter', 'label=tier=base', '--format', '{{.Names}}'])).stdout).toBe('');
    for (let i = 0; i < 50 && !(await store.skiff(['logs', 'sig'])).stdout.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
    expect((await store.skiff(['stop', 'sig'])).code).toBe(0);
    expect((await store.skiff(['logs', 'sig'])).stdout).toBe('ready\ngot-USR1\n');
    expect((await store.skiff(['inspect', '-f', '{{.State.ExitCode}}', 'sig'])).stdout).toBe('0\n');

    await store.skiff(['run', '-d', '--name', 'term', '--stop-signal', 'TERM', '--entrypoint', 'sh', `${reg.host}/app:1`, '-c', loop]);
    for (let i = 0; i < 50 && !(await store.skiff(['logs', 'term'])).stdout.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
    await store.skiff(['stop', 'term']);
    expect((await store.skiff(['logs', 'term'])).stdout).toBe('ready\ngot-TERM\n');
    const bad = await store.skiff(['run', '--rm', '--stop-signal', 'NOPE', `${reg.host}/app:1`]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toBe('Error: invalid signal: NOPE\n');
  });

  test('whiteouts and opaque directories are seen correctly inside', async () => {
    const store = newStore(mode);
    const r = await store.skiff(['run', '--rm', '-u', 'root', '--entrypoint', 'sh', `${reg.host}/app:1`, '-c', 'ls /srv; ls /opt']);
    expect(r.stdout).toBe('new\nkeep\n');
  });

  test('--pull never fails clearly; the container writes to its own upper dir only', async () => {
    const store = newStore(mode);
    const never = await store.skiff(['run', '--pull', 'never', `${reg.host}/busybox`, 'true']);
    expect(never.code).toBe(125);
    expect(never.stderr).toMatch(/^Error: .*busybox.*\n$/);
    expect((await store.skiff(['pull', '-q', `${reg.host}/busybox`])).code).toBe(0);
    const first = await store.skiff(['run', '--name', 'w', `${reg.host}/busybox`, 'sh', '-c', 'echo data > /written; rm /bin/ls; touch /etc/new']);
    expect(first.code).toBe(0);
    const second = await store.skiff(['run', '--rm', `${reg.host}/busybox`, 'sh', '-c', 'test -e /written || test -e /etc/new || echo clean; ls /bin/ls']);
    expect(second.stdout).toBe('clean\n/bin/ls\n');
    expect((await store.skiff(['ps', '-a', '--format', '{{.Names}} {{.Image}}'])).stdout).toBe(`w ${reg.host}/busybox\n`);
    expect((await store.skiff(['rm', 'w'])).code).toBe(0);
    // Files of a sub-ID in the upper dir: removed from inside the user namespace when rootless.
    expect((await store.skiff(['run', '--name', 'u', '-u', 'app', `${reg.host}/busybox`, 'sh', '-c', 'mkdir /tmp/d && touch /tmp/d/f'])).code).toBe(0);
    expect((await store.skiff(['rm', 'u'])).stdout).toBe('u\n');
    expect((await store.skiff(['ps', '-a', '-q'])).stdout).toBe('');
  });

  test('an image the registry lacks: run, create and build show the pull\'s one error line, exit 125', async () => {
    const store = newStore(mode);
    const missing = `${reg.host}/busybox:no-such-tag`;
    const line = `Error: image "${missing}" not found in registry ${reg.host}\n`;
    for (const args of [['run', '--rm', missing, 'true'], ['create', missing]]) {
      const r = await store.skiff(args);
      expect(r.code, args[0]).toBe(125);
      expect(r.stderr, args[0]).toBe(`Trying to pull ${missing}...\n${line}`);
    }
    const dir = path.join(integrationEnv().workDir, `missing-base-${mode.name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${missing}\n`);
    writeFileSync(path.join(dir, 'Dockerfile.from'), `FROM ${reg.host}/busybox\nCOPY --from=${missing} /x /x\n`);
    if (mode.user) for (const p of [dir, `${dir}/Dockerfile`, `${dir}/Dockerfile.from`]) chownSync(p, mode.user.uid, mode.user.gid);
    for (const file of ['Dockerfile', 'Dockerfile.from']) {
      const r = await store.skiff(['build', '-f', path.join(dir, file), dir]);
      expect(r.code, file).toBe(125);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('Error: ')), file).toEqual([line.trim()]);
    }
  });

  test('per-container /etc/hostname, /etc/hosts and /etc/resolv.conf', async () => {
    const store = newStore(mode);
    const r = await store.skiff(['run', '--rm', '--network', 'none', '--hostname', 'web1', `${reg.host}/busybox`, 'sh', '-c', 'cat /etc/hostname; grep -c web1 /etc/hosts; grep -c nameserver /etc/resolv.conf']);
    expect(r.stdout).toBe('web1\n1\n0\n');
  });

  test('etc-passwd-not-a-file: an image whose /etc/passwd is a FIFO or a link to /dev/zero (or /etc/group a FIFO) fails with one line, never hangs', async () => {
    const store = newStore(mode);
    const cases: Array<[string, string[], string]> = [
      ['fifo', [], '/etc/passwd in the container is a FIFO'],
      ['fifo', ['-u', 'app'], '/etc/passwd in the container is a FIFO'],
      // A UID the image lacks (--passwd's entry): skiff neither reads the FIFO nor binds over it.
      ['fifo', ['-u', '1234'], '/etc/passwd in the container is a FIFO'],
      ['zero', ['-u', '1234'], '/etc/passwd in the container is a character device'],
      ['zero', [], '/etc/passwd in the container is a character device'],
      ['groupfifo', ['-u', '1000:staff'], '/etc/group in the container is a FIFO'],
    ];
    for (const [tag, flags, message] of cases) {
      const r = await store.skiff(['run', '--rm', '--pull', 'missing', ...flags, `${reg.host}/accounts:${tag}`]);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('Error:'))).toEqual([`Error: ${message}: skiff reads users and groups only from a regular file`]);
      expect(r.code).toBe(125);
    }
  });

  test('etc-file-symlinks: /etc/hostname, hosts and resolv.conf as symlinks in the image resolve inside the root, never out', async () => {
    const store = newStore(mode);
    expect((await store.skiff(['pull', '-q', `${reg.host}/etclinks:1`])).code).toBe(0);
    const script = 'cat /etc/hostname; grep -c web1 /etc/hosts; cat /etc/hosts.image; grep -c nameserver /etc/resolv.conf; ls /run/systemd/resolve; readlink /etc/resolv.conf; cat ' + escapeMarker;
    const r = await store.skiff(['run', '--name', 'links', '--network', 'none', '--hostname', 'web1', `${reg.host}/etclinks:1`, 'sh', '-c', script]);
    expect(r.stderr).toBe('');
    // The link's target holds the container's file; the image's file behind the link is bound over, not changed.
    expect(r.stdout).toBe(`web1\n1\n127.0.0.1\tlocalhost localhost.localdomain\n::1\tlocalhost localhost.localdomain ip6-localhost ip6-loopback\n127.0.1.1\tweb1 links\n0\nstub-resolv.conf\n../run/systemd/resolve/stub-resolv.conf\nweb1\n`);
    expect(r.code).toBe(0);
    expect(existsSync(escapeMarker)).toBe(false);
    // What was created for the links is the container's own: the image's layers are untouched.
    const layers = store.ls('layers').map((l) => path.join(store.root, 'layers', l, 'diff'));
    expect(layers.filter((d) => existsSync(path.join(d, 'etc/hosts.image'))).map((d) => readFileSync(path.join(d, 'etc/hosts.image'), 'utf8'))).toEqual(['image hosts\n']);
    expect(layers.filter((d) => existsSync(path.join(d, 'run')) || existsSync(path.join(d, escapeMarker)))).toEqual([]);
    expect((await store.skiff(['rm', 'links'])).code).toBe(0);
  });

  test('rmi of an image in use is refused without -f; detached, exec and logs work', async () => {
    const store = newStore(mode);
    const id = (await store.skiff(['run', '-d', '--name', 'd', `${reg.host}/busybox`, 'sh', '-c', 'echo up; sleep 30'])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await store.skiff(['exec', 'd', 'cat', '/etc/hostname'])).stdout).toBe(`${id.slice(0, 12)}\n`);
    const rmi = await store.skiff(['rmi', `${reg.host}/busybox`]);
    expect(rmi.code).toBe(2); // Podman's code for an image in use
    expect(rmi.stderr).toMatch(/container/);
    expect((await store.skiff(['rm', '-f', 'd'])).code).toBe(0);
    expect((await store.skiff(['rmi', `${reg.host}/busybox`])).code).toBe(0);
    expect(store.ls('layers')).toEqual([]);
  });

  test('run-rm-in-its-helper: --rm removes the container\'s files in the run\'s own helper (no second helper), with the container\'s exit code', async () => {
    const store = newStore(mode);
    expect((await store.skiff(['pull', '-q', `${reg.host}/busybox`])).code).toBe(0);
    // Files and directories of another user (a sub-ID rootless) in the upper dir, and a deep tree.
    const script = 'mkdir -p /srv/a/b/c && touch /srv/a/b/c/f && chown -R 5:5 /srv/a && chmod 700 /srv/a/b && seq 1 200 | (cd /tmp && xargs touch); exit 3';
    const r = await store.skiff(['--log-level', 'debug', 'run', '--rm', '--network', 'none', `${reg.host}/busybox`, 'sh', '-c', script]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/helper \d+: removed the container's 2 trees in \d+ ms/);
    expect(r.stderr).not.toMatch(/mode walk/);
    expect(store.ls('containers')).toEqual(['names']);
    expect(readdirSync(path.join(store.root, 'containers', 'names'))).toEqual([]);
    expect((await store.skiff(['ps', '-a', '-q'])).stdout).toBe('');
  });

  test('run-d-rm-in-its-monitor: run -d --rm has the monitor remove the container (files of sub-IDs, a deep tree): nothing left once it has exited', async () => {
    const store = newStore(mode);
    expect((await store.skiff(['pull', '-q', `${reg.host}/busybox`])).code).toBe(0);
    const script = 'mkdir -p /srv/a/b/c && touch /srv/a/b/c/f && chown -R 5:5 /srv/a && chmod 700 /srv/a/b && seq 1 200 | (cd /tmp && xargs touch); sleep 0.3; exit 3';
    const id = (await store.skiff(['run', '-d', '--rm', '--name', 'gone', '--network', 'none', `${reg.host}/busybox`, 'sh', '-c', script])).stdout.trim();
    const { MonitorPid } = JSON.parse(readFileSync(path.join(store.root, 'containers', id, 'pid.json'), 'utf8')) as { MonitorPid: number };
    const wait = await store.skiff(['wait', 'gone']);
    expect(wait.stdout).toBe('3\n');
    const exited = () => {
      try {
        return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${MonitorPid}/stat`, 'utf8'));
      } catch {
        return true;
      }
    };
    await until('the monitor to exit', () => (exited() ? true : undefined));
    // No `skiff rm` was needed: the monitor left nothing, not even a .trash- directory.
    expect(store.ls('containers')).toEqual(['names']);
    expect(readdirSync(path.join(store.root, 'containers', 'names'))).toEqual([]);
    expect((await store.skiff(['ps', '-a', '-q'])).stdout).toBe('');
  });

  test('run-rm-killed-mid-removal: a skiff run --rm SIGKILLed while its helper removes the files leaves a container that ps shows and prune removes', async () => {
    const store = newStore(mode);
    expect((await store.skiff(['pull', '-q', `${reg.host}/busybox`])).code).toBe(0);
    // Enough files that their removal takes a while: the removing process is caught and stopped there.
    const script = 'mkdir /many && cd /many && seq 1 20000 | xargs touch && echo made';
    const child = store.spawn(['run', '--rm', '--name', 'victim', '--network', 'none', `${reg.host}/busybox`, 'sh', '-c', script]);
    const done = collect(child, null);
    await waitForOutput(child, 'made', 60_000);
    const helper = await until('the run\'s helper', () => childrenOf(child.pid!).find((p) => commOf(p) === 'skiff-helper'));
    // The container has ended; the helper's child that is a helper too is the removal.
    // It is removing once it holds the upper dir open (after its parent-death signal is set).
    const removing = (pid: number) => {
      try {
        return readdirSync(`/proc/${pid}/fd`).some((fd) => {
          try {
            return /\/upper(\/|$)/.test(readlinkSync(`/proc/${pid}/fd/${fd}`));
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    };
    let remover: number | undefined;
    for (const deadline = Date.now() + 30_000; remover === undefined && Date.now() < deadline; ) {
      remover = childrenOf(helper).find((p) => commOf(p) === 'skiff-helper' && removing(p));
      if (remover === undefined) await new Promise((r) => setTimeout(r, 1));
    }
    if (remover === undefined) throw new Error('the helper never started removing');
    process.kill(remover, 'SIGSTOP');
    const [id] = store.ls('containers').filter((n) => /^[0-9a-f]{64}$/.test(n));
    expect(id).toBeDefined();
    expect(existsSync(path.join(store.root, 'containers', id!, 'upper'))).toBe(true);
    child.kill('SIGKILL');
    // The helper dies with skiff (parent-death signal), and the stopped removal with the helper.
    await until('the removal to be gone', () => (existsSync(`/proc/${remover}`) && commOf(remover) !== '' ? undefined : true));
    await done;
    expect((await store.skiff(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout).toBe('victim exited\n');
    const prune = await store.skiff(['container', 'prune', '-f']);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toContain(id);
    expect(store.ls('containers')).toEqual(['names']);
    expect((await store.skiff(['ps', '-a', '-q'])).stdout).toBe('');
    // The name is free again.
    expect((await store.skiff(['run', '--rm', '--name', 'victim', '--network', 'none', `${reg.host}/busybox`, 'true'])).code).toBe(0);
  }, 120_000);

  test('rm-killed-mid-removal: the directory a SIGKILLed rm left renamed aside is removed by the next container prune', async () => {
    const store = newStore(mode);
    const helpers = (pid: number): number[] => childrenOf(pid).flatMap((c) => [...(commOf(c) === 'skiff-helper' ? [c] : []), ...helpers(c)]);
    const run = await store.skiff(['run', '--name', 'kept', '--network', 'none', `${reg.host}/busybox`, 'sh', '-c', 'mkdir /many && cd /many && seq 1 20000 | xargs touch']);
    expect(run.code).toBe(0);
    const rm = store.spawn(['rm', 'kept']);
    const done = collect(rm, null);
    // The walk that removes (rootless: the helper's child in the user namespace) is stopped midway, then rm is killed.
    // It is removing once it holds the renamed directory open (and has long set its parent-death signal).
    const removing = (pid: number) => {
      try {
        return readdirSync(`/proc/${pid}/fd`).some((fd) => {
          try {
            return readlinkSync(`/proc/${pid}/fd/${fd}`).includes('/.trash-');
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    };
    let found: number[] = [];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      found = helpers(rm.pid!);
      if (found.some(removing)) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(found.some(removing)).toBe(true);
    for (const pid of [...found].reverse()) process.kill(pid, 'SIGSTOP');
    rm.kill('SIGKILL');
    // The helpers die with rm (parent-death signals), stopped or not.
    await until('the removal to be gone', () => (found.every((p) => !existsSync(`/proc/${p}`) || commOf(p) === '') ? true : undefined));
    await done;
    expect(store.ls('containers').filter((n) => n.startsWith('.trash-'))).toHaveLength(1);
    expect((await store.skiff(['ps', '-a', '-q'])).stdout).toBe('');
    expect((await store.skiff(['container', 'prune', '-f'])).code).toBe(0);
    expect(store.ls('containers')).toEqual(['names']);
  }, 120_000);
});

describeModes('diff, top and inspect of image containers ($name)', (mode) => {
  test('diff shows A, C and D like Docker; top lists the processes; inspect finds containers first', async () => {
    const store = newStore(mode);
    await store.skiff(['run', '-d', '--name', 'ch', `${reg.host}/busybox`, 'sh', '-c', 'touch /etc/new; rm /bin/ls; mkdir -p /diffdir/a; echo x > /diffdir/a/f; chown 1000 /diffdir/a/f; sleep 30']);
    let diff = '';
    for (let i = 0; i < 50 && !diff.includes('/diffdir/a/f'); i++) {
      diff = (await store.skiff(['diff', 'ch'])).stdout;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(diff).toBe('C /bin\nD /bin/ls\nA /diffdir\nA /diffdir/a\nA /diffdir/a/f\nC /etc\nA /etc/new\n');
    // An image with no /proc, /sys or /dev (a root filesystem built FROM scratch): the mount points
    // the helper makes are not the container's changes (Docker's init layer; commit leaves them out too).
    const bare = busyboxLayer(integrationEnv().imageRootfs).filter((e) => !/^(proc|sys|dev)\//.test(String(e.name)));
    await pushImage(reg, 'bare', '1', { format: 'oci', layers: [{ entries: bare, compression: 'gzip' }], config: { Cmd: ['sh'] } });
    expect((await store.skiff(['run', '--name', 'bare', `${reg.host}/bare:1`, 'sh', '-c', 'ls -d /proc/self /sys/kernel /dev/null && touch /made'])).code).toBe(0);
    // (/etc is changed by the mount points of /etc/hosts and the like, as Podman's diff shows it.)
    expect((await store.skiff(['diff', 'bare'])).stdout).toBe('C /etc\nA /made\n');
    const top = await store.skiff(['top', 'ch']);
    expect(top.stdout.split('\n')[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(top.stdout).toMatch(/sleep 30/);
    // ps's own selections ("aux" is every process) are cut to the container's, by the PID column, as Docker cuts them.
    const aux = await store.skiff(['top', 'ch', 'aux']);
    expect(aux.code, aux.stderr).toBe(0);
    const auxRows = aux.stdout.trim().split('\n');
    expect(auxRows[0]).toMatch(/^USER\s+PID\s/);
    expect(auxRows.length).toBeGreaterThan(1);
    for (const row of auxRows.slice(1)) expect(row).toMatch(/ (sh -c |sleep 30)/);
    // Podman's descriptors (and their AIX codes) as columns.
    expect((await store.skiff(['top', 'ch', 'pid', 'args'])).stdout).toMatch(/^\s*PID COMMAND\n(\s*\d+ .*\n)*\s*\d+ sleep 30\n/);
    expect((await store.skiff(['top', 'ch', '%U', '%c'])).stdout.split('\n')[0]).toMatch(/^USER\s+COMMAND$/);
    // A column with spaces before PID ("sleep 30") keeps its rows: descriptors are selected by -p alone.
    expect((await store.skiff(['top', 'ch', 'args', 'pid'])).stdout).toMatch(/^COMMAND\s+PID\n(.*\n)*sleep 30\s+\d+\n/);
    // A bad option, or a descriptor ps cannot show: one line, exit 125.
    const bad = await store.skiff(['top', 'ch', 'bogus']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/^Error: ps bogus failed: [^\n]+\n$/);
    const cap = await store.skiff(['top', 'ch', 'pid', 'seccomp']);
    expect(cap.code).toBe(125);
    expect(cap.stderr).toMatch(/^Error: top: the descriptor seccomp is not supported: [^\n]+\n$/);
    expect((await store.skiff(['inspect', '-f', '{{.State.Status}}', 'ch'])).stdout).toBe('running\n');
    // ps --size: what it wrote (a 2-byte file, an empty one, directories), and that plus the image.
    const sized = await store.skiff(['ps', '--size', '--format', '{{.Names}} {{.Size}}']);
    expect(sized.stdout).toMatch(/^ch \d+B \(virtual [\d.]+[kM]B\)\n$/);
    const header = (await store.skiff(['ps', '-s'])).stdout.split('\n')[0];
    expect(header).toMatch(/\sNAMES\s+SIZE$/);
    expect((await store.skiff(['inspect', '--type', 'image', '-f', '{{.Os}}', `${reg.host}/busybox`])).stdout).toBe('linux\n');
    expect((await store.skiff(['rm', '-f', 'ch'])).code).toBe(0);
  });
});

// The daily loop of issue 4, every command on a container made from an image
// of the test registry (060 covers the same commands on --rootfs containers
// in more depth).
describeModes('the lifecycle of an image container ($name)', (mode) => {
  test('create, start -a, run -d, logs -f, exec, attach, pause, rename, restart, stop, kill, wait, rm, prune', async () => {
    const store = newStore(mode);
    const skiff = store.skiff;
    const image = `${reg.host}/busybox`;
    const until = async (what: string, probe: () => Promise<boolean>) => {
      for (let i = 0; i < 100; i++) {
        if (await probe()) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${what}`);
    };

    // create + start -a: the process's exit code; the log kept.
    const created = await skiff(['create', '--name', 'once', image, 'sh', '-c', 'echo from-create; exit 7']);
    expect(created.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect((await skiff(['ps', '-a', '--format', '{{.Names}} {{.State}} {{.Image}}'])).stdout).toBe(`once created ${image}\n`);
    const started = await skiff(['start', '-a', 'once']);
    expect([started.code, started.stdout]).toEqual([7, 'from-create\n']);
    expect((await skiff(['wait', 'once'])).stdout).toBe('7\n');

    // run -d, logs -f until it exits, exec in its namespaces.
    await skiff(['run', '-d', '-i', '--name', 'web', '-h', 'webhost', image, 'sh', '-c', 'echo up; trap "echo bye; exit 0" TERM; while :; do sleep 0.05; done']);
    await until('web to log', async () => (await skiff(['logs', 'web'])).stdout === 'up\n');
    expect((await skiff(['exec', 'web', 'sh', '-c', 'hostname; cat /proc/1/cmdline | tr "\\0" " "'])).stdout).toBe('webhost\nsh -c echo up; trap "echo bye; exit 0" TERM; while :; do sleep 0.05; done ');
    expect((await skiff(['exec', 'web', 'sh', '-c', 'exit 5'])).code).toBe(5);
    const paused = await skiff(['pause', 'web']);
    const host = await cgroupOutcome(mode);
    if (host.cgroup) {
      expect(paused, paused.stderr).toMatchObject({ code: 0 });
      expect((await skiff(['inspect', '-f', '{{.State.Status}}', 'web'])).stdout).toBe('paused\n');
      expect((await skiff(['unpause', 'web'])).code).toBe(0);
    } else {
      expect(paused.stderr).toBe(`Error: cannot pause web: it has no cgroup of its own, because ${host.reason}\n`);
    }
    expect((await skiff(['rename', 'web', 'site'])).code).toBe(0);
    const follow = store.spawn(['logs', '-f', 'site']);
    const followed = collect(follow);
    expect((await skiff(['stop', '-t', '5', 'site'])).stdout).toBe('site\n');
    expect((await followed).stdout).toBe('up\nbye\n');
    expect((await skiff(['inspect', '-f', '{{.State.ExitCode}}', 'site'])).stdout).toBe('0\n');

    // restart, attach (detach with ctrl-p ctrl-q), kill, wait.
    expect((await skiff(['restart', 'site'])).stdout).toBe('site\n');
    await until('the second run', async () => (await skiff(['logs', 'site'])).stdout === 'up\nbye\nup\n');
    const attach = store.spawn(['attach', 'site']);
    const attached = collect(attach, null);
    await new Promise((r) => setTimeout(r, 300));
    attach.stdin!.write('\x10\x11');
    expect((await attached).code).toBe(0);
    expect((await skiff(['ps', '--format', '{{.Names}}'])).stdout).toBe('site\n');
    const waiting = skiff(['wait', 'site']);
    expect((await skiff(['kill', '-s', 'KILL', 'site'])).stdout).toBe('site\n');
    expect((await waiting).stdout).toBe('137\n');

    // rm refuses a running one, -f does not; prune takes the stopped.
    await skiff(['run', '-d', '--name', 'busy', image, 'sleep', '30']);
    expect((await skiff(['rm', 'busy'])).code).toBe(2); // Podman's code for a running container
    expect((await skiff(['rm', '-f', '-v', 'busy'])).stdout).toBe('busy\n');
    const pruned = await skiff(['container', 'prune', '-f']);
    expect(pruned.stdout.match(/^[0-9a-f]{64}$/gm)).toHaveLength(2);
    expect((await skiff(['ps', '-a', '-q'])).stdout).toBe('');
    // Nothing of theirs is left in the store: their upper dirs went with them.
    expect(store.ls('containers').filter((n) => n !== 'names')).toEqual([]);
  });

  test('rm-rmi-exit-codes: an unknown name exits 1, a running container (rm) or an image in use (rmi) 2, as Podman', async () => {
    const store = newStore(mode);
    const image = `${reg.host}/busybox`;
    expect(await store.skiff(['rm', 'nosuch'])).toMatchObject({ code: 1, stdout: '', stderr: 'Error: no such container: nosuch\n' });
    expect(await store.skiff(['rm', '-f', 'nosuch'])).toMatchObject({ code: 1, stderr: 'Error: no such container: nosuch\n' });
    expect(await store.skiff(['rm', '-i', 'nosuch'])).toMatchObject({ code: 0, stderr: '' });
    expect(await store.skiff(['rmi', 'nosuch'])).toMatchObject({ code: 1, stderr: 'Error: no such image: nosuch:latest\n' });
    expect((await store.skiff(['run', '-d', '--name', 'up', image, 'sleep', '30'])).code).toBe(0);
    const running = await store.skiff(['rm', 'up']);
    expect(running.code).toBe(2);
    expect(running.stderr).toMatch(/^Error: cannot remove container [0-9a-f]{64}: container is running: stop the container before removing or force remove \(-f\)\n$/);
    const inUse = await store.skiff(['rmi', image]);
    expect(inUse.code).toBe(2);
    expect(inUse.stderr).toMatch(/^Error: conflict: unable to remove repository reference .* container [0-9a-f]{12} is using/);
    // A bad reference is skiff's own failure: 125.
    expect((await store.skiff(['rmi', 'Bad'])).code).toBe(125);
    expect(await store.skiff(['rm', '-f', 'up'])).toMatchObject({ code: 0, stdout: 'up\n' });
  });

  test('two containers never get the same name, even when created at once', async () => {
    const store = newStore(mode);
    const runs = await Promise.all(Array.from({ length: 5 }, () => store.skiff(['run', '-d', '--name', 'only', `${reg.host}/busybox`, 'sleep', '30'])));
    expect(runs.filter((r) => r.code === 0)).toHaveLength(1);
    for (const r of runs.filter((x) => x.code !== 0)) {
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/^Error: the container name "\/only" is already in use by container "[0-9a-f]{64}"/m);
    }
    // The image was missing: the five runs pulled it once (one progress report), not five times.
    expect(runs.map((r) => r.stderr).join('').match(/^Writing manifest/gm)).toHaveLength(1);
    expect((await store.skiff(['ps', '-a', '--format', '{{.Names}}'])).stdout).toBe('only\n');
    expect(store.ls('containers').filter((n) => n !== 'names')).toHaveLength(1);
    await store.skiff(['rm', '-f', 'only']);
  });
});
