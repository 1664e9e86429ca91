// What a systemd unit asks of `run` (issue 15, docs/systemd.md): sd_notify
// through a NOTIFY_SOCKET the test listens on as systemd would (a datagram
// socket: READY=1, MAINPID), --cidfile, --replace, --pidfile and
// --conmon-pidfile, and rm/stop --cidfile as ExecStop lines use them; root
// and rootless. Units under a real systemd are tested in the VM (test/vm/).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { asModeUser, collect, integrationEnv, modes, runSkiff, waitForOutput, type Mode } from './harness.js';
import { spawn } from 'node:child_process';
import { buildProbe } from './probe-harness.js';

const probe = buildProbe();
const noProbe = 'reason' in probe;
if (noProbe) console.warn(`skipping the sd_notify tests: ${probe.reason}`);

/** A directory of the mode's user with a copy of its rootfs holding /bin/probe. */
function workspace(mode: Mode): { dir: string; rootfs: string; env: Record<string, string> } {
  const dir = mkdtempSync(path.join(path.dirname(mode.rootfs), 'units-'));
  const rootfs = path.join(dir, 'rootfs');
  execFileSync('cp', ['-a', mode.rootfs, rootfs]);
  execFileSync('mkdir', [path.join(dir, 'store')]);
  if (!noProbe) copyFileSync(probe.path, path.join(rootfs, 'bin/probe'));
  execFileSync('chmod', ['755', path.join(rootfs, 'bin/probe'), path.join(dir, 'store')]);
  if (mode.user) execFileSync('chown', ['-R', `${mode.user.uid}:${mode.user.gid}`, dir]);
  else chownSync(dir, 0, 0);
  return { dir, rootfs, env: { SKIFF_ROOT: path.join(dir, 'store') } };
}

/** systemd's end of NOTIFY_SOCKET: the probe, as the mode's user, printing "pid=N MESSAGE" lines. */
async function listen(mode: Mode, socket: string, seconds = 20): Promise<{ child: ChildProcess; lines: () => Promise<string[]> }> {
  const [file, ...args] = asModeUser(mode, [(probe as { path: string }).path, 'notify-listen', socket, String(seconds)]);
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = collect(child, null);
  await waitForOutput(child, 'ready\n');
  return { child, lines: async () => (await done).stdout.split('\n').filter((l) => l !== '' && l !== 'ready') };
}

const pidIn = (file: string) => Number(readFileSync(file, 'utf8'));

