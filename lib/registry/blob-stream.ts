// A blob's bytes as a Readable that verifies them as they flow: it counts and
// hashes every byte it passes on, and at the end either ends (size and digest
// match) or fails with a SkiffError naming the blob and the registry — it
// never ends with wrong data. A connection cut mid-body (or silent for too
// long while flowing) is resumed with "Range: bytes=N-"; a server that answers
// a Range request with 200 sends the whole blob again, and the first N bytes of
// that answer are dropped, so the hash always covers exactly the bytes emitted.
import type { Hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import type { Descriptor } from '../oci/image-spec.js';
import { discard, type Response } from './transport.js';

const requireBuiltin = createRequire('/'); // for built-in modules only: the base path plays no part

/** Consecutive failed resumes (without a byte of progress) before giving up. */
const MAX_RESUMES = 5;
const RESUME_BACKOFF_MS = 200;
const MAX_RESUME_BACKOFF_MS = 2000;
/** A flowing body that sends nothing for this long is treated as cut. */
export const BLOB_IDLE_TIMEOUT_MS = 30_000;

export interface BlobSource {
  /** host[:port], for messages. */
  registry: string;
  /** The blob from `offset` on (a Range request when offset > 0): a 200 or 206 response, else it throws. */
  open(offset: number): Promise<Response>;
}

export interface VerifiedBlobOptions {
  onBytes?: (n: number) => void;
  idleTimeoutMs?: number;
  /** The answer to open(0), when the caller already made that request (to report a refusal before returning a stream). */
  first?: Response;
}

export class VerifiedBlobStream extends Readable {
  private emitted = 0;
  /** Bytes of the current response to drop (a 200 answering a Range request). */
  private skip = 0;
  private readonly hash: Hash;
  private body: Readable | undefined;
  private opening = false;
  private failures = 0;
  private idle: NodeJS.Timeout | undefined;
  private readonly idleTimeoutMs: number;
  private first: Response | undefined;

  constructor(
    private readonly source: BlobSource,
    private readonly blob: Descriptor,
    private readonly opts: VerifiedBlobOptions = {},
  ) {
    super({ highWaterMark: 1 << 20 });
    const algorithm = blob.digest.slice(0, blob.digest.indexOf(':'));
    if (!['sha256', 'sha384', 'sha512'].includes(algorithm)) {
      throw new SkiffError(`blob ${blob.digest}: unsupported digest algorithm "${algorithm}"`);
    }
    // node:crypto loads with the first blob stream: a pull of a stored image opens none.
    this.hash = (requireBuiltin('node:crypto') as typeof import('node:crypto')).createHash(algorithm);
    this.idleTimeoutMs = opts.idleTimeoutMs ?? BLOB_IDLE_TIMEOUT_MS;
    this.first = opts.first;
  }

  /** Bytes passed on so far. */
  get bytesEmitted(): number {
    return this.emitted;
  }

  override _read(): void {
    if (this.body !== undefined) {
      this.armIdle();
      this.body.resume();
    } else if (!this.opening) {
      void this.openAt();
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.clearIdle();
    this.detach();
    // Destroyed before reading: the first answer's socket must not stay busy (and keep the process alive).
    if (this.first !== undefined) (this.first.body as Readable | null)?.destroy();
    this.first = undefined;
    callback(err);
  }

  private wrong(problem: string): SkiffError {
    return new SkiffError(`blob ${this.blob.digest} from ${this.source.registry} ${problem}: the registry served wrong data`);
  }

  private async openAt(): Promise<void> {
    this.opening = true;
    const offset = this.emitted;
    let res: Response;
    try {
      const first = offset === 0 ? this.first : undefined;
      this.first = undefined;
      res = first ?? (await this.source.open(offset));
    } catch (err) {
      // The transport has already retried the request itself.
      this.destroy(err as Error);
      return;
    } finally {
      this.opening = false;
    }
    if (this.destroyed) {
      discard(res);
      return;
    }
    const length = res.headers.get('content-length');
    if (res.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (offset === 0 || range === null || Number(range[1]) !== offset || (range[3] !== '*' && Number(range[3]) !== this.blob.size)) {
        discard(res);
        this.destroy(this.wrong(`answered a request for bytes ${offset}- with the range ${JSON.stringify(res.headers.get('content-range'))}`));
        return;
      }
      this.skip = 0;
    } else {
      if (length !== null && Number(length) !== this.blob.size) {
        discard(res);
        this.destroy(this.wrong(`is ${length} bytes, but its descriptor says ${this.blob.size}`));
        return;
      }
      this.skip = offset;
    }
    const body = res.body as Readable | null;
    if (body === null) {
      this.destroy(this.wrong('came without a body'));
      return;
    }
    this.body = body;
    body.on('data', this.onData);
    body.once('end', this.onEnd);
    body.once('error', this.onError);
    this.armIdle();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.armIdle();
    if (this.skip > 0) {
      if (chunk.length <= this.skip) {
        this.skip -= chunk.length;
        return;
      }
      chunk = chunk.subarray(this.skip);
      this.skip = 0;
    }
    if (this.emitted + chunk.length > this.blob.size) {
      this.destroy(this.wrong(`is larger than the ${this.blob.size} bytes its descriptor says`));
      return;
    }
    this.hash.update(chunk);
    this.emitted += chunk.length;
    this.failures = 0;
    this.opts.onBytes?.(chunk.length);
    if (!this.push(chunk)) {
      this.clearIdle();
      this.body?.pause();
    }
  };

  private readonly onEnd = (): void => {
    this.clearIdle();
    this.detach();
    if (this.skip > 0) {
      this.destroy(this.wrong(`is shorter than the ${this.emitted} bytes already received`));
      return;
    }
    if (this.emitted < this.blob.size) {
      // The server closed the body early without an error: resume.
      this.resumeAfter(new Error(`the body ended after ${this.emitted} of ${this.blob.size} bytes`));
      return;
    }
    const digest = `${this.blob.digest.slice(0, this.blob.digest.indexOf(':'))}:${this.hash.digest('hex')}`;
    if (digest !== this.blob.digest) {
      this.destroy(this.wrong('does not match its digest'));
      return;
    }
    this.push(null);
  };

  private readonly onError = (err: Error): void => {
    this.clearIdle();
    this.detach();
    this.resumeAfter(err);
  };

  private resumeAfter(err: Error): void {
    if (this.destroyed) return;
    this.failures++;
    if (this.failures > MAX_RESUMES) {
      this.destroy(
        new SkiffError(
          `downloading blob ${this.blob.digest} from ${this.source.registry} failed after ${MAX_RESUMES} resumed attempts ` +
            `(${this.emitted} of ${this.blob.size} bytes): ${err.message}`,
        ),
      );
      return;
    }
    setTimeout(() => {
      if (!this.destroyed) void this.openAt();
    }, Math.min(RESUME_BACKOFF_MS * 2 ** (this.failures - 1), MAX_RESUME_BACKOFF_MS));
  }

  private detach(): void {
    const body = this.body;
    if (body === undefined) return;
    this.body = undefined;
    body.off('data', this.onData);
    body.off('end', this.onEnd);
    body.off('error', this.onError);
    body.on('error', () => {}); // late errors of an abandoned body
    body.destroy();
  }

  private armIdle(): void {
    this.clearIdle();
    this.idle = setTimeout(() => {
      const err = Object.assign(new Error(`no data for ${this.idleTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' });
      this.body?.destroy(err);
    }, this.idleTimeoutMs);
    this.idle.unref?.();
  }

  private clearIdle(): void {
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.idle = undefined;
  }
}
