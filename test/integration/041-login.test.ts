// skiff login / logout through the real CLI, as root and as the unprivileged
// test user, against real registries (Basic and token auth, plain and TLS).
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRegistryClient } from '../../lib/registry/client.js';
import { asModeUser, integrationEnv, runSkiff, skiffBin, type Mode, describeModes } from './harness.js';
import { pushImage, startRegistry, type TestRegistry } from './registry-harness.js';

const USER = 'alice';
const PASSWORD = 's3cret pass';
let basic: TestRegistry;
let token: TestRegistry;
let tls: TestRegistry;
let confFile: string;

beforeAll(async () => {
  [basic, token, tls] = await Promise.all([
    startRegistry({ basicAuth: { user: USER, password: PASSWORD } }),
    startRegistry({ tokenAuth: true, basicAuth: { user: USER, password: PASSWORD } }),
    startRegistry({ tls: true, basicAuth: { user: USER, password: PASSWORD } }),
  ]);
  await pushImage(basic, 'app', 'v1', { format: 'oci', layers: [{ entries: [{ name: 'x', data: 'x' }], compression: 'gzip' }] });
  confFile = path.join(integrationEnv().workDir, 'login-registries.conf');
  writeFileSync(confFile, '');
  chmodSync(confFile, 0o644);
});
afterAll(async () => {
  await Promise.all([basic?.stop(), token?.stop(), tls?.stop()]);
});

