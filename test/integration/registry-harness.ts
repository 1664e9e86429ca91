// Real registries for tests: the CNCF distribution registry (Debian's
// /usr/bin/docker-registry) on 127.0.0.1 with a random free port and a temp
// storage dir, optionally with TLS (a CA the harness generates), htpasswd
// Basic auth, or token auth (a test issuer, registry-token-issuer.ts). Every
// registry is stopped by stop() (process group, bounded wait) and, as a last
// resort, when the test process exits.
//
//   const reg = await startRegistry({ tls: true, basicAuth: { user: 'u', password: 'p' } });
//   try { await pushImage(reg, 'app', 'v1', { format: 'oci', layers: [...] }); … } finally { await reg.stop(); }
//
// Pushing images and the tampering proxy live in registry-push.ts and
// registry-proxy.ts; everything is re-exported from here.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from './registry-http.js';
import { startTokenIssuer, type TokenIssuer } from './registry-token-issuer.js';
import { busyboxLayer, pushImage, type TestImage } from './registry-push.js';

export { request, type HarnessResponse } from './registry-http.js';
export type { TokenIssuer, TokenRequestRecord, TokenAccess } from './registry-token-issuer.js';
export * from './registry-push.js';
export * from './registry-proxy.js';
export * from './registry-schema1.js';

export const REGISTRY_BINARY = process.env['SKIFF_TEST_REGISTRY_BINARY'] ?? '/usr/bin/docker-registry';

export interface StartRegistryOptions {
  tls?: boolean;
  basicAuth?: { user: string; password: string };
  /** Token auth through a test issuer; with basicAuth, the issuer requires those credentials, else it serves anyone. */
  tokenAuth?: boolean;
  /** Accept (signed) Docker schema 1 manifests, so tests can push one (compatibility.schema1.enabled). */
  schema1?: boolean;
  /** Token auth: OAuth2 refresh tokens (Docker's identity tokens) the issuer accepts, each for a user. */
  refreshTokens?: Record<string, string>;
}

export interface TestRegistry {
  /** 127.0.0.1:PORT */
  host: string;
  /** http(s)://127.0.0.1:PORT */
  url: string;
  /** PEM of the CA the harness generated (TLS only). */
  caFile?: string;
  /** A directory laid out like /etc/containers/certs.d: certsDir/HOST/ca.crt (TLS only). World-readable. */
  certsDir?: string;
  user?: string;
  password?: string;
  /** The token issuer (tokenAuth only): its `requests` count token fetches. */
  tokenIssuer?: TokenIssuer;
  /** The Authorization header the harness itself uses for `repo` (push and pull), or undefined without auth. */
  authorization(repo: string): string | undefined;
  /** The registry's own temp directory (storage, config, certificates). */
  dir: string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** A port that was free a moment ago (the registry may still lose a race for it: startRegistry retries). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A CA and a server certificate for 127.0.0.1 and localhost (IP and DNS SANs), EC P-256. */
function makeTlsFiles(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=skiff test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  writeFileSync(
    path.join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'], dir);
  return { caFile: path.join(dir, 'ca.crt'), certFile: path.join(dir, 'server.crt'), keyFile: path.join(dir, 'server.key') };
}

function registryConfig(o: {
  port: number;
  storage: string;
  tls?: { certFile: string; keyFile: string };
  htpasswd?: string;
  token?: TokenIssuer;
  schema1?: boolean;
}): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(o.storage)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${q(`127.0.0.1:${o.port}`)}`,
    `  secret: ${q('skiff-test-secret')}`,
  ];
  if (o.tls) lines.push('  tls:', `    certificate: ${q(o.tls.certFile)}`, `    key: ${q(o.tls.keyFile)}`);
  if (o.htpasswd) lines.push('auth:', '  htpasswd:', '    realm: skiff-test', `    path: ${q(o.htpasswd)}`);
  if (o.token) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${q(o.token.realm)}`,
      `    service: ${q(o.token.service)}`,
      `    issuer: ${q(o.token.issuer)}`,
      `    rootcertbundle: ${q(o.token.rootCertBundle)}`,
    );
  }
  if (o.schema1) lines.push('compatibility:', '  schema1:', '    enabled: true');
  return `${lines.join('\n')}\n`;
}

