// Registry credentials: where they are looked up, and skiff's own auth file.
//
// Lookup order (the first file that knows the registry wins):
//   the authFile option (--authfile), else $SKIFF_AUTH_FILE, alone when set; otherwise
//   1. skiff's $XDG_CONFIG_HOME/skiff/auth.json (~/.config/…), written by `skiff login`;
//   2. $XDG_RUNTIME_DIR/containers/auth.json (Podman's, containers-auth.json(5));
//   3. $DOCKER_CONFIG/config.json or ~/.docker/config.json (Docker's).
// Within a file: credHelpers[registry], then auths (the longest key matching
// registry[/namespace…]/repository), then credsStore — a helper is the
// `docker-credential-NAME get` protocol (registry on stdin, JSON on stdout).
// Keys such as "https://index.docker.io/v1/" mean docker.io.
import { mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { errnoCode, SkiffError } from '../errors.js';
import { isRegistryHost } from '../oci/reference.js';
import { runCredentialHelper } from './credential-helper.js';

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth2 refresh token (Docker's "identitytoken"), used instead of the password for Bearer tokens. */
  identityToken?: string;
  /** Where they came from, for messages: a file or "docker-credential-NAME". */
  source: string;
}

export interface AuthFileEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  [key: string]: unknown;
}

export interface AuthFile {
  auths?: Record<string, AuthFileEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

function configHome(env: NodeJS.ProcessEnv): string {
  const xdg = env['XDG_CONFIG_HOME'];
  return xdg && isAbsolute(xdg) ? xdg : join(env['HOME'] || homedir(), '.config');
}

/** The file `skiff login` writes: $SKIFF_AUTH_FILE, else skiff's own. */
export function defaultAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  return env['SKIFF_AUTH_FILE'] || join(configHome(env), 'skiff', 'auth.json');
}

