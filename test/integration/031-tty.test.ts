// -t and -it under a real terminal: util-linux `script` gives skiff a pty.
import { spawn } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { asModeUser, defaultStore, integrationEnv, runSkiff, skiffBin, type Mode, describeModes } from './harness.js';

/**
 * Runs a shell command line under `script`, feeding `input` after a pause.
 * script keeps going until its own stdin closes, so that closes after closeMs.
 */
function underTerminal(mode: Mode, commandLine: string, input = '', delayMs = 800, closeMs = 4000, env: Record<string, string> = {}) {
  const [file, ...args] = asModeUser(mode, ['script', '-qefc', commandLine, '/dev/null']);
  const child = spawn(file!, args, {
    // Never the machine's real store (harness.ts): the run's store of this mode.
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: mode.user?.home ?? '/root', TERM: 'xterm', SKIFF_ROOT: storeOf(mode), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: '/',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // A command that ends before its input is due closes the pipe: EPIPE then is no failure of the test.
  child.stdin.on('error', () => {});
  const timers = [setTimeout(() => child.stdin.write(input), delayMs), setTimeout(() => child.stdin.end(), Math.max(closeMs, delayMs))];
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      timers.forEach(clearTimeout);
      resolve({ code, stdout, stderr });
    });
  });
}

function storeOf(mode: Mode): string {
  return defaultStore(mode);
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describeModes('tty ($name)', (mode) => {
  const skiff = `${skiffBin()} run --rootfs ${quote(mode.rootfs)}`;

  test('-t gives the container a terminal of its own devpts', async () => {
    const r = await underTerminal(mode, `${skiff} -t sh -c 'tty; test -t 0 && test -t 1 && echo both-tty'`);
    expect(r.stdout).toContain('/dev/pts/0');
    expect(r.stdout).toContain('both-tty');
    expect(r.code).toBe(0);
  });

  test('-it is interactive, with the window size and the exit code', async () => {
    const r = await underTerminal(mode, `stty rows 22 cols 77; ${skiff} -it sh`, 'echo sum-$((40+2))\nstty size\nexit 5\n');
    expect(r.stdout).toContain('sum-42');
    expect(r.stdout).toContain('22 77');
    expect(r.code).toBe(5);
  });

  test('a resize of the caller terminal reaches the container', async () => {
    // A background job's stdin is /dev/null: name the terminal before.
    const line = `stty rows 24 cols 80; t=$(tty); (sleep 1.2; stty -F $t rows 30 cols 100) & ${skiff} -it sh -c 'stty size; sleep 2.5; stty size'`;
    const r = await underTerminal(mode, line);
    const sizes = r.stdout.match(/^\d+ \d+/gm);
    expect(sizes).toEqual(['24 80', '30 100']);
  });

  test("the caller's terminal mode is restored on exit, even when the helper is killed", async () => {
    const line =
      `before=$(stty -g); ${skiff} -it sh -c 'exit 3'; after=$(stty -g); [ "$before" = "$after" ] && echo restored-1; ` +
      // Kill only this skiff's helper (its one child): other tests run in parallel.
      `f=$(mktemp); (sleep 1; pkill -KILL -P "$(cat $f)") & sh -c "echo \\$\\$ > $f; exec ${skiff} -it sleep 20"; ` +
      `after=$(stty -g); rm -f $f; [ "$before" = "$after" ] && echo restored-2`;
    const r = await underTerminal(mode, line, '', 800, 6000);
    expect(r.stdout).toContain('restored-1');
    expect(r.stdout).toContain('restored-2');
    expect(r.stdout).toContain('Error: the skiff helper was killed by SIGKILL');
  });

  test("a terminal's Ctrl-C without -t reaches the container exactly once", async () => {
    // The terminal signals skiff's whole process group (Node and the helper);
    // the container must still see one SIGINT. The script comes in through -e S.
    const S = 'n=0; trap \'n=$((n+1)); echo int-$n\' INT; echo ready; i=0; while [ $i -lt 25 ]; do sleep 0.1; i=$((i+1)); done; echo final-$n';
    const r = await underTerminal(mode, `exec ${skiff} -e S sh -c 'eval "$S"'`, '\x03', 1200, 4500, { S });
    expect(r.stdout).toContain('ready');
    expect(r.stdout).toContain('final-1');
    expect(r.stdout).not.toContain('int-2');
  });

  test('a detached container outlives the terminal it was started from', async () => {
    const name = `hup-${mode.name}`;
    // script closes the terminal when the shell exits: the session gets SIGHUP.
    const r = await underTerminal(mode, `${skiffBin()} run -d --name ${name} --rootfs ${quote(mode.rootfs)} sleep 30 >/dev/null; echo started`, '', 100, 500);
    expect(r.stdout).toContain('started');
    await new Promise((done) => setTimeout(done, 500));
    const env = { SKIFF_ROOT: storeOf(mode) };
    expect((await runSkiff(mode, ['inspect', '-f', '{{.State.Status}}', name], { env })).stdout).toBe('running\n');
    expect((await runSkiff(mode, ['rm', '-f', name], { env })).code).toBe(0);
  });

  test('exec -it gets a terminal of its own in the running container, and its exit code', async () => {
    const name = `exec-tty-${mode.name}`;
    const env = { SKIFF_ROOT: storeOf(mode) };
    await runSkiff(mode, ['run', '-d', '--name', name, '--rootfs', mode.rootfs, 'sleep', '30'], { env });
    const r = await underTerminal(mode, `${skiffBin()} exec -it ${name} sh`, 'tty; test -t 0 && test -t 1 && echo exec-tty-ok\nexit 6\n');
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain('exec-tty-ok');
    expect(r.code).toBe(6);
    await runSkiff(mode, ['rm', '-f', name], { env });
  });
});
