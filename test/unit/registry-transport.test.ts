import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyNetworkError, describeErrorBody, networkError, parseErrorBody } from '../../lib/registry/http-errors.js';
import { certsDirs, loadHostTls } from '../../lib/registry/tls.js';
import { apiHost, isLoopbackRegistry, readBody, retryAfterMs, Transport } from '../../lib/registry/transport.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

describe('registry hosts', () => {
  it('knows loopback registries (which may fall back to plain HTTP)', () => {
    for (const host of ['localhost', 'localhost:5000', '127.0.0.1', '127.1.2.3:80', '[::1]:5000', '[::1]']) expect(isLoopbackRegistry(host)).toBe(true);
    for (const host of ['docker.io', '10.0.0.1:5000', 'localhost.example.com', '128.0.0.1', '[::2]:5000', '127.0.0.1.nip.io']) {
      expect(isLoopbackRegistry(host)).toBe(false);
    }
  });

  it("sends Docker Hub's requests to its API host", () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('quay.io')).toBe('quay.io');
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000 + 5000).toUTCString(), 10_000)).toBe(5000);
    expect(retryAfterMs('garbage')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

describe('errors', () => {
  const err = (code: string, message = `x ${code}`) => Object.assign(new Error(message), { code });

  it('classifies Node network and TLS errors', () => {
    expect(classifyNetworkError(err('EPROTO'))).toBe('tls-protocol');
    expect(classifyNetworkError(err('ERR_SSL_WRONG_VERSION_NUMBER'))).toBe('tls-protocol');
    expect(classifyNetworkError(err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'))).toBe('unknown-ca');
    expect(classifyNetworkError(err('SELF_SIGNED_CERT_IN_CHAIN'))).toBe('unknown-ca');
    expect(classifyNetworkError(err('CERT_HAS_EXPIRED'))).toBe('cert-expired');
    expect(classifyNetworkError(err('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe('cert-name');
    expect(classifyNetworkError(err('ECONNREFUSED'))).toBe('refused');
    expect(classifyNetworkError(err('ENOTFOUND'))).toBe('dns');
    expect(classifyNetworkError(err('ECONNRESET'))).toBe('reset');
    expect(classifyNetworkError(err('ETIMEDOUT'))).toBe('timeout');
    expect(classifyNetworkError(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe('timeout');
    expect(classifyNetworkError(new Error('Premature close'))).toBe('reset');
  });

  it('says what to do, in one line', () => {
    expect(networkError('r.io:5000', err('ECONNREFUSED')).message).toBe('cannot connect to registry r.io:5000: connection refused');
    expect(networkError('r.io', err('ENOTFOUND')).message).toBe('cannot connect to registry r.io: the host name does not resolve');
    expect(networkError('r.io', err('DEPTH_ZERO_SELF_SIGNED_CERT')).message).toMatch(
      /^registry r\.io: x509: certificate signed by unknown authority: add the CA to .*r\.io\/ca\.crt or use --tls-verify=false$/,
    );
    const multiline = networkError('r.io', err('EPROTO', 'request to https://r.io/v2/ failed, reason: write EPROTO 80:error:wrong version number:\n'));
    expect(multiline.message.split('\n')).toHaveLength(1);
    expect(multiline.message).toMatch(/^registry r\.io does not answer TLS \(write EPROTO 80:error:wrong version number:\): .*--tls-verify=false$/);
  });

  it('reads distribution error bodies', () => {
    const body = JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } }] });
    expect(parseErrorBody(body)).toEqual([{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }]);
    expect(describeErrorBody(404, 'Not Found', body)).toBe('manifest unknown (MANIFEST_UNKNOWN)');
    expect(describeErrorBody(502, 'Bad Gateway', '<html>')).toBe('HTTP 502 Bad Gateway');
    expect(parseErrorBody('{"errors": 3}')).toEqual([]);
  });
});

describe('certs.d', () => {
  it("uses the user's, then the system's directories, or $SKIFF_CERTS_DIR alone", () => {
    expect(certsDirs({ HOME: '/home/u' })).toEqual(['/home/u/.config/containers/certs.d', '/etc/containers/certs.d', '/etc/docker/certs.d']);
    expect(certsDirs({ HOME: '/home/u', XDG_CONFIG_HOME: '/x' })[0]).toBe('/x/containers/certs.d');
    expect(certsDirs({ SKIFF_CERTS_DIR: '/t' })).toEqual(['/t']);
  });

  it('reads *.crt as CAs and a *.cert/*.key pair as the client certificate', () => {
    const base = mkdtempSync(path.join(tmpdir(), 'skiff-certs-'));
    cleanups.push(() => rmSync(base, { recursive: true, force: true }));
    const other = path.join(base, 'other');
    mkdirSync(path.join(base, 'one', 'r.io:5000'), { recursive: true });
    mkdirSync(path.join(other, 'r.io:5000'), { recursive: true });
    writeFileSync(path.join(base, 'one', 'r.io:5000', 'ca.crt'), 'CA1');
    writeFileSync(path.join(base, 'one', 'r.io:5000', 'client.cert'), 'CERT');
    writeFileSync(path.join(base, 'one', 'r.io:5000', 'client.key'), 'KEY');
    writeFileSync(path.join(other, 'r.io:5000', 'extra.crt'), 'CA2');
    const tls = loadHostTls('r.io:5000', [path.join(base, 'one'), other, path.join(base, 'missing')]);
    expect(tls.ca).toEqual(['CA1', 'CA2']);
    expect([tls.cert, tls.key]).toEqual(['CERT', 'KEY']);
    expect(loadHostTls('else.io', [path.join(base, 'one')])).toEqual({ ca: [], files: [] });
    writeFileSync(path.join(other, 'r.io:5000', 'lonely.key'), 'KEY');
    expect(() => loadHostTls('r.io:5000', [other])).toThrow(`client key ${path.join(other, 'r.io:5000', 'lonely.key')} has no certificate`);
  });
});

describe('RegistryEndpoint against a local plain-HTTP server', () => {
  async function server(handler: http.RequestListener): Promise<string> {
    const s = http.createServer(handler);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      s.closeAllConnections();
      s.close();
    });
    return `127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  it('a loopback registry named with its port is asked in plain HTTP first: no TLS agent, no CA bundle', async () => {
    const seen: string[] = [];
    const host = await server((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end('{}');
    });
    const transport = new Transport({ certsDirs: [] });
    cleanups.push(() => transport.close());
    const started = Date.now();
    const ping = await transport.endpoint(host).ping();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(ping).toEqual({ origin: `http://${host}`, status: 401, challenge: 'Basic realm="x"' });
    expect(seen).toEqual(['GET /v2/']);
    const agents = [...(transport as unknown as { agents: Map<string, http.Agent> }).agents.values()];
    expect(agents.filter((a) => a instanceof https.Agent)).toEqual([]);
  });

  it('requestBeforePing: a local registry\'s answer stands for the ping (200: used; 401: its challenge kept)', async () => {
    const seen: string[] = [];
    const host = await server((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
      if (req.url === '/v2/open/manifests/1') res.end('manifest');
      else res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="x"' }).end('{}');
    });
    const transport = new Transport({ certsDirs: [] });
    cleanups.push(() => transport.close());
    const open = transport.endpoint(host);
    const res = await open.requestBeforePing('/v2/open/manifests/1', { headers: { accept: 'x' } });
    expect((await readBody(res!, 1024, 'the manifest')).toString()).toBe('manifest');
    expect(await open.ping()).toEqual({ origin: `http://${host}`, status: 200 });
    // Asked once only, and a second question goes the usual way.
    expect(await open.requestBeforePing('/v2/open/manifests/1')).toBeUndefined();
    expect(seen).toEqual(['GET /v2/open/manifests/1 -']);

    seen.length = 0;
    const closed = new Transport({ certsDirs: [] });
    cleanups.push(() => closed.close());
    const endpoint = closed.endpoint(host);
    expect(await endpoint.requestBeforePing('/v2/shut/manifests/1')).toBeUndefined();
    expect(await endpoint.ping()).toEqual({ origin: `http://${host}`, status: 401, challenge: 'Bearer realm="http://127.0.0.1:1/token",service="x"' });
    expect(seen).toEqual(['GET /v2/shut/manifests/1 -']);
    // Not for a registry named without its port, nor for anything but a GET.
    expect(await new Transport({ certsDirs: [] }).endpoint('localhost').requestBeforePing('/v2/a/manifests/1')).toBeUndefined();
    expect(await new Transport({ certsDirs: [] }).endpoint(host).requestBeforePing('/v2/a/blobs/uploads/', { method: 'POST' })).toBeUndefined();
    expect(seen).toHaveLength(1);
  });

  it('redirects keep the Authorization header on the registry only', async () => {
    const storage: (string | undefined)[] = [];
    const storageHost = await server((req, res) => {
      storage.push(req.headers.authorization);
      res.end('blob');
    });
    const registryAuth: (string | undefined)[] = [];
    const host = await server((req, res) => {
      registryAuth.push(req.headers.authorization);
      if (req.url === '/v2/') res.end('{}');
      else if (req.url === '/v2/a/blobs/x') res.writeHead(302, { location: '/v2/a/blobs/y' }).end();
      else res.writeHead(307, { location: `http://localhost:${storageHost.split(':')[1]}/data` }).end();
    });
    const transport = new Transport({ certsDirs: [] });
    cleanups.push(() => transport.close());
    const res = await transport.endpoint(host).request('/v2/a/blobs/x', { authorization: 'Bearer secret' });
    expect((await readBody(res, 1024, 'the blob')).toString()).toBe('blob');
    expect(registryAuth).toEqual([undefined, 'Bearer secret', 'Bearer secret']);
    expect(storage).toEqual([undefined]);
  });
});

