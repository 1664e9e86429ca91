// systemd user units for real (issue 15; docs/systemd.md): a Quadlet
// .container file in ~/.config/containers/systemd turned into a service by
// `skiff quadlet` installed as a user generator (by guest/in-vm.sh, as root:
// systemd reads user generators only from system directories), started with systemctl
// --user, checked (is-active, the container answers, its processes in the
// unit's cgroup, MainPID the monitor), stopped, with nothing left; Notify=true
// (the container's own READY=1) and a hand-written Type=notify unit running
// skiff in the foreground with --sdnotify=container.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { integrationEnv, modes } from '../integration/harness.js';

const mode = modes().find((m) => m.name === 'rootless')!;
const uid = process.getuid?.() ?? 0;
const home = process.env['HOME']!;
const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), 'probe');
const skiffBin = path.join(integrationEnv().installDir, 'bin/skiff');
const SESSION = { ...process.env, XDG_RUNTIME_DIR: `/run/user/${uid}`, DBUS_SESSION_BUS_ADDRESS: `unix:path=/run/user/${uid}/bus` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function systemctl(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('systemctl', ['--user', ...args], { env: SESSION, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}
const show = (unit: string, prop: string) => systemctl('show', '-P', prop, unit).stdout;
/** The default store, as the units' skiff uses it. */
const skiff = (...args: string[]) => spawnSync(process.execPath, [skiffBin, ...args], { env: SESSION, encoding: 'utf8' });

async function get(port: number): Promise<string> {
  for (let i = 0; i < 50; i++) {
    try {
      return await (await fetch(`http://127.0.0.1:${port}/index.html`)).text();
    } catch {
      await sleep(200);
    }
  }
  throw new Error(`nothing answers on 127.0.0.1:${port}`);
}

const unitDir = path.join(home, '.config/containers/systemd');
const generator = '/etc/systemd/user-generators/skiff-quadlet';
const handDir = path.join(home, '.config/systemd/user');
const rootfs = path.join(home, 'units-rootfs');

describe.skipIf(!existsSync(probe))(`systemd user units${existsSync(probe) ? '' : ' (skipped: test/vm/probe was not built: install gcc and libc6-dev on the host)'}`, () => {
  test('setup: the generator installed as the docs say, a rootfs with a web page and the probe', () => {
    expect(readFileSync(generator, 'utf8')).toMatch(/^#!\/bin\/sh\nexec \S+\/node \S+\/bin\/skiff quadlet -user "\$@"\n$/);
    rmSync(rootfs, { recursive: true, force: true });
    cpSync(mode.rootfs, rootfs, { recursive: true, verbatimSymlinks: true });
    mkdirSync(path.join(rootfs, 'www'), { recursive: true });
    writeFileSync(path.join(rootfs, 'www/index.html'), 'hello from a unit\n');
    cpSync(probe, path.join(rootfs, 'bin/probe'));
    chmodSync(path.join(rootfs, 'bin/probe'), 0o755);
    for (const d of [unitDir, handDir]) mkdirSync(d, { recursive: true });
  });

  test('a .container unit: generated, started, active, answering, in the unit\'s cgroup under the monitor; stopped cleanly with nothing left', async () => {
    writeFileSync(path.join(unitDir, 'web.container'), `[Unit]\nDescription=web\n\n[Container]\nRootfs=${rootfs}\nNetwork=host\nExec=httpd -f -p 18080 -h /www\n`);
    expect(systemctl('daemon-reload').code).toBe(0);
    expect(systemctl('cat', 'web.service').stdout).toContain('--sdnotify=conmon');
    const started = systemctl('start', 'web.service');
    expect(started.stderr).toBe('');
    expect(systemctl('is-active', 'web.service').stdout).toBe('active');
    expect(await get(18080)).toBe('hello from a unit\n');

    const pid = Number(skiff('inspect', '--format', '{{.State.Pid}}', 'systemd-web').stdout);
    const cgroup = show('web.service', 'ControlGroup');
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`0::${cgroup}/`);
    const mainPid = Number(show('web.service', 'MainPID'));
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toContain(`\nPPid:\t${mainPid}\n`);
    expect(existsSync(`/run/user/${uid}/web.cid`)).toBe(true);

    const stopped = systemctl('stop', 'web.service');
    expect(stopped.code).toBe(0);
    expect(systemctl('is-active', 'web.service').stdout).toBe('inactive');
    expect(show('web.service', 'Result')).toBe('success');
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup${cgroup}`)).toBe(false);
    expect(skiff('ps', '-a', '--format', '{{.Names}}').stdout).not.toContain('systemd-web');
    expect(existsSync(`/run/user/${uid}/web.cid`)).toBe(false);
  });

  test('skiff kill of a unit\'s container: the unit fails as the container ended (Result=signal), where skiff stop is a clean end', async () => {
    writeFileSync(path.join(unitDir, 'killed.container'), `[Container]\nRootfs=${rootfs}\nNetwork=host\nExec=sleep 600\n`);
    expect(systemctl('daemon-reload').code).toBe(0);
    expect(systemctl('start', 'killed.service').code).toBe(0);
    expect(skiff('kill', 'systemd-killed').stdout).toBe('systemd-killed\n');
    for (let i = 0; i < 100 && systemctl('is-active', 'killed.service').stdout !== 'failed'; i++) await sleep(200);
    expect(systemctl('is-active', 'killed.service').stdout).toBe('failed');
    expect(show('killed.service', 'Result')).toBe('signal');
    systemctl('reset-failed', 'killed.service');
  });

  test('Notify=true: the unit is active only once the container sent READY=1 itself', async () => {
    writeFileSync(path.join(unitDir, 'ready.container'), `[Container]\nRootfs=${rootfs}\nNetwork=host\nNotify=true\nExec=sh -c "sleep 3; probe notify READY=1; exec httpd -f -p 18081 -h /www"\n`);
    expect(systemctl('daemon-reload').code).toBe(0);
    const t0 = Date.now();
    expect(systemctl('start', 'ready.service').code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3000);
    expect(systemctl('is-active', 'ready.service').stdout).toBe('active');
    expect(await get(18081)).toBe('hello from a unit\n');
    const cgroup = show('ready.service', 'ControlGroup');
    expect(systemctl('stop', 'ready.service').code).toBe(0);
    expect(show('ready.service', 'Result')).toBe('success');
    expect(existsSync(`/sys/fs/cgroup${cgroup}`)).toBe(false);
  });

  test('a hand-written Type=notify unit: skiff run --rm --sdnotify=container in the foreground, its container in a sub-cgroup (--cgroups split)', async () => {
    // --init: httpd as the container's PID 1 would ignore the unit's SIGTERM
    // (the kernel's rule for init) and the stop would wait for systemd's timeout.
    writeFileSync(path.join(handDir, 'fg.service'), [
      '[Service]', 'Type=notify', 'NotifyAccess=all', 'Delegate=yes', 'KillMode=mixed', 'SuccessExitStatus=143',
      `ExecStart=${process.execPath} ${skiffBin} run --rm --init --sdnotify=container --cgroups=split --network host --name fg --rootfs ${rootfs} sh -c "sleep 2; probe notify READY=1; exec httpd -f -p 18082 -h /www"`,
      '',
    ].join('\n'));
    expect(systemctl('daemon-reload').code).toBe(0);
    expect(systemctl('start', 'fg.service').code).toBe(0);
    expect(systemctl('is-active', 'fg.service').stdout).toBe('active');
    expect(await get(18082)).toBe('hello from a unit\n');
    const cgroup = show('fg.service', 'ControlGroup');
    const pid = Number(skiff('inspect', '--format', '{{.State.Pid}}', 'fg').stdout);
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`0::${cgroup}/`);
    expect(systemctl('stop', 'fg.service').code).toBe(0);
    expect(systemctl('is-active', 'fg.service').stdout).toBe('inactive');
    expect(existsSync(`/sys/fs/cgroup${cgroup}`)).toBe(false);
    expect(skiff('ps', '-a', '--format', '{{.Names}}').stdout).not.toContain('fg');
  });

  afterAll(() => {
    for (const u of ['web', 'ready', 'fg']) systemctl('stop', `${u}.service`);
    execFileSync('true');
  });
});
