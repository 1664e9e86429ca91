// Pushing to a registry (distribution spec, "push"): blobs the registry has
// are not sent again (HEAD first, then a cross-repository mount from a
// repository of the same registry that has it), the others are uploaded
// from a file, monolithically when small (POST, then PUT with the bytes) or
// in chunks (PATCH with Content-Range, then PUT ?digest=). A dropped
// connection or a 5xx resumes the upload where the registry says it stands
// (GET on the upload's location), or starts it again. Then the manifest is
// PUT and the digest the registry names must be the one of our bytes. Auth,
// TLS, registries.conf's "insecure" and the credential files are pull's.
import { createReadStream, type ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import type { Descriptor } from '../oci/image-spec.js';
import { familiarName, type ImageReference } from '../oci/reference.js';
import { AuthSession, unauthorized, UnauthorizedError } from './auth.js';
import { lookupCredentials, type Credentials } from './credentials.js';
import { describeErrorBody, networkError, parseErrorBody, RegistryNetworkError } from './http-errors.js';
import { digestOf } from './manifest.js';
import { findRegistryEntry, loadRegistriesConf } from './registries-conf.js';
import { discard, readBody, Transport, type RequestOptions, type Response } from './transport.js';

/**
 * Blobs up to this size go in one PUT; larger ones in PATCH chunks of this
 * size. SKIFF_PUSH_CHUNK_BYTES sets another (at least 64 KiB), for a proxy in
 * front of a registry that limits the size of a request's body.
 */
export function chunkBytes(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['SKIFF_PUSH_CHUNK_BYTES']);
  return Number.isSafeInteger(n) && n >= 64 << 10 ? n : 64 << 20;
}
const MAX_ATTEMPTS = 5;
const BACKOFF_MS = 250;
const MAX_ERROR_BODY = 64 << 10;

export interface PushClientOptions {
  /** --tls-verify=false: plain HTTP and unverified TLS allowed. */
  tlsVerify?: boolean;
  authFile?: string;
  /** --creds USER[:PASSWORD]. */
  credentials?: { username: string; password: string };
}

export interface BlobUpload {
  descriptor: Descriptor;
  /** A file holding exactly the blob's bytes (read from any offset on a retry). */
  file: string;
  /** Repositories of the same registry that may hold it already (a cross-repository mount is tried). */
  mountFrom?: string[];
}

export type BlobOutcome = 'exists' | 'mounted' | 'uploaded';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A failure of one step that another try may cure (a reset connection, a 5xx). */
class Retryable extends Error {}

export class PushClient {
  private readonly transport: Transport;
  private readonly session: AuthSession;
  private readonly display: string;
  private readonly scope: string;

  constructor(
    /** Where to: registry and repository (the tag or digest is the manifest's business). */
    private readonly target: ImageReference,
    opts: PushClientOptions = {},
  ) {
    this.transport = new Transport({ tlsVerify: opts.tlsVerify !== false });
    const conf = loadRegistriesConf();
    const insecure = findRegistryEntry(conf, target.registry)?.insecure ?? false;
    const endpoint = this.transport.endpoint(target.registry, insecure);
    const loadCredentials = async (): Promise<Credentials | undefined> => {
      if (opts.credentials) return { ...opts.credentials, source: '--creds' };
      return lookupCredentials(target.registry, target.repository, {
        ...(opts.authFile !== undefined ? { authFile: opts.authFile } : {}),
        ...(conf.credentialHelpers !== undefined ? { helpers: conf.credentialHelpers } : {}),
      });
    };
    this.session = new AuthSession(endpoint, this.transport, loadCredentials);
    this.display = familiarName({ registry: target.registry, repository: target.repository });
    this.scope = `repository:${target.repository}:pull,push`;
  }

  close(): void {
    this.transport.close();
  }

  private async request(path: string, opts: RequestOptions, extraScopes: string[] = []): Promise<Response> {
    try {
      return await this.session.request(path, [this.scope, ...extraScopes], opts);
    } catch (err) {
      if (err instanceof UnauthorizedError && !err.hasContext) throw unauthorized(this.target.registry, err.problem, `pushing ${this.display}`);
      throw err;
    }
  }