describeModes('login and logout ($name)', (mode) => {
  /** A fresh XDG_CONFIG_HOME the mode's user owns. */
  function configHome(): string {
    const dir = mkdtempSync(path.join(integrationEnv().workDir, 'login-'));
    chmodSync(dir, 0o755);
    if (mode.user) chownSync(dir, mode.user.uid, mode.user.gid);
    return dir;
  }
  const env = (home: string, extra: Record<string, string> = {}) => ({
    XDG_CONFIG_HOME: home,
    SKIFF_REGISTRIES_CONF: confFile,
    SKIFF_CERTS_DIR: '/nonexistent',
    ...extra,
  });
  const login = (home: string, args: string[], input?: string, extra?: Record<string, string>) =>
    runSkiff(mode, ['login', ...args], { env: env(home, extra), ...(input !== undefined ? { input } : {}) });

  test('--password-stdin saves the credentials 0600 in a 0700 directory, and a pull can use them', async () => {
    const home = configHome();
    const r = await login(home, ['-u', USER, '--password-stdin', basic.host], `${PASSWORD}\n`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Login Succeeded!\n');
    expect(r.code).toBe(0);
    const file = path.join(home, 'skiff', 'auth.json');
    const st = statSync(file);
    expect(st.mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    if (mode.user) expect(st.uid).toBe(mode.user.uid);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc.auths[basic.host].auth).toBe(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
    const image = await createRegistryClient({ authFile: file }).resolve(`${basic.host}/app:v1`);
    expect(image.manifest.layers).toHaveLength(1);

    // Logging in again without flags checks what is saved.
    const again = await login(home, [basic.host]);
    expect(again.stdout).toBe(`Existing credentials are valid. Already logged in to ${basic.host}\n`);
    expect(again.code).toBe(0);
  });

  test('a wrong password is refused before anything is saved', async () => {
    const home = configHome();
    const r = await login(home, ['-u', USER, '--password-stdin', basic.host], 'wrong\n');
    expect(r.stderr).toBe(`Error: logging in to ${basic.host}: invalid username or password\n`);
    expect(r.code).toBe(125);
    expect(existsSync(path.join(home, 'skiff', 'auth.json'))).toBe(false);
  });

  test('the token flow checks credentials at the issuer', async () => {
    const home = configHome();
    const before = token.tokenIssuer!.requests.length;
    const ok = await login(home, ['--username', USER, '--password-stdin', token.host], PASSWORD);
    expect(ok.stdout).toBe('Login Succeeded!\n');
    expect(token.tokenIssuer!.requests.slice(before)).toEqual([
      { scopes: [], service: token.tokenIssuer!.service, account: USER, user: USER, granted: true },
    ]);
    const bad = await login(home, ['-u', USER, '--password-stdin', token.host], 'nope');
    expect(bad.stderr).toBe(`Error: logging in to ${token.host}: invalid username or password\n`);
    expect(bad.code).toBe(125);
  });

  test('TLS: the CA from the certs.d directory, or --tls-verify=false', async () => {
    const home = configHome();
    const noCa = await login(home, ['-u', USER, '--password-stdin', tls.host], PASSWORD);
    expect(noCa.stderr).toBe(
      `Error: logging in to ${tls.host}: registry ${tls.host}: x509: certificate signed by unknown authority: ` +
        `add the CA to /nonexistent/${tls.host}/ca.crt or use --tls-verify=false\n`,
    );
    const withCa = await login(home, ['-u', USER, '--password-stdin', tls.host], PASSWORD, { SKIFF_CERTS_DIR: tls.certsDir! });
    expect(withCa.stdout).toBe('Login Succeeded!\n');
    const insecure = await login(configHome(), ['--tls-verify=false', '-u', USER, '-p', PASSWORD, tls.host]);
    expect(insecure.stderr).toBe('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    expect(insecure.stdout).toBe('Login Succeeded!\n');
  });

  test('--authfile and $SKIFF_AUTH_FILE choose the file', async () => {
    const home = configHome();
    const viaFlag = path.join(home, 'flag', 'auth.json');
    expect((await login(home, ['--authfile', viaFlag, '-u', USER, '--password-stdin', basic.host], PASSWORD)).code).toBe(0);
    expect(JSON.parse(readFileSync(viaFlag, 'utf8')).auths[basic.host]).toBeDefined();
    const viaEnv = path.join(home, 'env.json');
    expect((await login(home, ['-u', USER, '--password-stdin', basic.host], PASSWORD, { SKIFF_AUTH_FILE: viaEnv })).code).toBe(0);
    expect(JSON.parse(readFileSync(viaEnv, 'utf8')).auths[basic.host]).toBeDefined();
    expect(existsSync(path.join(home, 'skiff', 'auth.json'))).toBe(false);
  });

  test('without a terminal nothing is prompted for', async () => {
    const home = configHome();
    const r = await login(home, [basic.host]);
    expect(r.stderr).toBe('Error: cannot prompt for a username without a terminal: use --username and --password-stdin\n');
    expect(r.code).toBe(125);
    const p = await login(home, ['-u', USER, basic.host]);
    expect(p.stderr).toBe('Error: cannot prompt for a password without a terminal: use --password-stdin\n');
    const both = await login(home, ['--password-stdin', basic.host], PASSWORD);
    expect(both.stderr).toBe('Error: --password-stdin needs --username\n');
  });

  test('on a terminal the password is asked for with echo off', async () => {
    const home = configHome();
    const line = `XDG_CONFIG_HOME=${home} SKIFF_REGISTRIES_CONF=${confFile} ${skiffBin()} login -u ${USER} ${basic.host}`;
    const r = await underTerminal(mode, line, `${PASSWORD}\r`);
    expect(r.stdout).toContain('Password: ');
    expect(r.stdout).toContain('Login Succeeded!');
    expect(r.stdout).not.toContain(PASSWORD);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(home, 'skiff', 'auth.json'), 'utf8')).auths[basic.host]).toBeDefined();
  });

  test('logout removes one registry, says so, and exits 1 when not logged in', async () => {
    const home = configHome();
    for (const reg of [basic, token]) {
      expect((await login(home, ['-u', USER, '--password-stdin', reg.host], PASSWORD)).code).toBe(0);
    }
    const out = await runSkiff(mode, ['logout', basic.host], { env: env(home) });
    expect(out.stdout).toBe(`Removed login credentials for ${basic.host}\n`);
    expect(out.code).toBe(0);
    const file = path.join(home, 'skiff', 'auth.json');
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).auths)).toEqual([token.host]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await runSkiff(mode, ['logout', basic.host], { env: env(home) });
    expect(again.stderr).toBe(`Error: not logged into ${basic.host}\n`);
    expect(again.code).toBe(1);
    const all = await runSkiff(mode, ['logout', '--all'], { env: env(home) });
    expect(all.stdout).toBe('Removed login credentials for all registries\n');
    expect(JSON.parse(readFileSync(file, 'utf8')).auths).toEqual({});
  });
});

/** Runs a command line under `script`, so skiff's stdin is a terminal; `input` is typed once the prompt shows. */
function underTerminal(mode: Mode, commandLine: string, input: string): Promise<{ code: number | null; stdout: string }> {
  const [file, ...args] = asModeUser(mode, ['script', '-qefc', commandLine, '/dev/null']);
  const child = spawn(file!, args, {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: mode.user?.home ?? '/root', TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: '/',
  });
  let stdout = '';
  const timers: NodeJS.Timeout[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const prompted = stdout.includes('Password: ');
    stdout += d;
    if (!prompted && stdout.includes('Password: ')) timers.push(setTimeout(() => child.stdin.write(input), 200));
  });
  child.stderr.resume();
  timers.push(setTimeout(() => child.stdin.end(), 8000));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      timers.forEach(clearTimeout);
      resolve({ code, stdout });
    });
  });
}
