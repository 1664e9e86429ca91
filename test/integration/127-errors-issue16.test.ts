// Error lines and exit codes as scripts written for Podman and Docker read
// them (issue 16): every error line starts "Error: " (warnings keep
// "skiff: warning: "); a name that does not exist is exit 1 on start, stop,
// kill, restart, pause, unpause, inspect (Docker's; Podman 4 gives 125 there),
// rm and rmi (both); rm of a running container without -f is 2 (Podman's);
// skiff's own failures in run and create are 125. As root and rootless.
import { expect, test } from 'vitest';
import { describeModes, type Result } from './harness.js';
import { newStore } from './store-harness.js';

function expectError(r: Result, code: number, line: string): void {
  expect(r.stderr).toBe(`Error: ${line}\n`);
  expect(r.code).toBe(code);
}

describeModes('errors and exit codes ($name)', (mode) => {
  test('a missing name: exit 1 and one "Error: " line, from every command that names containers or images', async () => {
    const s = newStore(mode);
    for (const args of [['start'], ['stop'], ['kill'], ['restart'], ['pause'], ['unpause'], ['inspect'], ['container', 'inspect'], ['inspect', '--type', 'container'], ['rm'], ['rm', '-f']]) {
      const r = await s.skiff([...args, 'nosuch']);
      expect(r.stdout, args.join(' ')).toBe(args.includes('inspect') ? '[]\n' : '');
      expectError(r, 1, args[0] === 'inspect' && !args.includes('--type') ? 'no such object: nosuch' : 'no such container: nosuch');
    }
    expectError(await s.skiff(['rmi', 'nosuch']), 1, 'no such image: nosuch:latest');
    // stop/rm -i: a missing name is no error at all.
    expect(await s.skiff(['stop', '-i', 'nosuch'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  test('several names: each done, one line per failure; rm of a running one is 2; skiff\'s own failures are 125', async () => {
    const s = newStore(mode);
    const id = (await s.skiff(['run', '-d', '--name', 'alive', '--rootfs', mode.rootfs, 'sleep', '60'])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const stopped = await s.skiff(['stop', '-t', '0', 'nosuch', 'alive']);
    expect(stopped.stdout).toBe('alive\n');
    expectError(stopped, 1, 'no such container: nosuch');
    expect((await s.skiff(['start', 'alive'])).code).toBe(0);
    const running = await s.skiff(['rm', 'alive']);
    expect(running.code).toBe(2);
    expect(running.stderr).toMatch(new RegExp(`^Error: cannot remove container ${id}: container is running: stop the container before removing or force remove \\(-f\\)\\n$`));
    expectError(await s.skiff(['run', '--rm', '--rootfs', mode.rootfs, '--memory', 'lots', 'true']), 125, 'invalid --memory "lots": expected a size such as 512k, 64m or 1g');
    const unknownFlag = await s.skiff(['create', '--no-such-flag', '--rootfs', mode.rootfs, 'true']);
    expect(unknownFlag.code).toBe(125);
    expect(unknownFlag.stderr).toMatch(/^Error: unknown flag: --no-such-flag/);
    expect((await s.skiff(['rm', '-f', 'alive'])).code).toBe(0);
  });
});
