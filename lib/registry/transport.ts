// HTTP to registries over node:http and node:https (one request function and
// the few parts of a fetch Response skiff reads: node-fetch cost every pull
// and push its own code plus Node's web streams, fs/promises and readline,
// loaded for Blob and FormData that skiff never uses), one keep-alive agent
// per host and trust setting (system CAs + certs.d, see tls.ts). Per registry:
//   - the scheme is settled once by pinging /v2/: HTTPS first; plain HTTP only
//     for insecure registries (registries.conf, --tls-verify=false) and, as in
//     Docker, for loopback hosts, and only when the HTTPS attempt failed at the
//     protocol level (a plain-HTTP server answers a TLS hello at once, so this
//     costs one round trip, never a timeout). A certificate that does not
//     verify is never a reason to fall back. A loopback registry's first
//     HTTPS attempt trusts no CA, so that finding a plain-HTTP one parses no
//     CA bundle; and a loopback registry named with its port is asked in plain
//     HTTP before that, which a TLS server refuses at once (see
//     RegistryEndpoint.probe).
//   - idempotent requests are retried with exponential backoff on 429, 5xx and
//     resets/timeouts (4 tries, 200 ms base, a short Retry-After honoured);
//   - redirects are followed here, and the registry's Authorization header is
//     sent only to the registry's own origin (blob storage backends get none).
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type https from 'node:https';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { VERSION } from '../version.js';
import { classifyNetworkError, describeErrorBody, isTransient, networkError } from './http-errors.js';
import { certsDirs, loadHostTls, systemCertificates } from './tls.js';

/** A registry's answer: what skiff reads of it (the shape of fetch's Response, over node:http). */
export interface Response {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  /** The body as it arrives (never decompressed); read it, or discard() it so the socket is reused. */
  readonly body: Readable | null;
}

// node:https (and node:tls under it, ~8 ms) loads with the first HTTPS request: a plain-HTTP registry never needs it.
const requireBuiltin = createRequire('/'); // for built-in modules only: the base path plays no part
const httpsModule = () => requireBuiltin('node:https') as typeof https;

/** Header lookup as fetch's Headers.get does it: case-insensitive, repeated values joined by ", ". */
class HeaderView {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

interface SendOptions {
  method: string;
  headers: Record<string, string>;
  body?: string | Buffer | Readable;
  agent: http.Agent;
  signal: AbortSignal;
}

/**
 * One HTTP request, no redirect followed, no decompression: resolves with the
 * status and headers once they arrive (the body is read by the caller),
 * rejects with Node's own error (its code says what failed: http-errors.ts).
 */
function send(url: URL, opts: SendOptions): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: '*/*' };
    for (const [key, value] of Object.entries(opts.headers)) headers[key.toLowerCase()] = value;
    const req = (url.protocol === 'https:' ? httpsModule() : http).request(url, { method: opts.method, headers, agent: opts.agent, signal: opts.signal });
    req.on('error', reject);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      resolve({ status, statusText: res.statusMessage ?? '', ok: status >= 200 && status < 300, headers: new HeaderView(res.headers), body: res });
    });
    const body = opts.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      // A stream that fails ends the request with its error.
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    }
  });
}

const MAX_TRIES = 4;
const BACKOFF_BASE_MS = 200;
/** A longer Retry-After than this is reported, not waited out. */
const MAX_RETRY_AFTER_MS = 10_000;
const HEADERS_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 10;
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const USER_AGENT = `skiff/${VERSION}`;

export interface TransportOptions {
  /** false: every registry may use plain HTTP and unverified TLS (--tls-verify=false). */
  tlsVerify?: boolean;
  /** certs.d base directories; default tls.certsDirs(). */
  certsDirs?: string[];
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /**
   * A request body. A stream can be sent once only: such a request is not
   * retried here (push retries the whole step, from where the registry says
   * it stands).
   */
  body?: Buffer | Readable;
  /** Sent to the registry's own origin only, never after a redirect to another host. */
  authorization?: string;
}

