// What a systemd unit asks of `run` (issue 15, docs/systemd.md): sd_notify
// through a NOTIFY_SOCKET the test listens on as systemd would (a datagram
// socket: READY=1, MAINPID), --cidfile, --replace, --pidfile and
// --conmon-pidfile, and rm/stop --cidfile as ExecStop lines use them; root
// and rootless. Units under a real systemd are tested in the VM (test/vm/).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
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
      expect(again.stderr).toBe(`Error: the container id file ${files.cid} exists: another container may be using it; remove it, or let 'skiff rm --cidfile ${files.cid}' do it\n`);
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
      expect(missing.stderr).toBe(`Error: cannot read the container id file ${files.cid}: ENOENT\n`);
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
      expect([bad.code, bad.stderr]).toEqual([125, 'Error: --sdnotify=healthy is not supported: skiff sends no READY=1 at the first healthy check; use container or conmon\n']);
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
      expect([noName.code, noName.stderr]).toEqual([125, 'Error: --replace needs --name: it replaces the container of that name\n']);
      await skiff(w.env, ['rm', '-f', 'web']);
    });
  });
}

void integrationEnv;

// --- skiff quadlet (dry run and the generator's output directory) and generate systemd --new.
describe('skiff quadlet, the generator', () => {
  const mode = modes()[0]!;
  const unitDir = () => {
    const dir = mkdtempSync(path.join(integrationEnv().workDir, 'quadlet-'));
    execFileSync('chmod', ['755', dir]);
    return dir;
  };
  const quadlet = (dirs: string, args: string[], extra: Record<string, string> = {}) => runSkiff(mode, ['quadlet', ...args], { env: { QUADLET_UNIT_DIRS: dirs, ...extra } });
  const skiffLine = (text: string, key: string) => text.split('\n').find((l) => l.startsWith(`${key}=`))!.slice(key.length + 1).replace(/^-?\S+ \S+/, 'SKIFF');

  test('-dryrun prints a Type=notify service that runs the container under the unit (split cgroup, cid file, replace, rm), Podman\'s keys as run flags', async () => {
    const dir = unitDir();
    writeFileSync(path.join(dir, 'web.container'), [
      '# a web server', '[Unit]', 'Description=The web server', '', '[Container]', 'Image=localhost/web:1', 'Exec=httpd -f -p "8080" -h /www',
      'Environment=A=1 "B=two words"', 'Environment=C=%h', 'Volume=/srv/www:/www:ro', 'Network=host', 'User=1000', 'Group=100', 'Label=app=web',
      'RunInit=true', 'DropCapability=NET_RAW MKNOD', 'NoNewPrivileges=true', 'PidsLimit=50', 'PodmanArgs=--memory 64m',
      '', '[Service]', 'Restart=always', '', '[Install]', 'WantedBy=default.target multi-user.target',
    ].join('\n'));
    const r = await quadlet(dir, ['-user', '-dryrun']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('---web.service---\n# Automatically generated by skiff quadlet\n')).toBe(true);
    expect(skiffLine(r.stdout, 'ExecStart')).toBe(
      'SKIFF run --name=systemd-%N --cidfile=%t/%N.cid --replace --rm --cgroups=split --sdnotify=conmon -d --env=A=1 "--env=B=two words" --env=C=%h --volume=/srv/www:/www:ro --network=host --label=app=web --init --cap-drop=NET_RAW --cap-drop=MKNOD --security-opt=no-new-privileges --pids-limit=50 --user=1000:100 --memory 64m localhost/web:1 httpd -f -p 8080 -h /www',
    );
    expect(skiffLine(r.stdout, 'ExecStop')).toBe('SKIFF rm -v -f -i -t 10 --cidfile=%t/%N.cid');
    for (const line of ['Restart=always', 'KillMode=mixed', 'Delegate=yes', 'Type=notify', 'NotifyAccess=all', 'Description=The web server', `SourcePath=${dir}/web.container`, 'WantedBy=default.target multi-user.target']) {
      expect(r.stdout.split('\n')).toContain(line);
    }
  });

  test('Health* keys become --health-* flags', async () => {
    const dir = unitDir();
    writeFileSync(path.join(dir, 'h.container'), '[Container]\nImage=x\nHealthCmd=pg_isready -U app\nHealthInterval=2s\nHealthTimeout=1s\nHealthRetries=5\nHealthStartPeriod=10s\nHealthOnFailure=kill\n');
    const r = await quadlet(dir, ['-dryrun']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(skiffLine(r.stdout, 'ExecStart')).toContain('"--health-cmd=pg_isready -U app" --health-interval=2s --health-timeout=1s --health-retries=5 --health-start-period=10s --health-on-failure=kill x');
  });

  test('Notify=true lets the container send READY=1; ContainerName and Rootfs', async () => {
    const dir = unitDir();
    writeFileSync(path.join(dir, 'n.container'), '[Container]\nRootfs=/srv/root fs\nContainerName=ready\nNotify=true\nExec=/bin/probe notify READY=1\n');
    const r = await quadlet(dir, ['-dryrun']);
    expect(skiffLine(r.stdout, 'ExecStart')).toBe('SKIFF run --name=ready --cidfile=%t/%N.cid --replace --rm --cgroups=split --sdnotify=container -d "--rootfs=/srv/root fs" /bin/probe notify READY=1');
  });

  test('keys skiff cannot honour are refused by name, the other files still generated, exit 1', async () => {
    const dir = unitDir();
    writeFileSync(path.join(dir, 'a.container'), '[Container]\nImage=x\nPod=web.pod\n');
    writeFileSync(path.join(dir, 'b.container'), '[Container]\nImage=x\nHealthStartupCmd=true\n');
    writeFileSync(path.join(dir, 'c.container'), '[Container]\nImage=x\nFrobnicate=1\n');
    writeFileSync(path.join(dir, 'd.container'), '[Container]\nImage=x\nNotify=healthy\n');
    writeFileSync(path.join(dir, 'e.container'), '[Container]\nExec=true\n');
    writeFileSync(path.join(dir, 'f.volume'), '[Volume]\n');
    writeFileSync(path.join(dir, 'ok.container'), '[Container]\nImage=x\n');
    const r = await quadlet(dir, ['-dryrun']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toEqual([
      `skiff quadlet: ${dir}/a.container: key Pod is not supported: skiff has no pods`,
      `skiff quadlet: ${dir}/b.container: key HealthStartupCmd is not supported: skiff has no startup healthchecks`,
      `skiff quadlet: ${dir}/c.container: unsupported key 'Frobnicate' in group 'Container'`,
      `skiff quadlet: ${dir}/d.container: Notify=healthy is not supported: skiff sends no READY=1 at the first healthy check`,
      `skiff quadlet: ${dir}/e.container: give exactly one of Image= and Rootfs=`,
      `skiff quadlet: ${dir}/f.volume: .volume files are not supported by skiff (only .container)`,
      '',
    ]);
    expect(r.stdout.match(/^---.*---$/gm)).toEqual(['---ok.service---']);
  });

  test('as a generator: writes NAME.service into the output directory with its [Install] links; the first unit directory wins; -user reads $XDG_CONFIG_HOME/containers/systemd', async () => {
    const first = unitDir();
    const second = unitDir();
    writeFileSync(path.join(first, 'web.container'), '[Container]\nImage=first\n[Install]\nWantedBy=default.target\n');
    writeFileSync(path.join(second, 'web.container'), '[Container]\nImage=second\n');
    const out = unitDir();
    const r = await quadlet(`${first}:${second}`, [out, out, out]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(readFileSync(path.join(out, 'web.service'), 'utf8')).toMatch(/--sdnotify=conmon -d first\n/);
    expect(readlinkSync(path.join(out, 'default.target.wants/web.service'))).toBe('../web.service');
    const config = unitDir();
    execFileSync('mkdir', ['-p', path.join(config, 'containers/systemd')]);
    writeFileSync(path.join(config, 'containers/systemd/mine.container'), '[Container]\nImage=mine\n');
    execFileSync('chmod', ['-R', 'a+rX', config]);
    const user = await runSkiff(mode, ['quadlet', '-user', '-dryrun'], { env: { XDG_CONFIG_HOME: config } });
    expect(user.stdout).toMatch(/^---mine.service---\n/);
    const none = await quadlet(first, []);
    expect([none.code, none.stderr]).toEqual([125, "Error: skiff quadlet needs the generator's output directory (or -dryrun)\n"]);
  });
});

describe('skiff generate systemd --new', () => {
  const mode = modes()[0]!;
  test('a service that re-creates the container from its create command, the unit\'s own flags replaced; without --new refused', async () => {
    const w = workspace(mode);
    const made = await runSkiff(mode, ['create', '--name', 'web', '--rm', '--cidfile', path.join(w.dir, 'x.cid'), '-e', 'A=50%', '--pids-limit', '20', '--rootfs', w.rootfs, 'sh', '-c', 'echo $HOME'], { env: w.env });
    expect(made.code).toBe(0);
    const r = await runSkiff(mode, ['generate', 'systemd', '--new', '--name', '--no-header', 'web'], { env: w.env });
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    const start = lines.find((l) => l.startsWith('ExecStart='))!.replace(/^ExecStart=\S+ \S+ /, 'SKIFF ');
    expect(start).toBe(`SKIFF run --cidfile=%t/%n.ctr-id --cgroups=split --rm --sdnotify=conmon -d --replace --name web --rootfs=${w.rootfs} --env=A=50%% --pids-limit=20 sh -c "echo $$HOME"`);
    expect(lines[0]).toBe('[Unit]');
    for (const l of ['Description=skiff container-web.service', 'Restart=on-failure', 'TimeoutStopSec=70', 'Type=notify', 'NotifyAccess=all', 'Delegate=yes', 'WantedBy=default.target']) expect(lines).toContain(l);
    expect(lines.find((l) => l.startsWith('ExecStop='))!.replace(/^ExecStop=\S+ \S+ /, 'SKIFF ')).toBe('SKIFF stop --ignore -t 10 --cidfile=%t/%n.ctr-id');
    const old = await runSkiff(mode, ['generate', 'systemd', 'web'], { env: w.env });
    expect([old.code, old.stderr]).toEqual([125, 'Error: generate systemd needs --new: skiff generates services that create the container at start (a unit that starts an existing container is not supported)\n']);
  });
});
