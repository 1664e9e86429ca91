import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  authFilesForLookup,
  defaultAuthFile,
  loginRegistry,
  lookupCredentials,
  matchAuthKey,
  normalizeAuthKey,
  readAuthFile,
  removeAllCredentials,
  removeCredentials,
  saveCredentials,
} from '../../lib/registry/credentials.js';

let dir: string;
let savedPath: string | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'skiff-creds-'));
  savedPath = process.env['PATH'];
});
afterEach(() => {
  process.env['PATH'] = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
function write(rel: string, doc: unknown): string {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return file;
}
/** An environment whose HOME, XDG dirs and DOCKER_CONFIG are all inside the test dir. */
const env = (): NodeJS.ProcessEnv => ({ HOME: path.join(dir, 'home'), XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_RUNTIME_DIR: path.join(dir, 'run') });

describe('where credentials are looked up', () => {
  it("reads skiff's file, then Podman's, then Docker's; overrides stand alone", () => {
    expect(authFilesForLookup(env())).toEqual([
      path.join(dir, 'config/skiff/auth.json'),
      path.join(dir, 'run/containers/auth.json'),
      path.join(dir, 'home/.docker/config.json'),
    ]);
    expect(authFilesForLookup({ ...env(), DOCKER_CONFIG: '/dc' })[2]).toBe('/dc/config.json');
    expect(authFilesForLookup({ ...env(), SKIFF_AUTH_FILE: '/t/a.json' })).toEqual(['/t/a.json']);
    expect(authFilesForLookup({ ...env(), SKIFF_AUTH_FILE: '/t/a.json' }, '/flag.json')).toEqual(['/flag.json']);
    expect(defaultAuthFile(env())).toBe(path.join(dir, 'config/skiff/auth.json'));
    expect(defaultAuthFile({ HOME: '/h' })).toBe('/h/.config/skiff/auth.json');
  });

  it('the first file that knows the registry wins', async () => {
    write('run/containers/auth.json', { auths: { 'r.io': { auth: b64('podman:p') } } });
    write('home/.docker/config.json', { auths: { 'r.io': { auth: b64('docker:d') }, 'd.io': { auth: b64('docker:d') } } });
    expect(await lookupCredentials('r.io', 'app', { env: env() })).toEqual({ username: 'podman', password: 'p', source: path.join(dir, 'run/containers/auth.json') });
    expect((await lookupCredentials('d.io', 'app', { env: env() }))?.username).toBe('docker');
    write('config/skiff/auth.json', { auths: { 'r.io': { auth: b64('skiff:s:with:colons') } } });
    expect(await lookupCredentials('r.io', 'app', { env: env() })).toMatchObject({ username: 'skiff', password: 's:with:colons' });
    expect(await lookupCredentials('none.io', 'app', { env: env() })).toBeUndefined();
  });
});

describe('auth file keys', () => {
  it('normalises Docker-style keys', () => {
    expect(normalizeAuthKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normalizeAuthKey('registry-1.docker.io')).toBe('docker.io');
    expect(normalizeAuthKey('http://r.io:5000/v2/')).toBe('r.io:5000');
    expect(normalizeAuthKey('r.io/team/')).toBe('r.io/team');
    expect(normalizeAuthKey('index.docker.io/library')).toBe('docker.io/library');
  });

  it('matches the longest namespace, then the registry', () => {
    const auths = { 'r.io': {}, 'r.io/team': {}, 'r.io/team/app': {}, 'https://index.docker.io/v1/': {} };
    expect(matchAuthKey(auths, 'r.io', 'team/app')).toBe('r.io/team/app');
    expect(matchAuthKey(auths, 'r.io', 'team/other')).toBe('r.io/team');
    expect(matchAuthKey(auths, 'r.io', 'solo')).toBe('r.io');
    expect(matchAuthKey(auths, 'docker.io', 'library/busybox')).toBe('https://index.docker.io/v1/');
    expect(matchAuthKey(auths, 'other.io', 'x')).toBeUndefined();
    // "r.io/te" is not a namespace of "r.io/team/…".
    expect(matchAuthKey({ 'r.io/te': {} }, 'r.io', 'team/app')).toBeUndefined();
  });

  it('reads "username"/"password" entries and skips empty ones', async () => {
    const file = write('a.json', { auths: { 'a.io': { username: 'u', password: 'p' }, 'b.io': {} } });
    expect(await lookupCredentials('a.io', undefined, { authFile: file })).toMatchObject({ username: 'u', password: 'p' });
    expect(await lookupCredentials('b.io', undefined, { authFile: file })).toBeUndefined();
  });

  it('a malformed file is one line naming it; an empty one is fine', async () => {
    const bad = write('bad.json', '{"auths": ');
    await expect(lookupCredentials('a.io', undefined, { authFile: bad })).rejects.toThrow(`credentials file ${bad} is not valid JSON`);
    const badAuth = write('bad-auth.json', { auths: { 'a.io': { auth: b64('no-colon') } } });
    await expect(lookupCredentials('a.io', undefined, { authFile: badAuth })).rejects.toThrow(
      `credentials file ${badAuth}: the "auth" of "a.io" is not base64 of user:password`,
    );
    expect(readAuthFile(write('empty.json', ''))).toEqual({});
    expect(readAuthFile(path.join(dir, 'missing.json'))).toBeUndefined();
  });
});

describe('writing the auth file', () => {
  it('creates it 0600 in a new 0700 directory, atomically, keeping other entries and fields', () => {
    const file = path.join(dir, 'new', 'skiff', 'auth.json');
    saveCredentials(file, 'r.io:5000', 'u', 'p');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    writeFileSync(file, JSON.stringify({ auths: { 'r.io:5000': { auth: b64('u:p') }, 'https://index.docker.io/v1/': { auth: b64('old:o') } }, credHelpers: { 'x.io': 'x' } }));
    chmodSync(file, 0o644);
    saveCredentials(file, 'https://index.docker.io/v1/', 'hub', 'h');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc).toEqual({ auths: { 'r.io:5000': { auth: b64('u:p') }, 'docker.io': { auth: b64('hub:h') } }, credHelpers: { 'x.io': 'x' } });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.dirname(file))).toEqual(['auth.json']);
  });

  it('removes one registry in any spelling, or all; says when there was nothing', () => {
    const file = write('a.json', { auths: { 'index.docker.io': { auth: b64('a:b') }, 'r.io': { auth: b64('c:d') } } });
    expect(removeCredentials(file, 'docker.io')).toBe(true);
    expect(Object.keys(readAuthFile(file)!.auths!)).toEqual(['r.io']);
    expect(removeCredentials(file, 'docker.io')).toBe(false);
    expect(removeAllCredentials(file)).toBe(true);
    expect(readAuthFile(file)!.auths).toEqual({});
    expect(removeAllCredentials(file)).toBe(false);
    expect(removeCredentials(path.join(dir, 'missing.json'), 'r.io')).toBe(false);
  });

  it('takes registry names as Docker does and refuses others', () => {
    expect(loginRegistry('https://index.docker.io/v1/')).toBe('docker.io');
    expect(loginRegistry('localhost:5000/')).toBe('localhost:5000');
    expect(loginRegistry('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(() => loginRegistry('r.io/team')).toThrow('invalid registry "r.io/team": give a host[:port], e.g. registry.example.com or localhost:5000');
    expect(() => loginRegistry('bad host')).toThrow(/^invalid registry "bad host"/);
  });
});

describe('docker-credential helpers', () => {
  /** A fake docker-credential-NAME on PATH that logs its argv and stdin and answers like the real ones. */
  function fakeHelper(name: string): string {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const log = path.join(dir, `${name}.log`);
    writeFileSync(
      path.join(bin, `docker-credential-${name}`),
      `#!/bin/sh
server=$(cat)
echo "$1 $server" >> ${log}
case "$server" in
  r.io) echo '{"ServerURL":"r.io","Username":"helper-user","Secret":"helper-secret"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"hub","Secret":"hub-secret"}' ;;
  tok.io) echo '{"ServerURL":"tok.io","Username":"<token>","Secret":"refresh-me"}' ;;
  broken.io) echo 'not json' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
      { mode: 0o755 },
    );
    process.env['PATH'] = `${bin}:${savedPath}`;
    return log;
  }

  it('credHelpers: the helper gets "get" and the server name on stdin', async () => {
    const log = fakeHelper('fake');
    const file = write('c.json', { credHelpers: { 'r.io': 'fake', 'https://index.docker.io/v1/': 'fake', 'tok.io': 'fake', 'nf.io': 'fake' } });
    expect(await lookupCredentials('r.io', 'app', { authFile: file })).toEqual({ username: 'helper-user', password: 'helper-secret', source: 'docker-credential-fake' });
    expect(await lookupCredentials('docker.io', 'library/busybox', { authFile: file })).toMatchObject({ username: 'hub', password: 'hub-secret' });
    expect(await lookupCredentials('tok.io', 'app', { authFile: file })).toEqual({ username: '', password: '', identityToken: 'refresh-me', source: 'docker-credential-fake' });
    expect(await lookupCredentials('nf.io', 'app', { authFile: file })).toBeUndefined();
    expect(readFileSync(log, 'utf8')).toBe('get r.io\nget https://index.docker.io/v1/\nget tok.io\nget nf.io\n');
  });

  it('credsStore serves registries without a credHelpers entry; auths entries come first', async () => {
    fakeHelper('store');
    const file = write('c.json', { auths: { 'r.io': {}, 'own.io': { auth: b64('own:o') } }, credsStore: 'store' });
    expect((await lookupCredentials('r.io', 'app', { authFile: file }))?.username).toBe('helper-user');
    expect((await lookupCredentials('own.io', 'app', { authFile: file }))?.username).toBe('own');
    expect(await lookupCredentials('elsewhere.io', 'app', { authFile: file })).toBeUndefined();
  });

  it('registries.conf credential-helpers replace the file lookup unless an auth file is forced', async () => {
    fakeHelper('conf');
    write('config/skiff/auth.json', { auths: { 'r.io': { auth: b64('file:f') } } });
    expect((await lookupCredentials('r.io', 'app', { env: env(), helpers: ['conf'] }))?.username).toBe('helper-user');
    expect((await lookupCredentials('r.io', 'app', { env: env(), helpers: ['containers-auth.json', 'conf'] }))?.username).toBe('file');
    const forced = write('forced.json', { auths: {} });
    expect(await lookupCredentials('r.io', 'app', { env: env(), helpers: ['conf'], authFile: forced })).toBeUndefined();
  });

  it('a missing or broken helper is one clear line', async () => {
    fakeHelper('fake');
    const file = write('c.json', { credHelpers: { 'r.io': 'absent', 'broken.io': 'fake' } });
    await expect(lookupCredentials('r.io', 'app', { authFile: file })).rejects.toThrow(
      `credential helper docker-credential-absent, named in ${file}, is not installed (not found on PATH)`,
    );
    await expect(lookupCredentials('broken.io', 'app', { authFile: file })).rejects.toThrow(
      'credential helper docker-credential-fake printed something that is not JSON for broken.io',
    );
    const evil = write('e.json', { credHelpers: { 'r.io': '../../bin/sh' } });
    await expect(lookupCredentials('r.io', 'app', { authFile: evil })).rejects.toThrow(`${evil}: invalid credential helper name "../../bin/sh"`);
  });
});