/** Starts the registry and waits (bounded) until it answers /v2/; rejects with its output if it dies. */
async function launch(configFile: string, url: string, caFile: string | undefined): Promise<ChildProcess> {
  const child = spawn(REGISTRY_BINARY, ['serve', configFile], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const failed = await Promise.race([spawnError, sleep(0).then(() => undefined)]);
    if (failed) throw new Error(`cannot start ${REGISTRY_BINARY}: ${failed.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw Object.assign(new Error(`registry exited (${child.exitCode ?? child.signalCode}): ${output.trim()}`), { output });
    }
    try {
      const res = await request(`${url}/v2/`, { caFile, timeoutMs: 2000 });
      if (res.status === 200 || res.status === 401) return child;
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  killGroup(child, 'SIGKILL');
  throw new Error(`registry did not answer ${url}/v2/ within 15 s: ${output.trim()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  const gone = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!gone) {
    killGroup(child, 'SIGKILL');
    await Promise.race([exited, sleep(5000)]);
  }
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-registry-'));
  let issuer: TokenIssuer | undefined;
  try {
    let tls: ReturnType<typeof makeTlsFiles> | undefined;
    if (opts.tls) tls = makeTlsFiles(dir);
    let htpasswd: string | undefined;
    if (opts.basicAuth && !opts.tokenAuth) {
      htpasswd = path.join(dir, 'htpasswd');
      const line = execFileSync('htpasswd', ['-Bbn', opts.basicAuth.user, opts.basicAuth.password], { encoding: 'utf8' });
      writeFileSync(htpasswd, line);
    }
    if (opts.tokenAuth) {
      issuer = await startTokenIssuer(dir, {
        ...(opts.basicAuth ? { credentials: opts.basicAuth } : {}),
        ...(opts.refreshTokens ? { refreshTokens: opts.refreshTokens } : {}),
      });
    }

    const storage = path.join(dir, 'storage');
    mkdirSync(storage);
    const configFile = path.join(dir, 'config.yml');
    let child: ChildProcess | undefined;
    let port = 0;
    for (let attempt = 1; child === undefined; attempt++) {
      port = await freePort();
      const scheme = tls ? 'https' : 'http';
      writeFileSync(configFile, registryConfig({ port, storage, tls, htpasswd, token: issuer, schema1: opts.schema1 }));
      try {
        child = await launch(configFile, `${scheme}://127.0.0.1:${port}`, tls?.caFile);
      } catch (err) {
        const output = (err as { output?: string }).output ?? '';
        if (attempt >= 3 || !/address already in use/.test(output)) throw err;
      }
    }

    const host = `127.0.0.1:${port}`;
    const reg: TestRegistry = {
      host,
      url: `${tls ? 'https' : 'http'}://${host}`,
      dir,
      authorization: (repo) => {
        if (issuer) return `Bearer ${issuer.mint([{ type: 'repository', name: repo, actions: ['pull', 'push', 'delete'] }], 'harness')}`;
        if (opts.basicAuth) return `Basic ${Buffer.from(`${opts.basicAuth.user}:${opts.basicAuth.password}`).toString('base64')}`;
        return undefined;
      },
      stop: async () => {},
    };
    if (tls) {
      // World-readable, so that skiff run as the unprivileged test user can use it.
      chmodSync(dir, 0o755);
      const certsDir = path.join(dir, 'certs.d');
      mkdirSync(path.join(certsDir, host), { recursive: true });
      copyFileSync(tls.caFile, path.join(certsDir, host, 'ca.crt'));
      chmodSync(tls.caFile, 0o644);
      for (const d of [certsDir, path.join(certsDir, host)]) chmodSync(d, 0o755);
      chmodSync(path.join(certsDir, host, 'ca.crt'), 0o644);
      reg.caFile = tls.caFile;
      reg.certsDir = certsDir;
    }
    if (opts.basicAuth) {
      reg.user = opts.basicAuth.user;
      reg.password = opts.basicAuth.password;
    }
    if (issuer) reg.tokenIssuer = issuer;
    let stopped = false;
    const running = child;
    reg.stop = async () => {
      if (stopped) return;
      stopped = true;
      await stopChild(running);
      await issuer?.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    return reg;
  } catch (err) {
    await issuer?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Runs `fn` with a fresh registry and always stops it. */
export async function withRegistry<T>(opts: StartRegistryOptions, fn: (reg: TestRegistry) => Promise<T>): Promise<T> {
  const reg = await startRegistry(opts);
  try {
    return await fn(reg);
  } finally {
    await reg.stop();
  }
}

/**
 * A plain registry holding the busybox test image (built from rootfsDir, one
 * gzip layer) as REPO:TAG, and that image's name for pull and run.
 */
export async function startBusyboxRegistry(
  rootfsDir: string,
  repo: string,
  tag: string,
  image: Pick<TestImage, 'format' | 'config'>,
): Promise<{ reg: TestRegistry; image: string }> {
  const reg = await startRegistry();
  try {
    await pushImage(reg, repo, tag, { ...image, layers: [{ entries: busyboxLayer(rootfsDir), compression: 'gzip' }] });
  } catch (err) {
    await reg.stop();
    throw err;
  }
  return { reg, image: `${reg.host}/${repo}:${tag}` };
}
