// Issue 16, part B: `skiff events` over the event log every skiff process
// appends to (containers, images, volumes, networks), its filters, --since/--until,
// --format, streaming and --stream=false, --events-backend none, and 16
// processes writing at once, the rotation of the log by a container's
// monitor. As root and as the unprivileged test user.
// Root's log is /run/skiff/events/events.log, which other test files write
// too: every look here filters by names this file made (the rotation test
// has a runtime directory, so a log, of its own).
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { integrationEnv, modes, until, userDir, type Mode } from './harness.js';
import { startBusyboxRegistry, type TestRegistry } from './registry-harness.js';
import { newStore, type TestStore } from './store-harness.js';

let reg: TestRegistry;

beforeAll(async () => {
  ({ reg } = await startBusyboxRegistry(integrationEnv().imageRootfs, 'busybox', 'latest', { format: 'docker', config: { Cmd: ['sh'] } }));
}, 300_000);

afterAll(async () => {
  await reg?.stop();
});

const unique = (what: string) => `${what}-${Math.random().toString(36).slice(2, 8)}`;

interface Ev {
  ID?: string;
  Name?: string;
  Image?: string;
  Status: string;
  Type: string;
  ContainerExitCode?: number;
  Attributes?: Record<string, string>;
  network?: string;
  timeNano: number;
}

async function events(s: TestStore, args: string[]): Promise<Ev[]> {
  const r = await s.skiff(['events', '--stream=false', '--format', 'json', ...args]);
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Ev);
}

/** The log of the mode's user (rootless: its XDG_RUNTIME_DIR is unset in the harness, so /tmp/skiff-UID). */
function logOf(mode: Mode): string {
  return mode.user ? `/tmp/skiff-${mode.user.uid}/events/events.log` : '/run/skiff/events/events.log';
}