describe('RegistryEndpoint against a local TLS server', () => {
  /** A CA and a server certificate for 127.0.0.1 signed by it (openssl, EC keys). */
  function tlsFiles(): { dir: string; ca: string; cert: string; key: string } {
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=skiff unit CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
    return { dir, ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') };
  }

  async function tlsServer(files: { cert: string; key: string }, seen: string[]): Promise<string> {
    const s = https.createServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end('{}');
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      s.closeAllConnections();
      s.close();
    });
    return `127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  it('a loopback TLS registry is asked over verified TLS: the attempt that trusts no CA sends no request and is no reason to fall back', async () => {
    const files = tlsFiles();
    const seen: string[] = [];
    const host = await tlsServer(files, seen);
    const certs = path.join(files.dir, 'certs.d');
    mkdirSync(path.join(certs, host), { recursive: true });
    copyFileSync(files.ca, path.join(certs, host, 'ca.crt'));
    const transport = new Transport({ certsDirs: [certs] });
    cleanups.push(() => transport.close());
    expect(await transport.endpoint(host).ping()).toEqual({ origin: `https://${host}`, status: 200 });
    expect(seen).toEqual(['GET /v2/']);
  });

  it('a loopback TLS registry whose CA is not trusted fails as unknown authority, never over plain HTTP', async () => {
    const files = tlsFiles();
    const seen: string[] = [];
    const host = await tlsServer(files, seen);
    const transport = new Transport({ certsDirs: [] });
    cleanups.push(() => transport.close());
    await expect(transport.endpoint(host).ping()).rejects.toThrow(`registry ${host}: x509: certificate signed by unknown authority`);
    expect(seen).toEqual([]);
  });
});