/** The files to read, in order. */
export function authFilesForLookup(env: NodeJS.ProcessEnv = process.env, override?: string): string[] {
  if (override) return [override];
  if (env['SKIFF_AUTH_FILE']) return [env['SKIFF_AUTH_FILE']];
  const files = [join(configHome(env), 'skiff', 'auth.json')];
  const runtime = env['XDG_RUNTIME_DIR'] || (process.getuid ? `/run/user/${process.getuid()}` : undefined);
  if (runtime) files.push(join(runtime, 'containers', 'auth.json'));
  files.push(join(env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker'), 'config.json'));
  return files;
}

/**
 * The registry[/path] a key of an auth file stands for: "https://host/v1/"
 * (Docker's style) is its host; Docker Hub's names are docker.io.
 */
export function normalizeAuthKey(key: string): string {
  let k = key.trim();
  if (/^https?:\/\//.test(k)) k = k.replace(/^https?:\/\//, '').split('/')[0]!;
  k = k.replace(/\/+$/, '');
  const slash = k.indexOf('/');
  const host = slash === -1 ? k : k.slice(0, slash);
  const rest = slash === -1 ? '' : k.slice(slash);
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') return `docker.io${rest}`;
  return k;
}

/** The server name a credential helper expects: Docker Hub's legacy URL, else the host. */
export function helperServerName(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

/** Reads an auth file; undefined when it does not exist. A malformed file is an error naming it. */
export function readAuthFile(file: string): AuthFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new SkiffError(`cannot read credentials file ${file}: ${(err as Error).message}`);
  }
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SkiffError(`credentials file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new SkiffError(`credentials file ${file} is not a JSON object`);
  const auth = doc as AuthFile;
  if (auth.auths !== undefined && (typeof auth.auths !== 'object' || auth.auths === null || Array.isArray(auth.auths))) {
    throw new SkiffError(`credentials file ${file}: "auths" must be an object`);
  }
  return auth;
}

/** The entry's user and password; undefined for an empty entry (one a credsStore manages). */
export function decodeAuthEntry(entry: AuthFileEntry, file: string, key: string): Omit<Credentials, 'source'> | undefined {
  let username = typeof entry.username === 'string' ? entry.username : '';
  let password = typeof entry.password === 'string' ? entry.password : '';
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) throw new SkiffError(`credentials file ${file}: the "auth" of "${key}" is not base64 of user:password`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const identityToken = typeof entry.identitytoken === 'string' && entry.identitytoken !== '' ? entry.identitytoken : undefined;
  if (username === '' && password === '' && identityToken === undefined) return undefined;
  return identityToken === undefined ? { username, password } : { username, password, identityToken };
}

/** The auths key that best matches registry/repository (longest namespace match), if any. */
export function matchAuthKey(auths: Record<string, AuthFileEntry>, registry: string, repository?: string): string | undefined {
  const normalized = new Map<string, string>();
  for (const key of Object.keys(auths)) {
    const n = normalizeAuthKey(key);
    // An exact key wins over a legacy spelling of the same registry.
    if (!normalized.has(n) || key === n) normalized.set(n, key);
  }
  const parts = repository ? repository.split('/') : [];
  for (let i = parts.length; i >= 0; i--) {
    const candidate = [registry, ...parts.slice(0, i)].join('/');
    const key = normalized.get(candidate);
    if (key !== undefined) return key;
  }
  return undefined;
}

export interface LookupOptions {
  env?: NodeJS.ProcessEnv;
  /** The authFile option (tests, --authfile). */
  authFile?: string;
  /**
   * registries.conf's credential-helpers: "containers-auth.json" stands for
   * the auth files, any other NAME for docker-credential-NAME. Ignored when an
   * auth file is forced (option or $SKIFF_AUTH_FILE).
   */
  helpers?: string[];
}

/** Credentials for a registry (and repository, for per-namespace entries), or undefined. */
export async function lookupCredentials(registry: string, repository?: string, opts: LookupOptions = {}): Promise<Credentials | undefined> {
  const env = opts.env ?? process.env;
  const forced = opts.authFile !== undefined || Boolean(env['SKIFF_AUTH_FILE']);
  const helpers = !forced && opts.helpers && opts.helpers.length > 0 ? opts.helpers : ['containers-auth.json'];
  for (const helper of helpers) {
    const found =
      helper === 'containers-auth.json'
        ? await lookupInFiles(authFilesForLookup(env, opts.authFile), registry, repository)
        : await runCredentialHelper(helper, helperServerName(registry), 'registries.conf credential-helpers');
    if (found) return found;
  }
  return undefined;
}

async function lookupInFiles(files: string[], registry: string, repository?: string): Promise<Credentials | undefined> {
  for (const file of files) {
    const doc = readAuthFile(file);
    if (doc === undefined) continue;
    const helpers = doc.credHelpers ?? {};
    const helperKey = Object.keys(helpers).find((k) => normalizeAuthKey(k) === registry);
    if (helperKey !== undefined && typeof helpers[helperKey] === 'string') {
      const found = await runCredentialHelper(helpers[helperKey]!, helperServerName(registry), file);
      if (found) return found;
      continue;
    }
    const key = doc.auths ? matchAuthKey(doc.auths, registry, repository) : undefined;
    if (key !== undefined) {
      const creds = decodeAuthEntry(doc.auths![key]!, file, key);
      if (creds) return { ...creds, source: file };
    }
    if (typeof doc.credsStore === 'string' && doc.credsStore !== '') {
      const found = await runCredentialHelper(doc.credsStore, helperServerName(registry), file);
      if (found) return found;
    }
  }
  return undefined;
}

/** Writes a whole auth file atomically: a 0600 temp file in the same directory (made 0700), fsync, rename. */
export function writeAuthFile(file: string, doc: AuthFile): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.auth.json.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(doc, null, '\t')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Never created, or already renamed.
    }
    throw new SkiffError(`cannot write credentials file ${file}: ${(err as Error).message}`);
  }
}

/** The key `login` writes for a server name: "https://index.docker.io/v1/" and "docker.io" are both docker.io. */
export function loginKey(server: string): string {
  return normalizeAuthKey(server);
}

/** "https://index.docker.io/v1/", "docker.io", "host:5000/" → the registry name; anything else is one clear error. */
export function loginRegistry(server: string): string {
  const registry = loginKey(server);
  if (registry.includes('/') || !isRegistryHost(registry)) {
    throw new SkiffError(`invalid registry "${server}": give a host[:port], e.g. registry.example.com or localhost:5000`);
  }
  return registry;
}

export function saveCredentials(file: string, server: string, username: string, password: string): void {
  const doc = readAuthFile(file) ?? {};
  const key = loginKey(server);
  const auths = { ...(doc.auths ?? {}) };
  // Drop other spellings of the same registry, so the new entry is the one read.
  for (const k of Object.keys(auths)) if (k !== key && normalizeAuthKey(k) === key) delete auths[k];
  auths[key] = { auth: Buffer.from(`${username}:${password}`, 'utf8').toString('base64') };
  writeAuthFile(file, { ...doc, auths });
}

/** Removes a server's entries (any spelling); false when there were none. */
export function removeCredentials(file: string, server: string): boolean {
  const doc = readAuthFile(file);
  if (!doc?.auths) return false;
  const key = loginKey(server);
  const auths = { ...doc.auths };
  let removed = false;
  for (const k of Object.keys(auths)) {
    if (normalizeAuthKey(k) === key) {
      delete auths[k];
      removed = true;
    }
  }
  if (removed) writeAuthFile(file, { ...doc, auths });
  return removed;
}

/** Removes every entry of `auths`; false when there were none. */
export function removeAllCredentials(file: string): boolean {
  const doc = readAuthFile(file);
  if (!doc?.auths || Object.keys(doc.auths).length === 0) return false;
  writeAuthFile(file, { ...doc, auths: {} });
  return true;
}