describe.each(modes())('events ($name)', (mode) => {
  const ok = async (s: TestStore, args: string[]) => {
    const r = await s.skiff(args);
    expect(r, `${args.join(' ')}: ${r.stderr}`).toMatchObject({ code: 0 });
    return r;
  };

  test('a container\'s life: create, init, start, attach, died with its code, exec, stop, kill, restart, rename, remove; the human line', async () => {
    const s = newStore(mode);
    const image = `${reg.host}/busybox`;
    await ok(s, ['pull', '-q', image]);
    const fg = unique('fg');
    expect((await s.skiff(['run', '--name', fg, '--label', 'team=ev', image, 'sh', '-c', 'exit 3'])).code).toBe(3);
    const fgEvents = await events(s, ['--filter', `container=${fg}`]);
    expect(fgEvents.map((e) => e.Status)).toEqual(['create', 'init', 'start', 'attach', 'died']);
    expect(fgEvents[4]).toMatchObject({ ContainerExitCode: 3, Name: fg, Image: image, Type: 'container', Attributes: { team: 'ev' } });

    const bg = unique('bg');
    const id = (await ok(s, ['run', '-d', '--name', bg, image, 'sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.05; done'])).stdout.trim();
    await ok(s, ['exec', bg, 'true']);
    await ok(s, ['stop', '-t', '5', bg]);
    // The monitor logs the end of a detached container itself.
    const died = await until('died from the monitor', async () => (await events(s, ['--filter', `container=${bg}`, '--filter', 'event=died'])).at(0));
    expect(died).toMatchObject({ ID: id, ContainerExitCode: 7 });
    await ok(s, ['start', bg]);
    await ok(s, ['kill', bg]);
    await ok(s, ['restart', '-t', '1', bg]);
    const renamed = unique('renamed');
    await ok(s, ['rename', bg, renamed]);
    await ok(s, ['rm', '-f', renamed]);
    const byId = await events(s, ['--filter', `container=${id.slice(0, 12)}`]);
    const statuses = byId.map((e) => e.Status);
    for (const st of ['create', 'init', 'start', 'exec', 'exec_died', 'stop', 'died', 'kill', 'restart', 'rename', 'remove']) expect(statuses, st).toContain(st);
    expect(statuses.indexOf('create')).toBe(0);
    expect(byId.find((e) => e.Status === 'rename')?.Name).toBe(renamed);

    // Podman's default line: time, type, status, id, (image=, name=, labels).
    const human = await ok(s, ['events', '--stream=false', '--filter', `container=${fg}`, '--filter', 'event=died']);
    expect(human.stdout).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? [+-]\\d{4} \\S+ container died [0-9a-f]{64} \\(image=${image.replace(/[.]/g, '\\.')}, name=${fg}, containerExitCode=3, team=ev\\)\\n$`));
    // run --rm: the remove is logged by the run itself.
    const rmName = unique('rm');
    await ok(s, ['run', '--rm', '--name', rmName, image, 'true']);
    expect((await events(s, ['--filter', `container=${rmName}`])).map((e) => e.Status)).toEqual(['create', 'init', 'start', 'attach', 'died', 'remove']);
  }, 120_000);

  test('containers that exit at once: each one\'s create, init, start, (attach,) died, remove in that order, run -d --rm and run --rm', async () => {
    const s = newStore(mode);
    const image = `${reg.host}/busybox`;
    await ok(s, ['pull', '-q', image]);
    const since = new Date(Date.now() - 1000).toISOString();
    const detached = Array.from({ length: 8 }, () => unique('ord-d'));
    const foreground = Array.from({ length: 4 }, () => unique('ord-f'));
    // Two at a time: the monitor's end of one races skiff's return for the next.
    for (let i = 0; i < detached.length; i += 2) {
      await Promise.all([
        ok(s, ['run', '-d', '--rm', '--name', detached[i]!, image, 'true']),
        ok(s, ['run', '-d', '--rm', '--name', detached[i + 1]!, image, 'true']),
        ...(i / 2 < foreground.length ? [ok(s, ['run', '--rm', '--name', foreground[i / 2]!, image, 'true'])] : []),
      ]);
    }
    const statusesOf = async (name: string) => (await events(s, ['--since', since, '--filter', `container=${name}`])).map((e) => e.Status);
    for (const name of detached) {
      const statuses = await until(`${name}'s remove`, async () => {
        const st = await statusesOf(name);
        return st.includes('remove') ? st : undefined;
      });
      expect(statuses, name).toEqual(['create', 'init', 'start', 'died', 'remove']);
    }
    for (const name of foreground) expect(await statusesOf(name), name).toEqual(['create', 'init', 'start', 'attach', 'died', 'remove']);

    // A command that cannot run never started: no init, no start (also under --init, and with -t).
    for (const extra of [[], ['--init'], ['-t']]) {
      const name = unique('ord-x');
      const r = await s.skiff(['run', '-d', ...extra, '--name', name, image, 'no-such-command']);
      expect(r.code, r.stderr).toBe(127);
      const statuses = await until(`${name}'s died`, async () => {
        const st = await statusesOf(name);
        return st.includes('died') ? st : undefined;
      });
      expect(statuses, extra.join(' ')).toEqual(['create', 'died']);
    }
  }, 120_000);

  // Podman's handleRestartPolicy: died, then restart, then init and start as the container runs again (Docker: die, start).
  test("a restart by the policy (run -d --restart): each restart logs restart, then init and start once the command runs; a command that cannot run logs neither", async () => {
    const s = newStore(mode);
    const name = unique('pol');
    await ok(s, ['run', '-d', '--restart', 'on-failure:2', '--name', name, '--rootfs', mode.rootfs, 'sh', '-c', 'exit 3']);
    const diedThrice = (st: string[]) => (st.filter((x) => x === 'died').length === 3 ? st : undefined);
    const statusesOf = async (n: string) => (await events(s, ['--filter', `container=${n}`])).map((e) => e.Status);
    const statuses = await until(`${name}'s third died`, async () => diedThrice(await statusesOf(name)), 20_000);
    expect(statuses).toEqual(['create', 'init', 'start', 'died', 'restart', 'init', 'start', 'died', 'restart', 'init', 'start', 'died']);
    expect((await ok(s, ['inspect', '-f', '{{.RestartCount}} {{.State.ExitCode}}', name])).stdout).toBe('2 3\n');

    const missing = unique('polx');
    expect((await s.skiff(['run', '-d', '--restart', 'on-failure:2', '--name', missing, '--rootfs', mode.rootfs, 'no-such-command'])).code).toBe(127);
    expect(await until(`${missing}'s third died`, async () => diedThrice(await statusesOf(missing)), 20_000)).toEqual(['create', 'died', 'restart', 'died', 'restart', 'died']);
    await ok(s, ['rm', '-f', name, missing]);
  }, 60_000);

  // Only the create is skiff's: every later line is the monitor's, so the rotation can only be the monitor's.
  test("the monitor rotates the log too: a container restarting by its policy pushes it past half the limit, events.log.1 takes it, and events still shows every line of both halves", async () => {
    const s = newStore(mode);
    const runRoot = userDir(mode, 'runroot');
    const limit = 8192; // the smallest skiff takes: the log rotates past 4096 bytes
    const env = { SKIFF_RUNROOT: runRoot, SKIFF_EVENTS_LOGFILE_MAX_SIZE: String(limit) };
    const log = path.join(runRoot, 'events', 'events.log');
    const name = unique('rot');
    const since = new Date(Date.now() - 1000).toISOString();
    // A label makes each line ~500 bytes: the 12 lines (~6 KB) pass half the limit once, not twice.
    const run = await s.skiff(['run', '-d', '--restart', 'on-failure:2', '--name', name, '--label', `pad=${'p'.repeat(300)}`, '--rootfs', mode.rootfs, 'sh', '-c', 'exit 3'], { env });
    expect(run, run.stderr).toMatchObject({ code: 0 });
    const statusesOf = async () => {
      const r = await s.skiff(['events', '--stream=false', '--format', 'json', '--since', since, '--filter', `container=${name}`], { env });
      expect(r, r.stderr).toMatchObject({ code: 0 });
      return r.stdout.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as Ev).Status);
    };
    const statuses = await until(`${name}'s third died`, async () => {
      const st = await statusesOf();
      return st.filter((x) => x === 'died').length === 3 ? st : undefined;
    }, 20_000);
    expect(statuses).toEqual(['create', 'init', 'start', 'died', 'restart', 'init', 'start', 'died', 'restart', 'init', 'start', 'died']);
    // Rotated once, by the monitor, under the same lock as skiff's writers, which it left behind it.
    expect(existsSync(`${log}.1`)).toBe(true);
    expect(statSync(`${log}.1`).size).toBeGreaterThan(limit / 2);
    expect(statSync(log).size).toBeLessThanOrEqual(limit / 2);
    expect(existsSync(`${log}.lock`)).toBe(false);
    const halves = [readFileSync(`${log}.1`, 'utf8'), readFileSync(log, 'utf8')];
    expect(halves[0]).toMatch(/^\{"ID":"[0-9a-f]{64}"[^\n]*"Status":"create"/);
    expect(halves[1]).toMatch(/"ContainerExitCode":3,[^\n]*"Status":"died"[^\n]*\n$/);
    const r = await s.skiff(['rm', '-f', name], { env });
    expect(r, r.stderr).toMatchObject({ code: 0 });
  }, 60_000);

  // The lock is the one skiff's writers take (lib/events/log.ts): made here, it is a writer's that rotates now, then one killed mid-rotation.
  test("the monitor keeps to skiff's rotation lock: it does not rotate while another writer holds it, and breaks it once stale (10 s), then rotates", async () => {
    const s = newStore(mode);
    const runRoot = userDir(mode, 'runroot');
    const limit = 8192;
    const env = { SKIFF_RUNROOT: runRoot, SKIFF_EVENTS_LOGFILE_MAX_SIZE: String(limit) };
    const log = path.join(runRoot, 'events', 'events.log');
    const lock = `${log}.lock`;
    mkdirSync(path.dirname(log), { mode: 0o700 });
    writeFileSync(lock, '', { mode: 0o600 });
    if (mode.user) for (const p of [path.dirname(log), lock]) chownSync(p, mode.user.uid, mode.user.gid);
    const name = unique('lck');
    const since = new Date(Date.now() - 1000).toISOString();
    const run = await s.skiff(['run', '-d', '--restart', 'always', '--name', name, '--label', `pad=${'p'.repeat(300)}`, '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 0.3; exit 1'], { env });
    expect(run, run.stderr).toMatchObject({ code: 0 });
    const died = () => (readFileSync(log, 'utf8').match(/"Status":"died"/g) ?? []).length;
    // Held (kept fresh): three ends are ~6 KB, every append past 4096 bytes found the lock and went on.
    await until('three died lines', () => {
      const now = new Date();
      utimesSync(lock, now, now);
      return died() >= 3 ? true : undefined;
    }, 20_000);
    expect(statSync(log).size).toBeGreaterThan(limit / 2);
    expect(existsSync(`${log}.1`)).toBe(false);
    expect(existsSync(lock)).toBe(true);
    // Stale: the monitor's next append breaks it, the one after rotates under its own lock, which it removes.
    const past = new Date(Date.now() - 60_000);
    utimesSync(lock, past, past);
    await until('the rotation', () => (existsSync(`${log}.1`) ? true : undefined), 20_000);
    const stop = await s.skiff(['stop', '-t', '1', name], { env });
    expect(stop, stop.stderr).toMatchObject({ code: 0 });
    expect(existsSync(lock)).toBe(false);
    expect(statSync(`${log}.1`).size).toBeGreaterThan(limit / 2);
    expect(statSync(log).size).toBeLessThanOrEqual(limit / 2);
    // Every line of both halves is whole, and events reads them all, in order.
    const stored = [`${log}.1`, log].flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== ''));
    for (const line of stored) expect(() => JSON.parse(line), line).not.toThrow();
    const r = await s.skiff(['events', '--stream=false', '--format', 'json', '--since', since, '--filter', `container=${name}`], { env });
    expect(r, r.stderr).toMatchObject({ code: 0 });
    const shown = r.stdout.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as Ev).Status);
    expect(shown).toEqual(stored.map((l) => (JSON.parse(l) as Ev).Status));
    expect(shown.slice(0, 8)).toEqual(['create', 'init', 'start', 'died', 'restart', 'init', 'start', 'died']);
    const rm = await s.skiff(['rm', '-f', name], { env });
    expect(rm, rm.stderr).toMatchObject({ code: 0 });
  }, 60_000);

  // A writer stopped mid-rotation (SIGSTOP, a frozen cgroup) keeps its lock however long: the lock names it (docs/commands/events.md, "Rotation").
  test("the monitor keeps a lock whose writer is alive, however old (a writer stopped mid-rotation), and breaks it as soon as that writer is gone, then rotates", async () => {
    const s = newStore(mode);
    const runRoot = userDir(mode, 'runroot');
    const limit = 8192;
    const env = { SKIFF_RUNROOT: runRoot, SKIFF_EVENTS_LOGFILE_MAX_SIZE: String(limit) };
    const log = path.join(runRoot, 'events', 'events.log');
    const lock = `${log}.lock`;
    const stopped = spawn('sleep', ['120'], { stdio: 'ignore' });
    await new Promise((r) => stopped.once('spawn', r));
    const pid = stopped.pid!;
    process.kill(pid, 'SIGSTOP');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const owner = `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]} ${/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1]}\n`;
    mkdirSync(path.dirname(log), { mode: 0o700 });
    writeFileSync(lock, owner, { mode: 0o600 });
    const past = new Date(Date.now() - 60_000);
    utimesSync(lock, past, past);
    if (mode.user) for (const p of [path.dirname(log), lock]) chownSync(p, mode.user.uid, mode.user.gid);
    const name = unique('stp');
    const run = await s.skiff(['run', '-d', '--restart', 'always', '--name', name, '--label', `pad=${'p'.repeat(300)}`, '--rootfs', mode.rootfs, 'sh', '-c', 'sleep 0.3; exit 1'], { env });
    expect(run, run.stderr).toMatchObject({ code: 0 });
    const died = () => (readFileSync(log, 'utf8').match(/"Status":"died"/g) ?? []).length;
    await until('three died lines', () => (died() >= 3 ? true : undefined), 20_000);
    // A minute old, yet its writer lives: kept, and nothing rotated under it.
    expect(statSync(log).size).toBeGreaterThan(limit / 2);
    expect(existsSync(`${log}.1`)).toBe(false);
    expect(readFileSync(lock, 'utf8')).toBe(owner);
    const exited = new Promise((r) => stopped.once('exit', r));
    process.kill(pid, 'SIGKILL');
    await exited;
    // Gone: the monitor's next append breaks the lock, the one after rotates under its own lock, which it removes.
    await until('the rotation', () => (existsSync(`${log}.1`) ? true : undefined), 20_000);
    const stop = await s.skiff(['stop', '-t', '1', name], { env });
    expect(stop, stop.stderr).toMatchObject({ code: 0 });
    expect(existsSync(lock)).toBe(false);
    expect(statSync(`${log}.1`).size).toBeGreaterThan(limit / 2);
    const rm = await s.skiff(['rm', '-f', name], { env });
    expect(rm, rm.stderr).toMatchObject({ code: 0 });
  }, 60_000);

  // The runtime directory is emptied at boot: a stored container's start is then the first to log, from its monitor.
  test("a start whose monitor finds the log's directory gone makes it, as skiff's writers do: init, start, died are logged", async () => {
    const s = newStore(mode);
    const runRoot = userDir(mode, 'runroot');
    const env = { SKIFF_RUNROOT: runRoot };
    const name = unique('boot');
    const created = await s.skiff(['create', '--name', name, '--network', 'none', '--rootfs', mode.rootfs, 'true'], { env });
    expect(created, created.stderr).toMatchObject({ code: 0 });
    rmSync(path.join(runRoot, 'events'), { recursive: true });
    const started = await s.skiff(['start', name], { env });
    expect(started, started.stderr).toMatchObject({ code: 0 });
    const statuses = await until(`${name}'s died`, async () => {
      const r = await s.skiff(['events', '--stream=false', '--format', '{{.Status}}', '--filter', `container=${name}`], { env });
      return r.stdout.includes('died') ? r.stdout : undefined;
    });
    expect(statuses).toBe('init\nstart\ndied\n');
    expect(statSync(path.join(runRoot, 'events')).mode & 0o777).toBe(0o700);
    const rm = await s.skiff(['rm', name], { env });
    expect(rm, rm.stderr).toMatchObject({ code: 0 });
  }, 60_000);

  // Rootless Podman (runc) logs create and cleanup only when the command cannot run: its runtime fails at create.
  test('a foreground run whose command cannot run logs no init, start or attach, as run -d: create, died (remove)', async () => {
    const s = newStore(mode);
    for (const extra of [[], ['--init'], ['--rm']]) {
      const name = unique('fgx');
      const r = await s.skiff(['run', ...extra, '--name', name, '--rootfs', mode.rootfs, 'no-such-command']);
      expect(r.code, r.stderr).toBe(127);
      const statuses = (await events(s, ['--filter', `container=${name}`])).map((e) => e.Status);
      expect(statuses, extra.join(' ')).toEqual(extra.includes('--rm') ? ['create', 'died', 'remove'] : ['create', 'died']);
    }
    // One that runs still logs them all, in order.
    const name = unique('fgok');
    expect((await s.skiff(['run', '--name', name, '--rootfs', mode.rootfs, 'true'])).code).toBe(0);
    expect((await events(s, ['--filter', `container=${name}`])).map((e) => e.Status)).toEqual(['create', 'init', 'start', 'attach', 'died']);
    await ok(s, ['rm', name]);
  }, 60_000);

  test('images and volumes: pull, tag, untag, remove, push; volume create and remove; filters by type, image, label, event', async () => {
    const s = newStore(mode);
    const image = `${reg.host}/busybox`;
    await ok(s, ['pull', '-q', image]);
    const tag = `${reg.host}/${unique('evimg')}:v1`;
    await ok(s, ['tag', image, tag]);
    await ok(s, ['push', tag]);
    await ok(s, ['rmi', tag]);
    await ok(s, ['rmi', image]);
    const imageEvents = await events(s, ['--filter', 'type=image', '--filter', `image=${tag}`]);
    expect(imageEvents.map((e) => e.Status)).toEqual(['tag', 'push', 'untag']);
    const id = imageEvents[0]!.ID!;
    const byId = await events(s, ['--filter', 'type=image', '--filter', `image=${id.slice(0, 12)}`]);
    expect(byId.map((e) => e.Status)).toEqual(expect.arrayContaining(['pull', 'tag', 'push', 'untag', 'remove']));

    const vol = unique('evvol');
    await ok(s, ['volume', 'create', vol]);
    await ok(s, ['volume', 'rm', vol]);
    expect((await events(s, ['--filter', 'type=volume', '--filter', `volume=${vol}`])).map((e) => e.Status)).toEqual(['create', 'remove']);

    // label= matches a container's labels; several event= are alternatives.
    const c = unique('lab');
    const label = unique('l');
    await ok(s, ['create', '--name', c, '--label', `ev=${label}`, image, 'true']);
    await ok(s, ['rm', c]);
    expect((await events(s, ['--filter', `label=ev=${label}`, '--filter', 'event=create', '--filter', 'event=remove'])).map((e) => e.Status)).toEqual(['create', 'remove']);
    expect(await events(s, ['--filter', `label=ev=${label}`, '--filter', 'type=image'])).toEqual([]);
    expect(await events(s, ['--filter', `label=ev=other`, '--filter', `container=${c}`])).toEqual([]);
  }, 120_000);

  test("networks, as Podman logs them: create and remove with the network's id and driver, connect and disconnect with the container's id and name; network rm -f and prune log remove", async () => {
    const s = newStore(mode);
    const n = unique('net');
    const c = unique('nc');
    await ok(s, ['network', 'create', n]);
    const id = (await ok(s, ['network', 'inspect', '--format', '{{.ID}}', n])).stdout.trim();
    const cid = (await ok(s, ['create', '--name', c, '--network', 'none', '--rootfs', mode.rootfs, 'true'])).stdout.trim();
    await ok(s, ['network', 'connect', n, c]);
    await ok(s, ['network', 'disconnect', n, c]);
    await ok(s, ['network', 'connect', n, c]);
    await ok(s, ['network', 'rm', '-f', n]);
    const bridge = { driver: 'bridge' };
    expect((await events(s, ['--filter', `network=${n}`])).map((e) => [e.Type, e.Status, e.network, e.ID, e.Name, e.Attributes])).toEqual([
      ['network', 'create', n, id, undefined, bridge],
      ['network', 'connect', n, cid, c, undefined],
      ['network', 'disconnect', n, cid, c, undefined],
      ['network', 'connect', n, cid, c, undefined],
      ['network', 'remove', n, id, undefined, bridge],
    ]);
    // Podman's human line for a network event.
    const human = await ok(s, ['events', '--stream=false', '--filter', `network=${n}`, '--filter', 'event=disconnect']);
    expect(human.stdout).toMatch(new RegExp(`^\\S+ \\S+ \\S+ UTC network disconnect ${cid} \\(container=${cid}, name=${n}\\)\n$`));
    const p = unique('netp');
    await ok(s, ['network', 'create', p]);
    await ok(s, ['network', 'prune', '-f']);
    expect((await events(s, ['--filter', 'type=network', '--filter', `network=${p}`])).map((e) => e.Status)).toEqual(['create', 'remove']);
  }, 60_000);

  test('--since, --until, --format templates, and a bad filter or format in one line', async () => {
    const s = newStore(mode);
    const a = unique('va');
    await ok(s, ['volume', 'create', a]);
    await new Promise((r) => setTimeout(r, 1100));
    const mid = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 50));
    const b = unique('vb');
    await ok(s, ['volume', 'create', b]);
    const names = (evs: Ev[]) => evs.map((e) => e.Name).filter((n) => n === a || n === b);
    expect(names(await events(s, ['--filter', 'type=volume', '--since', mid]))).toEqual([b]);
    expect(names(await events(s, ['--filter', 'type=volume', '--until', mid]))).toEqual([a]);
    expect(names(await events(s, ['--filter', 'type=volume', '--since', '1m']))).toEqual([a, b]);
    expect(names(await events(s, ['--filter', 'type=volume', '--filter', `since=${mid}`]))).toEqual([b]);

    const t = await ok(s, ['events', '--stream=false', '--filter', `volume=${b}`, '--format', '{{.Type}} {{.Status}} {{.Name}} {{.Action}}']);
    expect(t.stdout).toBe(`volume create ${b} create\n`);
    const table = await ok(s, ['events', '--stream=false', '--filter', `volume=${b}`, '--format', 'table {{.Type}}\t{{.Status}}']);
    expect(table.stdout).toBe('TYPE\tSTATUS\nvolume\tcreate\n');
    const bad = await s.skiff(['events', '--stream=false', '--filter', 'colour=red']);
    expect(bad.code).toBe(125);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/invalid filter "colour=red"/);
    const badTime = await s.skiff(['events', '--stream=false', '--since', 'yesterday-ish']);
    expect(badTime.code).toBe(125);
    expect(badTime.stderr).toMatch(/invalid value for --since/);
    await ok(s, ['volume', 'rm', a, b]);
  }, 60_000);

  test('streaming prints what other processes log, until --until passes', async () => {
    const s = newStore(mode);
    const v = unique('stream');
    const child = s.spawn(['events', '--filter', `volume=${v}`, '--format', '{{.Status}} {{.Name}}']);
    let seen = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (seen += d));
    await new Promise((r) => setTimeout(r, 1500)); // it is reading the log by now
    await ok(s, ['volume', 'create', v]);
    await until('the create streamed', async () => (seen.includes(`create ${v}\n`) ? true : undefined), 15_000);
    await ok(s, ['volume', 'rm', v]);
    await until('the remove streamed', async () => (seen.includes(`remove ${v}\n`) ? true : undefined), 15_000);
    expect(seen).toBe(`create ${v}\nremove ${v}\n`);
    const closed = new Promise((r) => child.on('close', (code) => r(code)));
    child.kill('SIGINT');
    expect(await closed).toBe(0);
    // --until in the near future: it streams, then stops by itself.
    const stopAt = new Date(Date.now() + 1500).toISOString();
    const t0 = Date.now();
    const r = await s.skiff(['system', 'events', '--filter', `volume=${v}`, '--until', stopAt]);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(r.stdout.split('\n').filter((l) => l !== '')).toHaveLength(2);
  }, 60_000);

  test('--events-backend none logs nothing; journald and unknown backends are refused in one line', async () => {
    const s = newStore(mode);
    const v = unique('none');
    await ok(s, ['--events-backend', 'none', 'volume', 'create', v]);
    await ok(s, ['--events-backend=file', 'volume', 'rm', v]);
    expect((await events(s, ['--filter', `volume=${v}`])).map((e) => e.Status)).toEqual(['remove']);
    // A detached container's monitor inherits it too: no "died" from it.
    const c = unique('nonec');
    await ok(s, ['--events-backend', 'none', 'run', '-d', '--name', c, '--rootfs', mode.rootfs, 'sh', '-c', 'true']);
    await new Promise((r) => setTimeout(r, 1000));
    await ok(s, ['--events-backend', 'none', 'rm', '-f', c]);
    expect(await events(s, ['--filter', `container=${c}`])).toEqual([]);
    const j = await s.skiff(['--events-backend', 'journald', 'ps']);
    expect(j.code).toBe(125);
    expect(j.stderr).toMatch(/^Error: /);
    expect(j.stderr).toMatch(/--events-backend journald is not supported/);
    const u = await s.skiff(['--events-backend', 'syslog', 'ps']);
    expect(u.code).toBe(125);
    expect(u.stderr).toMatch(/invalid --events-backend "syslog"/);
    const e = await s.skiff(['--events-backend', 'none', 'events', '--stream=false']);
    expect(e.code).toBe(125);
    expect(e.stderr).toMatch(/not logged with --events-backend none/);
  }, 60_000);

  test('16 processes logging at once lose nothing and interleave no partial lines', async () => {
    const s = newStore(mode);
    const prefix = unique('conc');
    const names = Array.from({ length: 16 }, (_, i) => `${prefix}-${i}`);
    const created = await Promise.all(names.map((n) => s.skiff(['volume', 'create', n])));
    for (const r of created) expect(r, r.stderr).toMatchObject({ code: 0 });
    const removed = await Promise.all(names.map((n) => s.skiff(['volume', 'rm', n])));
    for (const r of removed) expect(r, r.stderr).toMatchObject({ code: 0 });
    const mine = (await events(s, ['--filter', 'type=volume'])).filter((e) => e.Name?.startsWith(`${prefix}-`));
    expect(mine.filter((e) => e.Status === 'create').map((e) => e.Name).sort()).toEqual([...names].sort());
    expect(mine.filter((e) => e.Status === 'remove').map((e) => e.Name).sort()).toEqual([...names].sort());
    // Every line of the file is one whole JSON object.
    for (const line of readFileSync(logOf(mode), 'utf8').split('\n')) {
      if (line !== '') expect(() => JSON.parse(line), line).not.toThrow();
    }
  }, 120_000);
});
