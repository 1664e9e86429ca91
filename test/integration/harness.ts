// Test helpers that read like the docs: runSkiff(mode, ['run', ...]) runs the
// real CLI, as root or as the real unprivileged test user.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { describe, expect, inject } from 'vitest';
import { NEEDS_ROOT, skipTitle } from '../skip.js';
import type { TestUser } from './global-setup.js';

export interface Mode {
  name: 'root' | 'rootless';
  /** The user skiff runs as; null for root. */
  user: TestUser | null;
  /** A busybox rootfs this mode's user owns. */
  rootfs: string;
}

export function integrationEnv() {
  return inject('integration');
}

/** The modes this machine can test: root (when the suite runs as root) and rootless. */
export function modes(): Mode[] {
  return allModes().filter((m) => m.skip === undefined);
}

/**
 * Both modes, each with why this host cannot test it (skip) when it cannot.
 * A mode that cannot run keeps a stand-in user and rootfs, so that its tests
 * are still collected, and counted as skipped.
 */
export function allModes(): (Mode & { skip?: string })[] {
  const env = integrationEnv();
  const stand = { name: env.testUserName, uid: 65534, gid: 65534, home: '/nonexistent' };
  return [
    env.rootRootfs ? { name: 'root', user: null, rootfs: env.rootRootfs } : { name: 'root', user: null, rootfs: '/nonexistent', skip: NEEDS_ROOT },
    env.testUser && env.userRootfs
      ? { name: 'rootless', user: env.testUser, rootfs: env.userRootfs }
      : { name: 'rootless', user: stand, rootfs: '/nonexistent', skip: env.rootlessSkip ?? 'the rootless mode cannot run here' },
  ];
}

/**
 * describe() once per mode, "$name" in the title naming it; a mode this host
 * cannot test is a skipped suite whose title says why and what fixes it.
 */
export function describeModes(title: string, body: (mode: Mode) => void, opts: { concurrent?: boolean; skip?: string; only?: Mode['name'] } = {}): void {
  for (const mode of allModes()) {
    if (opts.only && mode.name !== opts.only) continue;
    const why = opts.skip ?? mode.skip;
    const named = skipTitle(title.replaceAll('$name', mode.name), why);
    const d = why !== undefined ? describe.skip : opts.concurrent ? describe.concurrent : describe;
    d(named, () => body(mode));
  }
}

export function skiffBin(): string {
  return path.join(integrationEnv().installDir, 'bin/skiff');
}

let defaultNetwork = false;

/**
 * This test file tests skiff's default network: its containers get the
 * private network (pasta) when they name none. Every other file runs them
 * with containers.conf's netns = "none" (integrationEnv().networkNoneConf).
 */
export function useDefaultNetwork(): void {
  defaultNetwork = true;
}

const fileStores = new Map<Mode['name'], string>();

/**
 * This test file's store for the mode (SKIFF_ROOT unless a test makes its
 * own with newStore): one per file, so that files running side by side in
 * the suite's workers never see each other's containers and images.
 */
export function defaultStore(mode: Mode): string {
  let root = fileStores.get(mode.name);
  if (root === undefined) {
    root = mkdtempSync(path.join(integrationEnv().workDir, `store-${mode.name}-file-`));
    if (mode.user) chownSync(root, mode.user.uid, mode.user.gid);
    fileStores.set(mode.name, root);
  }
  return root;
}

/** A clean environment, as a user's login would have (no NODE_EXTRA_CA_CERTS etc.). */
export function cleanEnv(mode: Mode, extra: Record<string, string> = {}): Record<string, string> {
  const home = mode.user ? mode.user.home : '/root';
  const env = integrationEnv();
  return {
    ...(defaultNetwork ? {} : { CONTAINERS_CONF: env.networkNoneConf }),
    // Never the machine's real store: one per mode, per test run.
    SKIFF_ROOT: defaultStore(mode),
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    USER: mode.user ? mode.user.name : 'root',
    LANG: 'C.UTF-8',
    ...extra,
  };
}

export interface SpawnOptions {
  env?: Record<string, string>;
  stdio?: StdioOptions;
  cwd?: string;
}

/** The command line that runs `cmd` as the mode's user. */
export function asModeUser(mode: Mode, cmd: string[]): string[] {
  if (!mode.user || process.getuid?.() === mode.user.uid) return cmd;
  return ['setpriv', `--reuid=${mode.user.uid}`, `--regid=${mode.user.gid}`, '--init-groups', '--', ...cmd];
}

export function spawnSkiff(mode: Mode, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const [file, ...rest] = asModeUser(mode, [skiffBin(), ...args]);
  return spawn(file!, rest, {
    env: cleanEnv(mode, opts.env),
    stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'],
    cwd: opts.cwd ?? '/',
  });
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Gathers a child's output until it exits. stdin gets `input` and ends, unless input is null (left open). */
export function collect(child: ChildProcess, input?: string | Buffer | null): Promise<Result> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (child.stdin && input !== null) {
      if (input !== undefined) child.stdin.end(input);
      else child.stdin.end();
    }
  });
}

export function runSkiff(mode: Mode, args: string[], opts: SpawnOptions & { input?: string | Buffer } = {}): Promise<Result> {
  return collect(spawnSkiff(mode, args, opts), opts.input);
}

/** Resolves once `pattern` appears in the child's stdout (bounded by timeoutMs). */
export function waitForOutput(child: ChildProcess, pattern: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${pattern}"; saw: ${seen}`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer | string) => {
      seen += d.toString();
      if (seen.includes(pattern)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/**
 * Whether a container of this mode gets a cgroup of its own on this host (so
 * pause, stats and limits work), by the probe `skiff info` and `doctor` use;
 * when it does not, the reason skiff gives for it.
 */
export async function cgroupOutcome(mode: Mode): Promise<{ cgroup: true } | { cgroup: false; reason: string }> {
  const r = await runSkiff(mode, ['info', '--format', '{{.Host.CgroupLimits}}']);
  if (r.code !== 0) throw new Error(`skiff info failed: ${r.stderr}`);
  const text = r.stdout.trim();
  if (text.startsWith('applied')) return { cgroup: true };
  const m = /^not applied: (.*)$/.exec(text);
  if (!m) throw new Error(`skiff info's CgroupLimits is neither applied nor not applied: ${text}`);
  return { cgroup: false, reason: m[1]! };
}

/** Polls `probe` until it gives a value (bounded): a test waits for a state, never for a time. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A new directory (under the suite's work dir) the mode's user owns, mode 0755. */
export function userDir(mode: Mode, name: string): string {
  const d = mkdtempSync(path.join(integrationEnv().workDir, `${name}-${mode.name}-`));
  chmodSync(d, 0o755);
  if (mode.user) chownSync(d, mode.user.uid, mode.user.gid);
  return d;
}

/** The non-empty lines of a command's output. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** One line on stderr matching `pattern`, nothing on stdout, and the exit code. */
export function expectOneLine(r: Result, code: number, pattern: RegExp): void {
  expect(lines(r.stderr), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(code);
}

/** One GET http://HOST:PORT/ from the host: the body, or `error:` and the error's code. */
export function httpGet(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err) => resolve(`error:${(err as { code?: string }).code ?? err.message}`));
    req.end();
  });
}
