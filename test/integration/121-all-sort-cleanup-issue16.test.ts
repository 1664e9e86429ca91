// Issue 16, Podman's flags on existing commands: --all (with --filter) on
// start, stop, kill and restart; rmi --all; ps --sort, --noheading and --last;
// diff --latest; container cleanup after a killed monitor. As root and as the
// unprivileged test user, each in a store (and runtime directory) of its own,
// so --all sees only what the test made.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeModes, expectOneLine, integrationEnv, lines, until, userDir, type Mode } from './harness.js';
import { startBusyboxRegistry, type TestRegistry } from './registry-harness.js';
import { newStore } from './store-harness.js';

let reg: TestRegistry;
let image = '';

beforeAll(async () => {
  ({ reg, image } = await startBusyboxRegistry(integrationEnv().imageRootfs, 'allflags', '1', { format: 'oci', config: { Cmd: ['sh'] } }));
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

const LOOP = 'trap "exit 0" TERM; while :; do sleep 0.05; done';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A store and a runtime directory of the mode's user, and skiff run against both. */
function freshStore(mode: Mode) {
  const s = newStore(mode);
  const runRoot = userDir(mode, 'runroot');
  const skiff = (args: string[]) => s.skiff(args, { env: { SKIFF_RUNROOT: runRoot } });
  const ok = async (args: string[]) => {
    const r = await skiff(args);
    expect(r, `${args.join(' ')}: ${r.stderr}`).toMatchObject({ code: 0 });
    return r;
  };
  return { root: s.root, runRoot, skiff, ok };
}

describeModes('--all, --sort, --latest, cleanup ($name)', (mode) => {
  test('start --filter and --all, stop --filter and --all, restart --all --running, kill --all; names with --all are refused', async () => {
    const { skiff, ok } = freshStore(mode);
    for (const n of ['a1', 'a2', 'a3']) await ok(['create', '--name', n, '--network', 'none', '--label', n === 'a3' ? 'grp=other' : 'grp=one', '--rootfs', mode.rootfs, 'sh', '-c', LOOP]);
    const running = async () => (await ok(['ps', '--format', '{{.Names}}', '--sort', 'names'])).stdout;

    expect(lines((await ok(['start', '--filter', 'label=grp=one'])).stdout)).toHaveLength(2);
    expect(await running()).toBe('a1\na2\n');
    expectOneLine(await skiff(['start', '--all', 'a1']), 125, /--all and container names cannot be combined/);
    expectOneLine(await skiff(['start', '--filter', 'label=grp=one', 'a1']), 125, /--filter and container names cannot be combined/);
    // --all starts only what is not running: a3.
    expect(lines((await ok(['start', '--all'])).stdout)).toHaveLength(1);
    expect(await running()).toBe('a1\na2\na3\n');

    await ok(['stop', '-t', '5', '--filter', 'label=grp=other']);
    expect(await running()).toBe('a1\na2\n');
    expectOneLine(await skiff(['stop', '--all', '--cidfile', '/nonexistent']), 125, /--all or --filter and --cidfile cannot be combined/);
    expectOneLine(await skiff(['stop']), 125, /"skiff stop" requires at least 1 argument, or --all/);

    // --running: only a1 and a2 restart; a3 stays exited.
    const restarted = await ok(['restart', '--all', '--running', '-t', '5']);
    expect(lines(restarted.stdout)).toHaveLength(2);
    expect(await running()).toBe('a1\na2\n');
    expect((await ok(['inspect', '--format', '{{.State.Status}}', 'a3'])).stdout).toBe('exited\n');

    await ok(['stop', '--all', '-t', '5']);
    expect(await running()).toBe('');
    // Nothing to stop: no output, success.
    expect(await ok(['stop', '--all'])).toMatchObject({ stdout: '', stderr: '' });

    await ok(['restart', '--all', '-t', '5']);
    expect(await running()).toBe('a1\na2\na3\n');
    expectOneLine(await skiff(['kill', '--all', 'a1']), 125, /--all and container names cannot be combined/);
    expect(lines((await ok(['kill', '--all'])).stdout)).toHaveLength(3);
    await until('all killed', async () => ((await running()) === '' ? true : undefined));
    expect((await ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}', '--sort', 'names'])).stdout).toMatch(/^a1 Exited \(137\).*\na2 Exited \(137\).*\na3 Exited \(137\)/);
  }, 120_000);

  test('ps --sort created|id|names|size|status, --noheading, --last; an unknown key is refused', async () => {
    const { skiff, ok } = freshStore(mode);
    await ok(['pull', '-q', image]);
    await ok(['run', '--name', 's1', '--network', 'none', image, 'sh', '-c', 'dd if=/dev/zero of=/big bs=1024 count=300 2>/dev/null']);
    await ok(['run', '--name', 's2', '--network', 'none', image, 'true']);
    await ok(['create', '--name', 's3', '--network', 'none', '--rootfs', mode.rootfs, 'true']);
    const names = async (...args: string[]) => (await ok(['ps', '-a', '--format', '{{.Names}}', ...args])).stdout;

    expect(await names()).toBe('s3\ns2\ns1\n');
    expect(await names('--sort', 'created')).toBe('s3\ns2\ns1\n');
    expect(await names('--sort', 'runningfor')).toBe('s3\ns2\ns1\n');
    expect(await names('--sort', 'names')).toBe('s1\ns2\ns3\n');
    // size: what each wrote, smallest first; a --rootfs container has none to count ("-").
    expect(await names('--sort', 'size')).toBe('s3\ns2\ns1\n');
    const ids = lines((await ok(['ps', '-a', '-q', '--no-trunc'])).stdout);
    expect(lines((await ok(['ps', '-a', '-q', '--no-trunc', '--sort', 'id'])).stdout)).toEqual([...ids].sort());
    // status: "Created" before "Exited (0) …".
    expect((await names('--sort', 'status')).split('\n')[0]).toBe('s3');
    expect(await names('--last', '2')).toBe('s3\ns2\n');

    expect((await ok(['ps', '-a', '--sort', 'names', '--format', 'table {{.Names}}'])).stdout).toBe('NAMES\ns1\ns2\ns3\n');
    expect((await ok(['ps', '-a', '--noheading', '--sort', 'names', '--format', 'table {{.Names}}'])).stdout).toBe('s1\ns2\ns3\n');
    const plain = lines((await ok(['ps', '-a', '--noheading'])).stdout);
    expect(plain).toHaveLength(3);
    expect(plain.join('\n')).not.toMatch(/CONTAINER ID/);
    expectOneLine(await skiff(['ps', '--sort', 'colour']), 125, /invalid --sort "colour": use command, created, id, image, names, runningfor, size, status/);
  }, 120_000);

  test('diff --latest; rmi --all (in-use images need -f), names with --all refused', async () => {
    const { root, skiff, ok } = freshStore(mode);
    expectOneLine(await skiff(['diff', '--latest']), 1, /no containers to choose the latest from/);
    await ok(['pull', '-q', image]);
    await ok(['run', '--name', 'd0', '--network', 'none', image, 'sh', '-c', 'echo x > /not-this-one']);
    await ok(['run', '--name', 'd1', '--network', 'none', image, 'sh', '-c', 'echo x > /made-here']);
    const diff = await ok(['diff', '--latest']);
    expect(diff.stdout).toContain('A /made-here');
    expect(diff.stdout).not.toContain('/not-this-one');
    expect((await ok(['diff', '-l', '--format', 'json'])).stdout).toContain('/made-here');
    expectOneLine(await skiff(['diff', '--latest', 'd1']), 125, /give a container, or --latest \(not both\)/);

    await ok(['tag', image, 'second:1']);
    expectOneLine(await skiff(['rmi', '-a', 'second:1']), 125, /--all and image names cannot be combined/);
    // Stopped containers use the image: without -f it stays, exit 2 as Podman.
    const refused = await skiff(['rmi', '--all']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(lines((await ok(['images', '-q'])).stdout)).toHaveLength(1);
    await ok(['rmi', '--all', '--force']);
    expect((await ok(['images', '-q'])).stdout).toBe('');
    expect(existsSync(path.join(root, 'images'))).toBe(true);
    // Nothing left: --all is a success with nothing to say.
    expect(await ok(['rmi', '-a'])).toMatchObject({ stdout: '', stderr: '' });
  }, 120_000);

  test('container cleanup: a killed monitor\'s runtime files and cgroup are released; the container starts again; --rm removes it', async () => {
    const { root, runRoot, skiff, ok } = freshStore(mode);
    const id = (await ok(['run', '-d', '--name', 'm1', '--network', 'none', '--rootfs', mode.rootfs, 'sh', '-c', LOOP])).stdout.trim();
    expectOneLine(await skiff(['container', 'cleanup', 'm1']), 125, /cannot clean up m1: it is running/);
    const started = JSON.parse(readFileSync(path.join(root, 'containers', id, 'pid.json'), 'utf8')) as { Pid: number; MonitorPid: number };
    const record = JSON.parse(readFileSync(path.join(root, 'containers', id, 'container.json'), 'utf8')) as { Cgroup?: { dir: string; v1?: Record<string, string>; manager?: string } };
    const cgroupDirs = record.Cgroup && (record.Cgroup.manager ?? 'cgroupfs') === 'cgroupfs' ? [record.Cgroup.dir, ...Object.values(record.Cgroup.v1 ?? {})].filter((d) => d !== '') : [];
    const runDir = path.join(runRoot, 'containers', id);
    expect(existsSync(runDir)).toBe(true);
    for (const d of cgroupDirs) expect(existsSync(d), d).toBe(true);

    // The monitor dies without its end (no cleanup of its own); the container dies with it (parent-death signal).
    process.kill(started.MonitorPid, 'SIGKILL');
    await until('the container to die with its monitor', () => (alive(started.Pid) ? undefined : true));
    expect((await ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout).toMatch(/^m1 Exited \(137\)/);
    expect(existsSync(runDir)).toBe(true);
    for (const d of cgroupDirs) expect(existsSync(d), d).toBe(true);

    expect((await ok(['container', 'cleanup', 'm1'])).stdout).toBe(`${id}\n`);
    expect(existsSync(runDir)).toBe(false);
    for (const d of cgroupDirs) expect(existsSync(d), d).toBe(false);
    // A cleaned-up container is still there, and starts again (its runtime directory made anew).
    await ok(['start', 'm1']);
    expect((await ok(['ps', '--format', '{{.Names}}'])).stdout).toBe('m1\n');
    await ok(['stop', '-t', '5', 'm1']);

    await ok(['create', '--name', 'm2', '--network', 'none', '--rootfs', mode.rootfs, 'true']);
    expect(lines((await ok(['container', 'cleanup', '--all'])).stdout).sort()).toHaveLength(2);
    await ok(['container', 'cleanup', '--rm', 'm2']);
    expect((await ok(['ps', '-a', '--format', '{{.Names}}'])).stdout).toBe('m1\n');
    expect(existsSync(path.join(root, 'containers', id))).toBe(true);
    expectOneLine(await skiff(['container', 'cleanup', 'no-such']), 125, /no such container: no-such/);
    expectOneLine(await skiff(['container', 'cleanup']), 125, /"skiff container cleanup" requires at least 1 argument, or --all/);
  }, 120_000);
});