export interface PingResult {
  /** "https://host:port" or "http://host:port", as settled. */
  origin: string;
  status: number;
  /** The WWW-Authenticate header of a 401, if any. */
  challenge?: string;
}

/** True for localhost, 127.0.0.0/8 and ::1, with or without a port. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Docker Hub's API lives on another host than its name. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function backoff(attempt: number): number {
  return BACKOFF_BASE_MS * 2 ** (attempt - 1) + Math.floor(Math.random() * 50);
}

/** Retry-After in ms (seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export class Transport {
  private readonly endpoints = new Map<string, RegistryEndpoint>();
  private readonly agents = new Map<string, http.Agent>();
  readonly tlsVerify: boolean;
  readonly certsDirs: string[];

  constructor(opts: TransportOptions = {}) {
    this.tlsVerify = opts.tlsVerify !== false;
    this.certsDirs = opts.certsDirs ?? certsDirs();
  }

  /** The endpoint for a registry (host[:port] as references name it). */
  endpoint(registry: string, insecure = false): RegistryEndpoint {
    const relaxed = insecure || !this.tlsVerify;
    const key = `${registry}|${relaxed}`;
    let endpoint = this.endpoints.get(key);
    if (endpoint === undefined) {
      endpoint = new RegistryEndpoint(this, registry, relaxed);
      this.endpoints.set(key, endpoint);
    }
    return endpoint;
  }

  /**
   * A keep-alive agent for a URL; `certsHost` names the certs.d directory to
   * use. `trustNone`: verified TLS that trusts no CA at all, so that any
   * certificate fails (see RegistryEndpoint.probe).
   */
  agentFor(url: URL, verify: boolean, certsHost: string, trustNone = false): http.Agent {
    const key = `${url.protocol}//${url.host}|${verify}|${certsHost}|${trustNone}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      if (url.protocol === 'http:') {
        agent = new http.Agent({ keepAlive: true });
      } else {
        const tls = loadHostTls(certsHost, this.certsDirs);
        agent = new (httpsModule().Agent)({
          keepAlive: true,
          rejectUnauthorized: verify,
          // Unverified (--tls-verify=false, insecure): no CA bundle to parse, 50-70 ms saved per pull; and an
          // empty list, not none, which would make Node load its own ~140 root certificates (20-50 ms here).
          ca: verify && !trustNone ? [...systemCertificates(), ...tls.ca] : [],
          ...(tls.cert !== undefined ? { cert: tls.cert, key: tls.key } : {}),
        });
      }
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /**
   * One request to an absolute URL with retries (no redirects followed).
   * Network failures become one-line SkiffErrors naming `host`; `probe` (the
   * HTTPS attempt that may fall back to HTTP) gets the original error at once.
   */
  async fetchWithRetry(
    url: URL,
    init: { method: string; headers: Record<string, string>; body?: string | Buffer | Readable; verify: boolean; certsHost: string; host: string; trustNone?: boolean },
    probe = false,
  ): Promise<Response> {
    // A stream body is gone once sent; POST starts a new upload each time.
    const retries = init.body === undefined || typeof init.body === 'string' || Buffer.isBuffer(init.body) ? MAX_TRIES : 1;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      const controller = new AbortController();
      // An upload's answer comes after its body: no deadline for the headers then.
      const timer = retries === MAX_TRIES ? setTimeout(() => controller.abort(), HEADERS_TIMEOUT_MS) : undefined;
      try {
        res = await send(url, {
          method: init.method,
          headers: { 'user-agent': USER_AGENT, ...init.headers },
          ...(init.body !== undefined ? { body: init.body } : {}),
          agent: this.agentFor(url, init.verify, init.certsHost, init.trustNone),
          signal: controller.signal,
        });
      } catch (err) {
        if (probe) throw err;
        if (attempt < retries && isTransient(err)) {
          await sleep(backoff(attempt));
          continue;
        }
        throw networkError(init.host, err);
      } finally {
        clearTimeout(timer);
      }
      if (!RETRY_STATUSES.has(res.status) || attempt >= retries) return res;
      const wait = retryAfterMs(res.headers.get('retry-after'));
      if (wait !== undefined && wait > MAX_RETRY_AFTER_MS) return res;
      discard(res);
      await sleep(Math.max(wait ?? 0, backoff(attempt)));
    }
  }
}

/** Drops a response body we will not read, so its socket can be reused. */
export function discard(res: Response): void {
  res.body?.resume();
}

export class RegistryEndpoint {
  /** Plain HTTP allowed and TLS unverified (registries.conf insecure, --tls-verify=false). */
  readonly insecure: boolean;
  readonly loopback: boolean;
  readonly apiHost: string;
  private pinged?: Promise<PingResult>;

  constructor(
    private readonly transport: Transport,
    /** host[:port] as references name it ("docker.io", "127.0.0.1:5000"). */
    readonly registry: string,
    insecure: boolean,
  ) {
    this.insecure = insecure;
    this.loopback = isLoopbackRegistry(registry);
    this.apiHost = apiHost(registry);
  }

  /** GET /v2/ once: settles the scheme and tells whether (and how) the registry wants auth. */
  ping(): Promise<PingResult> {
    this.pinged ??= this.probe();
    return this.pinged;
  }

  /** A loopback registry named with its port: asked in plain HTTP first (see probe). */
  private get plainFirst(): boolean {
    return this.loopback && /:\d+$/.test(this.registry);
  }

  /**
   * Before any ping, a GET of `path` in plain HTTP to a loopback registry
   * named with its port, without credentials, standing in for the ping: a
   * registry answer settles the scheme as the ping would (200: the answer,
   * used; 401 with a challenge: the challenge, and undefined, so that the
   * caller asks again with what it wants). Undefined too when the question
   * does not apply or the answer settles nothing (a TLS server, a redirect, an
   * error): the caller then goes the usual way, ping first. This spares a
   * pull of a stored image from a local registry one round trip.
   */
  async requestBeforePing(path: string, opts: RequestOptions = {}): Promise<Response | undefined> {
    if (this.pinged !== undefined || !this.plainFirst || (opts.method ?? 'GET') !== 'GET' || opts.body !== undefined) return undefined;
    const origin = `http://${this.apiHost}`;
    let res: Response;
    try {
      res = await this.transport.fetchWithRetry(new URL(path, origin), this.init('GET', { ...(opts.headers ?? {}) }), true);
    } catch {
      return undefined;
    }
    if (this.pinged !== undefined) {
      discard(res);
      return undefined;
    }
    if (res.status === 200) {
      this.pinged = Promise.resolve({ origin, status: 200 });
      return res;
    }
    const challenge = res.headers.get('www-authenticate') ?? undefined;
    discard(res);
    if (res.status === 401 && challenge !== undefined) this.pinged = Promise.resolve({ origin, status: 401, challenge });
    return undefined;
  }

  private async probe(): Promise<PingResult> {
    const attempt = async (scheme: 'https' | 'http', probe: boolean, trustNone = false): Promise<PingResult> => {
      const origin = `${scheme}://${this.apiHost}`;
      const res = await this.transport.fetchWithRetry(new URL('/v2/', origin), { ...this.init('GET', {}), trustNone }, probe);
      const body = await readBody(res, 64 * 1024, `the answer of ${this.registry} to /v2/`);
      if (res.status === 200) return { origin, status: 200 };
      if (res.status === 401) {
        const challenge = res.headers.get('www-authenticate') ?? undefined;
        return challenge === undefined ? { origin, status: 401 } : { origin, status: 401, challenge };
      }
      if (res.status === 404) {
        throw new SkiffError(`${this.registry} is not a container registry: ${origin}/v2/ answered 404 Not Found`);
      }
      throw new SkiffError(`registry ${this.registry} failed: GET /v2/: ${describeErrorBody(res.status, res.statusText, body)}`);
    };
    const allowHttp = this.insecure || this.loopback;
    if (!allowHttp) return attempt('https', false);
    // A loopback registry with a port is asked in plain HTTP first: nothing
    // leaves the host, and the one port serves either HTTP or TLS. A registry
    // answer (200 or 401) settles it, and no TLS code loads (~10 ms of a pull
    // of a stored image). A TLS server refuses the plain request at once (Go's
    // answers 400, others reset or send an alert): then the HTTPS rules below
    // apply unchanged, certificate checks included.
    if (this.plainFirst) {
      const plain = await attempt('http', true).catch(() => undefined);
      if (plain !== undefined) return plain;
    }
    // A loopback registry verified as any other: whether it speaks TLS at all
    // is asked first with an agent that trusts no CA, which fails a TLS server
    // at its certificate, before any request is sent. So a plain-HTTP registry
    // never costs the parse of the system's CA bundle (25-90 ms here, more
    // than the rest of a pull of a stored image), and a TLS one is then asked
    // again below with the CAs, costing one more handshake on loopback.
    const trustNone = !this.insecure;
    try {
      const result = await attempt('https', true, trustNone);
      if (!trustNone) return result;
    } catch (err) {
      // An answer, over TLS: only the verified attempt below may be believed.
      if (err instanceof SkiffError && !trustNone) throw err;
      if (!(err instanceof SkiffError)) {
        const kind = classifyNetworkError(err);
        const noPort = !/:\d+$/.test(this.registry);
        // A plain-HTTP server fails the TLS handshake at once; without a port, HTTPS (443) and HTTP (80) are different ports.
        if (kind === 'tls-protocol' || kind === 'reset' || (noPort && kind === 'refused')) return attempt('http', false);
        // Not a plain-HTTP server: this was a real failure, so give it the retries it skipped.
        if (kind === 'timeout') return attempt('https', false);
        // A certificate that did not verify: it speaks TLS (with no CA trusted, any certificate fails here).
        const tlsServer = kind === 'unknown-ca' || kind === 'cert-expired' || kind === 'cert-name' || kind === 'cert-other';
        if (!(trustNone && tlsServer)) throw networkError(this.registry, err);
      }
    }
    return attempt('https', false);
  }

  private init(method: string, headers: Record<string, string>) {
    return { method, headers, verify: !this.insecure, certsHost: this.registry, host: this.registry };
  }

  /**
   * A request to a path on the registry ("/v2/…") or to an absolute URL,
   * following redirects; Authorization goes to the registry's origin only.
   */
  async request(pathOrUrl: string, opts: RequestOptions = {}): Promise<Response> {
    const { origin } = await this.ping();
    let url = new URL(pathOrUrl, origin);
    let method = opts.method ?? 'GET';
    for (let hops = 0; ; hops++) {
      const sameOrigin = url.origin === origin;
      const headers = { ...(opts.headers ?? {}) };
      if (opts.authorization !== undefined && sameOrigin) headers['authorization'] = opts.authorization;
      const init = {
        ...(sameOrigin
          ? this.init(method, headers)
          : { method, headers, verify: this.transport.tlsVerify, certsHost: url.host, host: `${url.host} (redirected from ${this.registry})` }),
        ...(opts.body !== undefined ? { body: opts.body } : {}),
      };
      const res = await this.transport.fetchWithRetry(url, init);
      const location = res.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(res.status) || location === null) return res;
      discard(res);
      if (hops >= MAX_REDIRECTS) throw new SkiffError(`registry ${this.registry}: too many redirects (last to ${location})`);
      if (res.status === 303) method = 'GET';
      url = new URL(location, url);
    }
  }
}

/** Reads a whole (small) body, refusing more than `limit` bytes. */
export async function readBody(res: Response, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    discard(res);
    throw new SkiffError(`${what} is too large (${declared} bytes, at most ${limit} accepted)`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const body = res.body as Readable | null;
  if (body === null) return Buffer.alloc(0);
  const timer = setTimeout(() => body.destroy(Object.assign(new Error('timed out reading the body'), { code: 'ETIMEDOUT' })), HEADERS_TIMEOUT_MS);
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        body.destroy();
        throw new SkiffError(`${what} is too large (more than ${limit} bytes)`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof SkiffError) throw err;
    throw new SkiffError(`reading ${what} failed: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}
