// `skiff login`: check credentials against the registry's /v2/ (through the
// same Basic or Bearer flow a pull uses, with no repository scope) before
// anything is saved.
import { SkiffError } from '../errors.js';
import { AuthSession, UnauthorizedError } from './auth.js';
import { type Credentials, defaultAuthFile, lookupCredentials, saveCredentials } from './credentials.js';

export { loginRegistry } from './credentials.js';
import { describeErrorBody } from './http-errors.js';
import { findRegistryEntry, loadRegistriesConf } from './registries-conf.js';
import { readBody, Transport } from './transport.js';

export interface LoginTarget {
  /** The registry as credentials are keyed: "docker.io", "127.0.0.1:5000". */
  registry: string;
  tlsVerify: boolean;
  /** --authfile; default $SKIFF_AUTH_FILE or skiff's own file. */
  authFile?: string;
}

export function authFileFor(target: LoginTarget): string {
  return target.authFile ?? defaultAuthFile();
}

/** Throws a one-line SkiffError unless the registry accepts these credentials. */
export async function verifyCredentials(target: LoginTarget, creds: Credentials): Promise<void> {
  const registry = target.registry;
  let insecure = false;
  try {
    insecure = findRegistryEntry(loadRegistriesConf(), registry)?.insecure ?? false;
  } catch (err) {
    if (!(err instanceof SkiffError)) throw err;
    throw new SkiffError(`logging in to ${registry}: ${err.message}`);
  }
  const transport = new Transport({ tlsVerify: target.tlsVerify });
  try {
    const session = new AuthSession(transport.endpoint(registry, insecure), transport, async () => creds);
    const challenge = await session.currentChallenge();
    const ping = await session.endpoint.ping();
    // A registry that asks for no authentication accepts any login, as with Docker and Podman.
    if (challenge === undefined && ping.status === 200) return;
    if (challenge === undefined) {
      throw new SkiffError(`logging in to ${registry}: the registry answered 401 without saying how to authenticate (no WWW-Authenticate)`);
    }
    const res = await session.request('/v2/', []);
    const body = await readBody(res, 64 << 10, `the answer of ${registry} to /v2/`);
    if (res.status === 200) return;
    if (res.status === 401 || res.status === 403) throw new SkiffError(`logging in to ${registry}: invalid username or password`);
    throw new SkiffError(`logging in to ${registry}: ${describeErrorBody(res.status, res.statusText, body)}`);
  } catch (err) {
    if (err instanceof UnauthorizedError) throw new SkiffError(`logging in to ${registry}: invalid username or password`);
    if (err instanceof SkiffError && !err.message.startsWith('logging in to')) throw new SkiffError(`logging in to ${registry}: ${err.message}`);
    throw err;
  } finally {
    transport.close();
  }
}

/** Verifies, then saves to the auth file (atomically, 0600). Returns the file written. */
export async function login(target: LoginTarget, username: string, password: string): Promise<string> {
  if (username === '') throw new SkiffError('the username must not be empty');
  if (password === '') throw new SkiffError('the password must not be empty');
  await verifyCredentials(target, { username, password, source: 'the command line' });
  const file = authFileFor(target);
  saveCredentials(file, target.registry, username, password);
  return file;
}

/** Saved credentials for the registry (any source skiff reads), if any. */
export function savedCredentials(target: LoginTarget): Promise<Credentials | undefined> {
  return lookupCredentials(target.registry, undefined, target.authFile !== undefined ? { authFile: target.authFile } : {});
}
