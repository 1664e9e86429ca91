// Podman's global options (issue 16, part A), each through the real CLI, as
// root and rootless: --root, --runroot, --storage-driver, --log-level (the
// debug log names the helper's mode and the mounts it made), --events-backend,
// --noout, --tmpdir, --cgroup-manager, the remote options refused, --help and
// -h on every command, and info's fields that Podman scripts read.
import { existsSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultStore, expectOneLine, integrationEnv, modes, runSkiff, userDir } from './harness.js';
import { startBusyboxRegistry, type TestRegistry } from './registry-harness.js';
import { newStore } from './store-harness.js';
import { makeTar } from '../unit/helpers/make-tar.js';
import { skipTitle } from '../skip.js';

let reg: TestRegistry;
let image = '';

beforeAll(async () => {
  ({ reg, image } = await startBusyboxRegistry(integrationEnv().imageRootfs, 'global', '1', { format: 'oci', config: { Cmd: ['sh'], Labels: { team: 'ev16' } } }));
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

describe.each(modes())('global options ($name)', (mode) => {
  test('--root and --runroot: the store and the runtime state go where they say, for every command', async () => {
    const root = userDir(mode, 'groot');
    const runroot = userDir(mode, 'grunroot');
    const g = ['--root', root, '--runroot', runroot];
    const info = await runSkiff(mode, [...g, 'info', '--format', '{{.Store.GraphRoot}} {{.Store.RunRoot}}']);
    expect(info.stdout).toBe(`${root} ${runroot}\n`);
    const created = await runSkiff(mode, [...g, 'create', '--name', 'placed', '--rootfs', mode.rootfs, 'true']);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(existsSync(path.join(root, 'containers', id, 'config.json'))).toBe(true);
    expect(existsSync(path.join(runroot, 'containers', id))).toBe(true);
    // Another store does not see it; the same --root does.
    expect((await runSkiff(mode, ['ps', '-a', '--format', '{{.Names}}'])).stdout).not.toMatch(/^placed$/m);
    expect((await runSkiff(mode, [...g, 'ps', '-a', '--format', '{{.Names}}'])).stdout).toBe('placed\n');
    // --option=value is the same.
    expect((await runSkiff(mode, [`--root=${root}`, `--runroot=${runroot}`, 'start', '-a', 'placed'])).code).toBe(0);
    expect((await runSkiff(mode, [...g, 'rm', 'placed'])).code).toBe(0);
    expect(readdirSync(path.join(root, 'containers')).filter((n) => n !== 'names')).toEqual([]);
  });

  test('a store the host will not let skiff write is one line naming the path and why, not an internal error', async () => {
    // A read-only file system: refused to root as to the test user.
    const dir = mkdtempSync(path.join(integrationEnv().workDir, 'ro-store-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', dir]);
    try {
      // The store's directory is there (as one made earlier), its file system now read-only.
      execFileSync('mkdir', ['-m', '0777', path.join(dir, 's')]);
      execFileSync('mount', ['-o', 'remount,ro', dir]);
      const r = await runSkiff(mode, ['--root', path.join(dir, 's'), 'run', '--rm', '--rootfs', mode.rootfs, 'true']);
      expectOneLine(r, 125, new RegExp(`^Error: cannot mkdir ${dir}/s/\\S+: read-only file system\n$`));
    } finally {
      execFileSync('umount', [dir]);
      rmdirSync(dir);
    }
  });

  test('--root with an image: pull, run and rmi in that store', async () => {
    const root = userDir(mode, 'gimg');
    const pulled = await runSkiff(mode, ['--root', root, 'pull', '-q', image]);
    expect(pulled.code).toBe(0);
    expect(readdirSync(path.join(root, 'layers')).length).toBe(1);
    const r = await runSkiff(mode, ['--root', root, 'run', '--rm', image, 'echo', 'in-root']);
    expect(r.stdout).toBe('in-root\n');
    expect((await runSkiff(mode, ['--root', root, 'rmi', image])).code).toBe(0);
    expect(readdirSync(path.join(root, 'layers'))).toEqual([]);
  });

  test('--log-level debug: what skiff decided, the helper it started (its mode) and each mount the helper made', async () => {
    const store = newStore(mode);
    expect((await store.skiff(['pull', '-q', image])).code).toBe(0);
    const r = await store.skiff(['--log-level', 'debug', 'run', '--rm', '-v', `${mode.rootfs}/etc:/mnt/etc:ro`, image, 'echo', 'debugged']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('debugged\n');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    for (const l of lines) expect(l).toMatch(/^time="[^"]+" level=debug msg=".*"$/);
    const text = lines.join('\n');
    expect(text).toContain(`root=${store.root} `);
    expect(text).toMatch(/helper: \S+skiff-helper mode run; spec of \d+ entries/);
    expect(text).toMatch(/storage: overlay of 1 layers/);
    expect(text).toMatch(/helper \d+: mounted overlay on \S+\/merged \((fsopen|mount\(2\)), userxattr, 1 layers/);
    expect(text).toContain('mounted proc on /proc (type proc)');
    expect(text).toContain(`mounted ${mode.rootfs}/etc on /mnt/etc (bind)`);
    expect(text).toMatch(/wrote \S+\/containers\/[0-9a-f]{64}\/\{container\.json,config\.json\} and (upper|work|merged)(, (upper|work|merged))*;/);
    expect(text).not.toContain('[object Object]');
    // The container's environment is never logged.
    const secret = await store.skiff(['--log-level=debug', 'run', '--rm', '-e', 'TOKEN=s3cr3t-value', image, 'true']);
    expect(secret.code).toBe(0);
    expect(secret.stderr).not.toContain('s3cr3t-value');
    // Rootless, store work re-executes in the user namespace, and says so.
    if (mode.user) {
      const pull = await store.skiff(['--log-level', 'debug', 'rmi', image]);
      expect(pull.stderr).toContain('re-executing this command as root of a user namespace');
      expect(pull.stderr).toMatch(/helper: \S+skiff-helper mode userns/);
    }
  });

  test('--log-level: every Podman level is accepted; above debug nothing is logged; an unknown one is exit 1', async () => {
    for (const level of ['info', 'warn', 'error', 'fatal', 'panic']) {
      const r = await runSkiff(mode, ['--log-level', level, 'run', '--rm', '--rootfs', mode.rootfs, 'echo', level]);
      expect(r.stdout).toBe(`${level}\n`);
      expect(r.stderr).not.toContain('level=debug');
      expect(r.code).toBe(0);
    }
    expectOneLine(await runSkiff(mode, ['--log-level', 'verbose', 'ps']), 1, /invalid --log-level "verbose": use one of debug, info, warn, error, fatal, panic/);
    expectOneLine(await runSkiff(mode, ['--log-level']), 125, /flag needs an argument: --log-level/);
  });

  test('--noout: standard output goes to /dev/null, for skiff and the container; errors still show', async () => {
    const r = await runSkiff(mode, ['--noout', 'run', '--rm', '--rootfs', mode.rootfs, 'sh', '-c', 'echo out; echo err >&2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('err\n');
    expect((await runSkiff(mode, ['--noout', 'version'])).stdout).toBe('');
    expect((await runSkiff(mode, ['--noout=false', 'version'])).stdout).toMatch(/^Version: /);
    const missing = await runSkiff(mode, ['--noout', 'inspect', 'no-such-thing']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no-such-thing/);
  });

  test("--tmpdir: skiff's temporary files outside the store go there", async () => {
    const store = newStore(mode);
    expect((await store.skiff(['create', '--name', 't', '--rootfs', userDir(mode, 'gtmprootfs'), 'true'])).code).toBe(0);
    const tar = makeTar([{ name: 'hello', data: 'hi\n', mode: 0o644 }]);
    // A directory where no one, root included, can make one: the copy's staging directory cannot be made there.
    const refused = await store.skiff(['--tmpdir', '/proc', 'cp', '-', 't:/'], { input: tar });
    expectOneLine(refused, 125, /cannot make a temporary directory in \/proc \(E\w+\): give a writable one with --tmpdir/);
    const tmp = userDir(mode, 'gtmp');
    expect((await store.skiff(['--tmpdir', tmp, 'cp', '-', 't:/'], { input: tar })).code).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
    expectOneLine(await store.skiff(['--tmpdir', '/no/such/dir', 'ps']), 125, /--tmpdir \/no\/such\/dir: no such directory/);
  });

  test('--events-backend, --storage-driver, --cgroup-manager: values checked, choices shown by info', async () => {
    const fields = '{{.Host.EventLogger}} {{.Store.GraphDriverName}}';
    expect((await runSkiff(mode, ['--events-backend', 'none', 'info', '--format', fields])).stdout).toBe('none overlay\n');
    expect((await runSkiff(mode, ['--events-backend=file', '--storage-driver', 'overlay', 'info', '--format', fields])).stdout).toBe('file overlay\n');
    expectOneLine(await runSkiff(mode, ['--events-backend', 'syslog', 'ps']), 125, /invalid --events-backend "syslog": use file or none/);
    const journald = await runSkiff(mode, ['--events-backend', 'journald', 'ps']);
    if (!existsSync('/run/systemd/journal/socket')) expectOneLine(journald, 125, /no systemd journal \(\/run\/systemd\/journal\/socket is missing\)/);
    else expectOneLine(journald, 125, /--events-backend journald/);
    expectOneLine(await runSkiff(mode, ['--storage-driver', 'btrfs', 'ps']), 125, /invalid --storage-driver "btrfs"/);
    // A new store takes the driver asked for (126-vfs-storage tests what vfs does).
    expect((await runSkiff(mode, ['--root', userDir(mode, 'gvfs'), '--storage-driver', 'vfs', 'info', '--format', fields])).stdout).toBe('file vfs\n');
    const cgroupfs = await runSkiff(mode, ['--cgroup-manager', 'cgroupfs', 'run', '--rm', '--rootfs', mode.rootfs, 'true']);
    if (mode.user) expectOneLine(cgroupfs, 125, /cgroupfs/);
    else expect(cgroupfs.code).toBe(0);
    expectOneLine(await runSkiff(mode, ['--cgroup-manager', 'upstart', 'ps']), 125, /invalid --cgroup-manager "upstart": use systemd or cgroupfs/);
  });

  test('--url, --connection, --remote and unknown global flags are refused in one line', async () => {
    expectOneLine(await runSkiff(mode, ['--remote', 'ps']), 125, /--remote: skiff has no service to connect to/);
    expectOneLine(await runSkiff(mode, ['-r', 'ps']), 125, /--remote: skiff has no service/);
    expectOneLine(await runSkiff(mode, ['--url', 'unix:///run/podman/podman.sock', 'ps']), 125, /--url: skiff has no service/);
    expectOneLine(await runSkiff(mode, ['--connection=prod', 'ps']), 125, /--connection: skiff has no service/);
    expectOneLine(await runSkiff(mode, ['--no-such-global', 'ps']), 125, /unknown flag: --no-such-global/);
    // --storage-opt: skiff's drivers take none; "" (none) is accepted.
    expectOneLine(await runSkiff(mode, ['--storage-opt', 'overlay.mount_program=/usr/bin/fuse-overlayfs', 'ps']), 125, /^Error: --storage-opt overlay\.mount_program=\/usr\/bin\/fuse-overlayfs: skiff's storage drivers \(overlay, vfs\) take no options; run without --storage-opt$/m);
    expect(await runSkiff(mode, ['--storage-opt', '', 'ps', '-a', '--format', '{{.ID}}'])).toMatchObject({ code: 0, stderr: '' });
  });

  test("info's fields that Podman scripts read", async () => {
    const r = await runSkiff(mode, [
      'info',
      '--format',
      '{{.Host.OCIRuntime.Name}}|{{.Host.LogDriver}}|{{.Host.EventLogger}}|{{.Host.NetworkBackend}}|{{.Host.CgroupsVersion}}|{{.Host.Security.Rootless}}|{{.Store.GraphDriverName}}',
    ]);
    expect(r.stdout).toMatch(new RegExp(`^skiff-helper\\|k8s-file\\|file\\|none\\|(v1|v2)\\|${mode.user ? 'true' : 'false'}\\|overlay\\n$`));
    const json = JSON.parse((await runSkiff(mode, ['info', '--format', 'json'])).stdout);
    expect(json.Host.OCIRuntime.Path).toMatch(/skiff-helper$/);
    expect(json.Store.GraphRoot).toBe(defaultStore(mode));
  });

  test("image and container fields that Podman scripts read: .Id, .Names, .Labels, .Digest, .History, history's .Created, .ImageName, .Driver, .State.Health", async () => {
    const store = newStore(mode);
    const ok = async (args: string[]) => {
      const r = await store.skiff(args);
      expect(r, `${args.join(' ')}: ${r.stderr}`).toMatchObject({ code: 0 });
      return r.stdout;
    };
    await ok(['pull', '-q', image]);
    const [id, shortId] = (await ok(['images', '--no-trunc', '--format', '{{.ID}}'])).trim().split('\n').concat((await ok(['images', '--format', '{{.ID}}'])).trim());
    expect(await ok(['images', '--format', '{{.Id}} {{.ID}} {{.Names}}'])).toBe(`${shortId} ${shortId} [${image}]\n`);
    const manifest = (await ok(['images', '--digests', '--format', '{{.Digest}}'])).trim();
    expect(manifest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await ok(['image', 'inspect', '--format', '{{.Id}} {{.Digest}} {{json .Labels}} {{len .History}}', image])).toBe(`${id} ${manifest} {"team":"ev16"} 1\n`);
    expect(await ok(['images', '--format', '{{json .Labels}}'])).toBe('{"team":"ev16"}\n');
    expect(await ok(['history', '--format', '{{.Created}}|{{.CreatedSince}}', image])).toMatch(/^(.+)\|\1\n/);
    await ok(['create', '--name', 'named', image, 'true']);
    expect(await ok(['inspect', '--format', '{{.ImageName}} {{.Config.CreateCommand}}', 'named'])).toBe(`${image} [skiff create --name named ${image} true]\n`);
    // Go's index: a label by name, a missing one empty.
    expect(await ok(['inspect', '--format', '{{index .Config.Labels "team"}}|{{index .Config.Labels "none"}}|', 'named'])).toBe('ev16||\n');
    // Podman's .Driver and .State.Health (no healthcheck: an empty status, not an error).
    expect(await ok(['inspect', '--format', '{{.Driver}}|{{.State.Health.Status}}|{{json .State.Health}}', 'named'])).toBe('overlay||{"Status":"","FailingStreak":0,"Log":null}\n');
    await ok(['rm', 'named']);
  });
});

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((f) => existsSync(f));

describe.each(modes())('--runtime and --runtime-flag ($name)', (mode) => {
  // Root only: rootless refuses another runtime (the next test checks that refusal).
  if (mode.user === null) test.skipIf(!RUNC)(skipTitle("runc runs the config.json skiff wrote: an image's container, foreground, as root", RUNC ? undefined : 'runc is not installed: apt-get install runc'), async () => {
    const store = newStore(mode);
    expect((await store.skiff(['pull', '-q', image])).code).toBe(0);
    const r = await store.skiff(['--runtime', 'runc', '--log-level', 'debug', 'run', '--rm', '--hostname', 'viarunc', image, 'sh', '-c', 'echo $(cat /etc/hostname) $(id -u); grep -c "^Seccomp:.*2" /proc/self/status; exit 3']);
    expect(r.stdout).toBe('viarunc 0\n1\n');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`runtime: unshare .* ${RUNC} run --bundle \\S+/containers/[0-9a-f]{64} [0-9a-f]{64}`));
    expect(store.ls('containers').filter((n) => n !== 'names')).toEqual([]);
    // --runtime-flag reaches the runtime: runc --debug logs on stderr.
    const flagged = await store.skiff(['--runtime', RUNC!, '--runtime-flag', 'debug', 'run', '--rm', '--rootfs', mode.rootfs, 'true']);
    expect(flagged.code).toBe(0);
    expect(flagged.stderr).toMatch(/level=debug/);
    expect((await store.skiff(['--runtime', 'runc', 'info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}'])).stdout).toBe(`runc ${RUNC}\n`);
    // What only skiff's helper does is refused in one line.
    expectOneLine(await store.skiff(['--runtime', 'runc', 'run', '-d', '--rootfs', mode.rootfs, 'true']), 125, /--runtime \S+runc: a detached or started container .* runs only through skiff's own helper/);
  });

  test('rootless refuses another runtime; flags without one, and a missing runtime, are refused', async () => {
    if (mode.user && RUNC) expectOneLine(await runSkiff(mode, ['--runtime', RUNC, 'run', '--rm', '--rootfs', mode.rootfs, 'true']), 125, /rootless, a container runs only through skiff's own helper/);
    expectOneLine(await runSkiff(mode, ['--runtime-flag', 'debug', 'ps']), 125, /--runtime-flag: skiff's own helper takes no runtime flags/);
    expectOneLine(await runSkiff(mode, ['--runtime', 'no-such-runtime', 'ps']), 125, /--runtime no-such-runtime: no such program/);
    const own = await runSkiff(mode, ['--runtime', 'skiff-helper', 'run', '--rm', '--rootfs', mode.rootfs, 'echo', 'helper']);
    expect(own.stdout).toBe('helper\n');
    expect(own.code).toBe(0);
  });
});

describe('--help and -h', () => {
  const mode = modes()[0]!;
  test('skiff --help lists the global options; -h is the same', async () => {
    const r = await runSkiff(mode, ['--help']);
    expect(r.code).toBe(0);
    for (const o of ['--root', '--runroot', '--storage-driver', '--log-level', '--events-backend', '--cgroup-manager', '--tmpdir', '--noout']) expect(r.stdout).toContain(o);
    expect((await runSkiff(mode, ['-h'])).stdout).toBe(r.stdout);
  });

  // Every command's table is checked in test/unit/global-options-help.test.ts; here the real CLI, a few of each kind.
  test('commands, subcommands and nested groups answer --help; -h too where the command leaves it free', async () => {
    for (const words of [['ps'], ['container', 'ls'], ['image', 'exists'], ['volume', 'create'], ['system', 'df'], ['buildx', 'build']]) {
      const r = await runSkiff(mode, [...words, '--help']);
      expect(r.stdout.startsWith(`Usage: skiff ${words.join(' ')}`), `${words.join(' ')}: ${r.stderr}`).toBe(true);
      expect(r.code).toBe(0);
      expect((await runSkiff(mode, [...words, '-h'])).stdout).toBe(r.stdout);
    }
    // run's -h is --hostname, as Docker's; --help still works.
    expect((await runSkiff(mode, ['run', '--help'])).stdout).toMatch(/^Usage: skiff run/);
  });
});
