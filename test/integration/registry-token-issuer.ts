// A token server for the distribution registry's `auth.token` mode, as the
// Docker Hub / distribution token protocol defines it: GET realm?service=…&scope=…
// with optional Basic credentials, answering {"token": JWT}.
//
// The registry (distribution 2.8, registry/auth/token/token.go) accepts a JWT
// whose header carries the signing certificate in `x5c` and whose chain
// verifies against `rootcertbundle`; here the signing certificate is
// self-signed and is itself the bundle. Signature: ES256, r||s (JOSE form).
// Claims checked: iss (= the configured issuer), aud (= the service), exp/nbf
// (60 s leeway), and `access` grants the actions.
import { createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface TokenAccess {
  type: string;
  name: string;
  actions: string[];
}

/** One request the issuer answered, for tests that count token fetches. */
export interface TokenRequestRecord {
  /** The raw scope strings, e.g. "repository:app:pull". */
  scopes: string[];
  service?: string;
  account?: string;
  /** The Basic user the request carried, if any (or the refresh token's user). */
  user?: string;
  /** Set for the OAuth2 POST form (identity tokens). */
  grantType?: string;
  granted: boolean;
}

export interface TokenIssuer {
  /** The realm URL the registry sends in its challenge. */
  realm: string;
  service: string;
  issuer: string;
  /** The PEM file for the registry's `rootcertbundle`. */
  rootCertBundle: string;
  /** Every token request, in order. */
  requests: TokenRequestRecord[];
  /** Which field(s) carry the token in responses (the protocol allows either). */
  tokenField: 'token' | 'access_token' | 'both';
  /** Signs a token directly (the harness's pushes use this; not counted). */
  mint(access: TokenAccess[], subject?: string): string;
  stop(): Promise<void>;
}

export interface TokenIssuerOptions {
  /** Require these Basic credentials for every token; without them, anyone gets a token. */
  credentials?: { user: string; password: string };
  service?: string;
  /** OAuth2 refresh tokens (Docker's identity tokens) the POST form accepts, each for a user. */
  refreshTokens?: Record<string, string>;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** Parses "repository:name:pull,push" (a name never contains ':' but a type may be "repository(plugin)"). */
export function parseScope(scope: string): TokenAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

function makeSigningCert(dir: string): { key: KeyObject; certPem: string; certFile: string } {
  const keyFile = path.join(dir, 'token-signer.key');
  const certFile = path.join(dir, 'token-signer.crt');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=skiff-test-token-signer',
  ], { stdio: 'pipe' });
  return { key: createPrivateKey(readFileSync(keyFile)), certPem: readFileSync(certFile, 'utf8'), certFile };
}

export async function startTokenIssuer(dir: string, opts: TokenIssuerOptions = {}): Promise<TokenIssuer> {
  const { key, certPem, certFile } = makeSigningCert(dir);
  const x5c = [new X509Certificate(certPem).raw.toString('base64')];
  const service = opts.service ?? 'skiff-test-registry';
  const issuerName = 'skiff-test-issuer';

  const mint = (access: TokenAccess[], subject = ''): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c };
    const claims = {
      iss: issuerName,
      sub: subject,
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(16).toString('hex'),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${b64url(signature)}`;
  };

  const state: TokenIssuer = {
    realm: '',
    service,
    issuer: issuerName,
    rootCertBundle: certFile,
    requests: [],
    tokenField: 'token',
    mint,
    stop: async () => {},
  };

  const answer = (res: http.ServerResponse, token: string) => {
    const body: Record<string, unknown> = { expires_in: 300, issued_at: new Date().toISOString() };
    if (state.tokenField !== 'access_token') body.token = token;
    if (state.tokenField !== 'token') body.access_token = token;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const refused = (res: http.ServerResponse) => {
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="skiff-test-issuer"' });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }));
  };
  /** The OAuth2 form: grant_type=refresh_token&refresh_token=…&service=…&scope=…&client_id=… */
  const oauth = (form: URLSearchParams, res: http.ServerResponse) => {
    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const user = opts.refreshTokens?.[form.get('refresh_token') ?? ''];
    const granted = form.get('grant_type') === 'refresh_token' && user !== undefined;
    const record: TokenRequestRecord = { scopes, grantType: form.get('grant_type') ?? '', granted };
    if (form.get('service') !== null) record.service = form.get('service')!;
    if (user !== undefined) record.user = user;
    state.requests.push(record);
    if (!granted) return refused(res);
    answer(res, mint(scopes.map(parseScope).filter((a): a is TokenAccess => a !== undefined), user));
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://issuer');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    if (req.method === 'POST') {
      let text = '';
      req.setEncoding('utf8').on('data', (d: string) => (text += d));
      req.on('end', () => oauth(new URLSearchParams(text), res));
      return;
    }
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    let user: string | undefined;
    let password: string | undefined;
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      user = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
    const granted = opts.credentials === undefined || (user === opts.credentials.user && password === opts.credentials.password);
    const record: TokenRequestRecord = { scopes, granted };
    const svc = url.searchParams.get('service');
    const account = url.searchParams.get('account');
    if (svc !== null) record.service = svc;
    if (account !== null) record.account = account;
    if (user !== undefined) record.user = user;
    state.requests.push(record);
    if (!granted) return refused(res);
    answer(res, mint(scopes.map(parseScope).filter((a): a is TokenAccess => a !== undefined), user ?? ''));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  state.realm = `http://127.0.0.1:${port}/token`;
  state.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
