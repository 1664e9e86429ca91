// Authentication with one registry, for one invocation: the challenge from
// the /v2/ ping (or a later 401), Basic credentials, and Bearer tokens from
// the challenge's realm (GET ?service=&scope=&account= with Basic
// credentials when known, anonymous otherwise; OAuth2 POST for identity
// tokens). Tokens are kept per scope set until they expire, and concurrent
// requests for the same scope share one token request.
import * as z from 'zod/mini';
import { SkiffError } from '../errors.js';
import { type Challenge, parseChallenges, preferredChallenge } from './challenge.js';
import type { Credentials } from './credentials.js';
import { describeErrorBody } from './http-errors.js';
import { discard, readBody, type RegistryEndpoint, type RequestOptions, type Response, type Transport } from './transport.js';

/** The token spec's default lifetime, and the shortest one honoured. */
const MIN_TOKEN_LIFETIME_S = 60;
/** Refresh a token this long before it expires. */
const EXPIRY_MARGIN_MS = 10_000;

const TokenResponse = z.object({
  token: z.optional(z.string()),
  access_token: z.optional(z.string()),
  expires_in: z.optional(z.number()),
  issued_at: z.optional(z.string()),
});

export class UnauthorizedError extends SkiffError {
  constructor(
    message: string,
    /** What was refused, without the context. */
    readonly problem: string,
    readonly hasContext: boolean,
  ) {
    super(message);
  }
}

/** "[CONTEXT: ]unauthorized: PROBLEM: run 'skiff login HOST'" — what was refused and how to fix it. */
export function unauthorized(registry: string, problem: string, context?: string): UnauthorizedError {
  const line = `unauthorized: ${problem}: run 'skiff login ${registry}'`;
  return new UnauthorizedError(context ? `${context}: ${line}` : line, problem, context !== undefined);
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export class AuthSession {
  private challenge: Challenge | undefined;
  private pinged = false;
  private readonly tokens = new Map<string, { value: string; expiresAt: number }>();
  private readonly pending = new Map<string, Promise<string>>();
  private creds?: Promise<Credentials | undefined>;

  constructor(
    readonly endpoint: RegistryEndpoint,
    private readonly transport: Transport,
    private readonly loadCredentials: () => Promise<Credentials | undefined>,
  ) {}

  credentials(): Promise<Credentials | undefined> {
    this.creds ??= this.loadCredentials();
    return this.creds;
  }

  /** The challenge the registry gave, after the ping; undefined when it asked for no auth. */
  async currentChallenge(): Promise<Challenge | undefined> {
    if (!this.pinged) {
      const ping = await this.endpoint.ping();
      this.pinged = true;
      if (ping.challenge !== undefined) this.challenge = preferredChallenge(parseChallenges(ping.challenge));
    }
    return this.challenge;
  }

  /**
   * A request with the Authorization the registry wants for `scopes`
   * ("repository:NAME:pull"). On a 401 with a fresh challenge (an expired
   * token, a scope the registry names) it fetches a new token and retries once.
   */
  async request(path: string, scopes: string[], opts: RequestOptions = {}): Promise<Response> {
    if (!this.pinged) {
      // A local registry may answer at once: then no ping is made (RegistryEndpoint.requestBeforePing).
      const direct = await this.endpoint.requestBeforePing(path, opts);
      if (direct !== undefined) {
        this.pinged = true;
        return direct;
      }
    }
    await this.currentChallenge();
    const authorization = await this.authorization(scopes, false);
    const res = await this.endpoint.request(path, { ...opts, authorization });
    if (res.status !== 401) return res;
    const fresh = preferredChallenge(parseChallenges(res.headers.get('www-authenticate') ?? ''));
    if (fresh === undefined) return res;
    // Basic credentials already refused stay refused.
    if (fresh.scheme === 'basic' && authorization !== undefined) return res;
    this.challenge = fresh;
    const named = fresh.params['scope']?.split(' ').filter(Boolean) ?? [];
    const all = [...new Set([...scopes, ...named])];
    discard(res);
    return this.endpoint.request(path, { ...opts, authorization: await this.authorization(all, true) });
  }

  /** The Authorization header value for `scopes`, or undefined when none is needed or possible. */
  async authorization(scopes: string[], force: boolean): Promise<string | undefined> {
    const challenge = await this.currentChallenge();
    if (challenge === undefined) return undefined;
    const creds = await this.credentials();
    if (challenge.scheme === 'basic') return creds ? basicAuthorization(creds.username, creds.password) : undefined;
    const key = [...scopes].sort().join(' ');
    const cached = this.tokens.get(key);
    if (!force && cached !== undefined && cached.expiresAt > Date.now()) return `Bearer ${cached.value}`;
    let pending = force ? undefined : this.pending.get(key);
    if (pending === undefined) {
      pending = this.fetchToken(challenge, scopes, creds).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return `Bearer ${await pending}`;
  }

  private async fetchToken(challenge: Challenge, scopes: string[], creds: Credentials | undefined): Promise<string> {
    const registry = this.endpoint.registry;
    const realmText = challenge.params['realm'];
    let realm: URL;
    try {
      realm = new URL(realmText ?? '');
      if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      throw new SkiffError(`registry ${registry} asked for a Bearer token without a usable realm URL (${JSON.stringify(realmText ?? '')})`);
    }
    const service = challenge.params['service'];
    const init = {
      verify: !this.endpoint.insecure && this.transport.tlsVerify,
      certsHost: realm.host,
      host: `${realm.host} (the token server of ${registry})`,
    };
    let res: Response;
    if (creds?.identityToken !== undefined) {
      // OAuth2 refresh-token grant (Docker's identity tokens).
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'skiff' });
      if (service !== undefined) form.set('service', service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      res = await this.transport.fetchWithRetry(realm, {
        ...init,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    } else {
      const url = new URL(realm);
      if (service !== undefined) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      const headers: Record<string, string> = {};
      if (creds) {
        url.searchParams.set('account', creds.username);
        headers['authorization'] = basicAuthorization(creds.username, creds.password);
      }
      res = await this.transport.fetchWithRetry(url, { ...init, method: 'GET', headers });
    }
    const body = await readBody(res, 1 << 20, `the token from ${realm.origin}`);
    if (res.status === 401 || res.status === 403) {
      throw creds
        ? unauthorized(registry, `${registry} refused the credentials from ${creds.source}`)
        : unauthorized(registry, `${registry} requires authentication`);
    }
    if (res.status !== 200) {
      throw new SkiffError(`the token server of ${registry} (${realm.origin}) failed: ${describeErrorBody(res.status, res.statusText, body)}`);
    }
    let parsed: z.infer<typeof TokenResponse>;
    try {
      parsed = TokenResponse.parse(JSON.parse(body.toString('utf8')));
    } catch {
      throw new SkiffError(`the token server of ${registry} (${realm.origin}) answered something that is not a token response`);
    }
    const token = parsed.token || parsed.access_token;
    if (!token) throw new SkiffError(`the token server of ${registry} (${realm.origin}) answered without a token`);
    const lifetime = Math.max(parsed.expires_in ?? MIN_TOKEN_LIFETIME_S, MIN_TOKEN_LIFETIME_S);
    const issued = parsed.issued_at ? Date.parse(parsed.issued_at) : NaN;
    // Trust our clock over a skewed issuer's, but never extend a token past its own stated expiry.
    const start = Number.isNaN(issued) ? Date.now() : Math.min(Date.now(), issued);
    this.tokens.set([...scopes].sort().join(' '), { value: token, expiresAt: start + lifetime * 1000 - EXPIRY_MARGIN_MS });
    return token;
  }
}