  /** One line for a refusal; Retryable for what another try may cure. */
  private async failure(res: Response, what: string): Promise<Error> {
    const body = await readBody(res, MAX_ERROR_BODY, 'an error response').catch(() => Buffer.alloc(0));
    const detail = describeErrorBody(res.status, res.statusText, body);
    if (res.status >= 500 || res.status === 429) return new Retryable(`${what}: registry ${this.target.registry} answered ${detail}`);
    if (res.status === 401) {
      const creds = await this.session.credentials();
      const basic = (await this.session.currentChallenge())?.scheme === 'basic';
      const problem = !creds
        ? `${this.target.registry} requires authentication`
        : basic
          ? `${this.target.registry} refused the credentials from ${creds.source}`
          : `the credentials from ${creds.source} give no push access to ${this.target.repository}`;
      return unauthorized(this.target.registry, problem, `pushing ${this.display}`);
    }
    if (res.status === 403 || parseErrorBody(body).some((e) => e.code === 'DENIED')) {
      return new SkiffError(`pushing ${this.display}: access denied by registry ${this.target.registry}: ${detail}`);
    }
    return new SkiffError(`pushing ${this.display}: ${what}: registry ${this.target.registry} answered ${detail}`);
  }

  /** HEAD: does the repository have this blob? */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request(`/v2/${this.target.repository}/blobs/${digest}`, { method: 'HEAD' });
    discard(res);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await this.failure(res, `checking blob ${digest}`);
  }

  /** Sends a blob unless the registry has it or can mount it; resolves to what happened. */
  async pushBlob(blob: BlobUpload, onBytes?: (n: number) => void): Promise<BlobOutcome> {
    if (await this.hasBlob(blob.descriptor.digest)) return 'exists';
    return this.uploadBlob(blob, onBytes);
  }

  /** Sends a blob the caller knows the registry lacks (a mount from `mountFrom` tried first), retrying what may be cured. */
  async uploadBlob(blob: BlobUpload, onBytes?: (n: number) => void): Promise<BlobOutcome> {
    const digest = blob.descriptor.digest;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.uploadOnce(blob, onBytes);
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !(err instanceof Retryable)) {
          if (err instanceof Retryable) throw new SkiffError(`pushing ${this.display}: uploading blob ${digest} failed ${MAX_ATTEMPTS} times: ${err.message}`);
          throw err;
        }
        await sleep(BACKOFF_MS * 2 ** (attempt - 1));
      }
    }
  }

  /**
   * A cross-repository mount only (for a blob skiff does not hold, known to
   * be in one of `from`): true when mounted; an upload the registry opened
   * instead is cancelled.
   */
  async mountBlob(digest: string, from: string[]): Promise<boolean> {
    for (const repo of from) {
      if (repo === this.target.repository) continue;
      const q = new URLSearchParams({ mount: digest, from: repo });
      const res = await this.request(`/v2/${this.target.repository}/blobs/uploads/?${q}`, { method: 'POST', headers: { 'content-length': '0' } }, [`repository:${repo}:pull`]);
      discard(res);
      if (res.status === 201) return true;
      if (res.status === 202) {
        const cancel = await this.request((await this.location(res)).href, { method: 'DELETE' }).catch(() => undefined);
        if (cancel) discard(cancel);
      } else if (res.status === 401 || res.status === 403) {
        continue; // no pull access to that repository: try the next
      } else if (res.status !== 404) {
        throw await this.failure(res, `mounting blob ${digest} from ${repo}`);
      }
    }
    return false;
  }

  /** Starts an upload (trying the mounts first); 'mounted', or the upload's location. */
  private async startUpload(blob: BlobUpload): Promise<'mounted' | URL> {
    const base = `/v2/${this.target.repository}/blobs/uploads/`;
    for (const from of blob.mountFrom ?? []) {
      if (from === this.target.repository) continue;
      const q = new URLSearchParams({ mount: blob.descriptor.digest, from });
      const res = await this.send(`${base}?${q}`, { method: 'POST', headers: { 'content-length': '0' } }, [`repository:${from}:pull`]);
      discard(res);
      if (res.status === 201) return 'mounted';
      // 202: the registry could not mount it and opened an ordinary upload instead.
      if (res.status === 202) return this.location(res);
    }
    const res = await this.send(base, { method: 'POST', headers: { 'content-length': '0' } });
    if (res.status !== 202) throw await this.failure(res, `starting the upload of blob ${blob.descriptor.digest}`);
    discard(res);
    return this.location(res);
  }

  private async location(res: Response): Promise<URL> {
    const loc = res.headers.get('location');
    if (!loc) throw new SkiffError(`pushing ${this.display}: registry ${this.target.registry} opened an upload without a Location`);
    const { origin } = await this.session.endpoint.ping();
    return new URL(loc, origin);
  }

  /** A request whose network failure is Retryable (the whole step is tried again). */
  private async send(path: string, opts: RequestOptions, extraScopes: string[] = []): Promise<Response> {
    try {
      return await this.request(path, opts, extraScopes);
    } catch (err) {
      // A cut connection or a timeout is worth another try; the transport has named the registry.
      const named = networkError(this.target.registry, err);
      if (named instanceof RegistryNetworkError && (named.kind === 'reset' || named.kind === 'timeout')) throw new Retryable(named.message);
      throw named;
    }
  }

  private async uploadOnce(blob: BlobUpload, onBytes?: (n: number) => void): Promise<BlobOutcome> {
    const { digest, size } = blob.descriptor;
    const started = await this.startUpload(blob);
    if (started === 'mounted') return 'mounted';
    let location = started;
    const octets = { 'content-type': 'application/octet-stream' };
    const finish = (loc: URL) => {
      const url = new URL(loc);
      url.searchParams.set('digest', digest);
      return url;
    };
    const chunk = chunkBytes();
    if (size <= chunk) {
      const res = await this.send(finish(location).href, {
        method: 'PUT',
        headers: { ...octets, 'content-length': String(size) },
        body: this.counted(createReadStream(blob.file), onBytes),
      });
      return this.finished(res, digest);
    }
    let offset = 0;
    while (offset < size) {
      const end = Math.min(size, offset + chunk) - 1;
      let res: Response;
      try {
        res = await this.send(location.href, {
          method: 'PATCH',
          headers: { ...octets, 'content-length': String(end - offset + 1), 'content-range': `${offset}-${end}` },
          body: this.counted(createReadStream(blob.file, { start: offset, end }), onBytes),
        });
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        // Where does the registry stand? Resume from there, or start again.
        const resumed = await this.uploadStatus(location);
        if (resumed === undefined) throw err;
        onBytes?.(resumed.offset - offset - (end - offset + 1));
        offset = resumed.offset;
        location = resumed.location;
        continue;
      }
      if (res.status !== 202) throw await this.failure(res, `uploading blob ${digest}`);
      discard(res);
      location = await this.location(res);
      const stored = rangeEnd(res.headers.get('range'));
      offset = stored !== undefined ? stored + 1 : end + 1;
    }
    const res = await this.send(finish(location).href, { method: 'PUT', headers: { ...octets, 'content-length': '0' } });
    return this.finished(res, digest);
  }

  private async finished(res: Response, digest: string): Promise<BlobOutcome> {
    if (res.status !== 201) throw await this.failure(res, `uploading blob ${digest}`);
    discard(res);
    const named = res.headers.get('docker-content-digest');
    if (named && named !== digest) {
      throw new SkiffError(`pushing ${this.display}: registry ${this.target.registry} stored blob ${digest} as ${named}: the upload was damaged`);
    }
    return 'uploaded';
  }

  /** GET on an upload: how many bytes the registry holds (undefined when it lost the upload). */
  private async uploadStatus(location: URL): Promise<{ offset: number; location: URL } | undefined> {
    let res: Response;
    try {
      res = await this.request(location.href, { method: 'GET' });
    } catch {
      return undefined;
    }
    discard(res);
    if (res.status !== 204) return undefined;
    const end = rangeEnd(res.headers.get('range'));
    return { offset: end === undefined ? 0 : end + 1, location: await this.location(res).catch(() => location) };
  }

  /** A file stream that reports its bytes as they go. */
  private counted(stream: ReadStream, onBytes?: (n: number) => void): Readable {
    if (onBytes) stream.on('data', (c: Buffer | string) => onBytes(c.length));
    return stream;
  }

  /** PUTs a manifest under a tag or digest; resolves to its digest (checked against the registry's). */
  async putManifest(tagOrDigest: string, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = digestOf(bytes);
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.send(`/v2/${this.target.repository}/manifests/${tagOrDigest}`, {
          method: 'PUT',
          headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
          body: bytes,
        });
      } catch (err) {
        if (err instanceof Retryable && attempt < MAX_ATTEMPTS) {
          await sleep(BACKOFF_MS * 2 ** (attempt - 1));
          continue;
        }
        throw err instanceof Retryable ? new SkiffError(`pushing ${this.display}: ${err.message}`) : err;
      }
      if (res.status === 201 || res.status === 200) {
        discard(res);
        const named = res.headers.get('docker-content-digest');
        if (named && named !== digest) {
          throw new SkiffError(`pushing ${this.display}: registry ${this.target.registry} stored the manifest as ${named}, not ${digest}`);
        }
        return digest;
      }
      const err = await this.failure(res, `writing the manifest ${tagOrDigest}`);
      if (err instanceof Retryable && attempt < MAX_ATTEMPTS) {
        await sleep(BACKOFF_MS * 2 ** (attempt - 1));
        continue;
      }
      throw err instanceof Retryable ? new SkiffError(`pushing ${this.display}: ${err.message}`) : err;
    }
  }
}

/** The last byte a Range header ("0-1234" or "bytes=0-1234") names. */
function rangeEnd(header: string | null): number | undefined {
  const m = /(\d+)-(\d+)/.exec(header ?? '');
  return m ? Number(m[2]) : undefined;
}