for (const mode of modes()) {
  describe.skipIf(noProbe)(`systemd units (${mode.name})`, () => {
    const skiff = (env: Record<string, string>, args: string[]) => runSkiff(mode, args, { env });

    test('--sdnotify=conmon -d: READY=1 with MAINPID the monitor, once started; --pidfile, --conmon-pidfile and --cidfile written, inspect names them; rm --cidfile takes them all', async () => {
      const w = workspace(mode);
      const socket = path.join(w.dir, 'notify.sock');
      const listener = await listen(mode, socket);
      const files = { cid: path.join(w.dir, 'ctr.cid'), pid: path.join(w.dir, 'ctr.pid'), conmon: path.join(w.dir, 'conmon.pid') };
      const r = await skiff({ ...w.env, NOTIFY_SOCKET: socket }, [
        'run', '-d', '--name', 'unit', '--sdnotify=conmon', '--cidfile', files.cid, '--pidfile', files.pid, '--conmon-pidfile', files.conmon, '--rootfs', w.rootfs, 'sleep', '60',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const id = r.stdout.trim();
      const lines = await listener.lines();
      expect(lines).toEqual([`pid=${pidIn(files.conmon)} MAINPID=${pidIn(files.conmon)} READY=1 `]);
      expect(readFileSync(files.cid, 'utf8')).toBe(id);
      const inspect = await skiff(w.env, ['inspect', '--format', '{{.State.Pid}} {{.PidFile}} {{.ConmonPidFile}} {{.HostConfig.ContainerIDFile}} {{.Config.SdNotifyMode}}', 'unit']);
      expect(inspect.stdout).toBe(`${pidIn(files.pid)} ${files.pid} ${files.conmon} ${files.cid} conmon\n`);
      // The monitor's pid is the container's parent.
      expect(readFileSync(`/proc/${pidIn(files.pid)}/status`, 'utf8')).toContain(`\nPPid:\t${pidIn(files.conmon)}\n`);

      // A second container may not take the same cid file.
      const again = await skiff(w.env, ['run', '-d', '--cidfile', files.cid, '--rootfs', w.rootfs, 'true']);
      expect(again.code).toBe(125);
      expect(again.stderr).toBe(`skiff: the container id file ${files.cid} exists: another container may be using it; remove it, or let 'skiff rm --cidfile ${files.cid}' do it\n`);
      expect((await skiff(w.env, ['ps', '-a', '-q'])).stdout.trim().split('\n')).toHaveLength(1);

      // ExecStop's and ExecStopPost's lines.
      expect((await skiff(w.env, ['stop', '-t', '1', '--cidfile', files.cid])).code).toBe(0);
      const rm = await skiff(w.env, ['rm', '-v', '-f', '-i', '--cidfile', files.cid]);
      expect(rm.code).toBe(0);
      expect(rm.stdout).toBe(`${id}\n`);
      for (const f of Object.values(files)) expect(existsSync(f)).toBe(false);
      expect((await skiff(w.env, ['rm', '-f', '-i', '--cidfile', files.cid])).code).toBe(0);
      expect((await skiff(w.env, ['stop', '-i', '--cidfile', files.cid])).code).toBe(0);
      const missing = await skiff(w.env, ['rm', '--cidfile', files.cid]);
      expect(missing.code).toBe(125);
      expect(missing.stderr).toBe(`skiff: cannot read the container id file ${files.cid}: ENOENT\n`);
    });

    test('--sdnotify=container -d: the container gets NOTIFY_SOCKET, its READY=1 reaches the unit with MAINPID the monitor (its own MAINPID dropped), and run returns only then', async () => {
      const w = workspace(mode);
      const socket = path.join(w.dir, 'notify.sock');
      const listener = await listen(mode, socket);
      const conmon = path.join(w.dir, 'conmon.pid');
      const r = await skiff({ ...w.env, NOTIFY_SOCKET: socket }, [
        'run', '-d', '--name', 'ready', '--user', '1000', '--conmon-pidfile', conmon, '--rootfs', w.rootfs,
        'sh', '-c', 'echo "$NOTIFY_SOCKET" > /tmp/seen; sleep 1; probe notify "STATUS=warming up\\nMAINPID=1\\nREADY=1"; sleep 60',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // The message was sent before run returned: the listener has it and has exited.
      expect(listener.child.exitCode ?? (await new Promise((res) => listener.child.once('exit', res)))).toBe(0);
      expect(await listener.lines()).toEqual([`pid=${pidIn(conmon)} MAINPID=${pidIn(conmon)} STATUS=warming up READY=1 `]);
      expect((await skiff(w.env, ['exec', 'ready', 'cat', '/tmp/seen'])).stdout).toBe('/run/notify/notify.sock\n');
      await skiff(w.env, ['rm', '-f', 'ready']);

      // A container that ends before READY=1: run returns, saying so.
      const early = await skiff({ ...w.env, NOTIFY_SOCKET: socket }, ['run', '-d', '--rootfs', w.rootfs, 'sh', '-c', 'exit 3']);
      expect(early.code).toBe(0);
      expect(early.stderr).toBe('skiff: warning: the container exited (3) before it sent READY=1 (--sdnotify=container): the unit fails to start\n');
    });

    test('foreground runs: conmon sends READY=1 once started, container relays the container\'s; neither names a MAINPID (skiff stays the main process); ignore passes nothing', async () => {
      const w = workspace(mode);
      const socket = path.join(w.dir, 'notify.sock');
      let listener = await listen(mode, socket);
      const conmon = await skiff({ ...w.env, NOTIFY_SOCKET: socket }, ['run', '--rm', '--sdnotify=conmon', '--rootfs', w.rootfs, 'sh', '-c', 'echo ${NOTIFY_SOCKET:-none}']);
      expect(conmon.stdout).toBe('none\n');
      expect((await listener.lines()).map((l) => l.replace(/^pid=\d+ /, ''))).toEqual(['READY=1 ']);

      listener = await listen(mode, socket);
      const container = await skiff({ ...w.env, NOTIFY_SOCKET: socket }, ['run', '--rm', '--rootfs', w.rootfs, 'probe', 'notify', 'READY=1\\nMAINPID=1']);
      expect(container.stdout).toBe('notify: ok\n');
      expect((await listener.lines()).map((l) => l.replace(/^pid=\d+ /, ''))).toEqual(['READY=1 ']);

      const ignore = await skiff({ ...w.env, NOTIFY_SOCKET: socket }, ['run', '--rm', '--sdnotify=ignore', '--rootfs', w.rootfs, 'sh', '-c', 'echo ${NOTIFY_SOCKET:-none}']);
      expect(ignore.stdout).toBe('none\n');
      const bad = await skiff(w.env, ['run', '--rm', '--sdnotify=healthy', '--rootfs', w.rootfs, 'true']);
      expect([bad.code, bad.stderr]).toEqual([125, 'skiff: --sdnotify=healthy is not supported: skiff has no health checks; use container or conmon\n']);
    });

    test('--replace removes the container of that --name first; without --name it is refused', async () => {
      const w = workspace(mode);
      const first = (await skiff(w.env, ['run', '-d', '--name', 'web', '--rootfs', w.rootfs, 'sleep', '60'])).stdout.trim();
      const taken = await skiff(w.env, ['run', '-d', '--name', 'web', '--rootfs', w.rootfs, 'sleep', '60']);
      expect(taken.code).toBe(125);
      const second = await skiff(w.env, ['run', '-d', '--name', 'web', '--replace', '--rootfs', w.rootfs, 'sleep', '60']);
      expect(second.code).toBe(0);
      expect((await skiff(w.env, ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}}'])).stdout).toBe(`${second.stdout.trim()} web\n`);
      expect(second.stdout.trim()).not.toBe(first);
      const noName = await skiff(w.env, ['run', '--replace', '--rootfs', w.rootfs, 'true']);
      expect([noName.code, noName.stderr]).toEqual([125, 'skiff: --replace needs --name: it replaces the container of that name\n']);
      await skiff(w.env, ['rm', '-f', 'web']);
    });
  });
}

void integrationEnv;
