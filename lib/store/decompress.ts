// A layer blob's bytes in, the uncompressed tar out, with the sha256 of that
// tar (the diffID) taken as it flows. The compression is read from the first
// bytes, as containerd and containers/image do, so a blob whose media type
// lies about it still unpacks; the media type is only used up front to check
// that a zstd decompressor is installed.
//
// gzip: node:zlib. zstd: Node 20 has none, and the system `zstd -dc` streams at
// native speed from a separate process (the decompression runs on another
// core, beside our unpacking), where a WebAssembly or JavaScript decoder would
// be several times slower on this thread and a native addon would need a
// compiler at install time. An archive (load, import, cp -) may also be
// bzip2 or xz, as Docker's archive input: the system `bzip2 -dc`/`xz -dc` the
// same way, and one line naming the package when the program is missing.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, openSync } from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { SkiffError, errnoCode } from '../errors.js';
import { findProgram } from '../host/programs.js';

import { zstdBinary, type Compression } from './compression.js';

export { compressionOfMediaType, zstdBinary, type Compression } from './compression.js';
/** What an archive (docker load, import, cp -) may also be: Docker's archive input takes bzip2 and xz too. */
type ArchiveCompression = Compression | 'bzip2' | 'xz';
/** The Debian package of each external decompressor. */
const PACKAGE = { zstd: 'zstd', bzip2: 'bzip2', xz: 'xz-utils' } as const;


/**
 * Bytes handed to the decompressor at once, and the size of its output chunks.
 * Sockets deliver 64 KiB reads; each write to zlib is a round trip to the
 * thread pool and each output chunk a trip through the streams and a write(2).
 * Measured on the bench (bench/pull, 2 cores, page cache dropped): 1 MiB both
 * ways instead of 64 KiB in / 128 KiB out made the cold pull of a 277 MB layer
 * ~20% faster and of a 6,900-file Debian-sized layer ~15% faster; a larger
 * read-side buffer (4 MiB) was slower.
 */
const FEED_BYTES = 1 << 20;
const CHUNK_BYTES = 1 << 20;

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** The compression the first bytes show; bzip2 and xz only for an archive (a layer is tar, gzip or zstd). */
export function sniff(b: Buffer, archive: boolean): ArchiveCompression {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (archive && b.length >= 3 && b.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (archive && b.length >= XZ_MAGIC.length && b.subarray(0, XZ_MAGIC.length).equals(XZ_MAGIC)) return 'xz';
  return 'none';
}

/**
 * Compressed bytes in, tar bytes out. After 'end', diffID() is the sha256 of
 * everything that came out and size() its length.
 */
export class LayerDecoder extends Transform {
  private inner: zlib.Gunzip | ChildProcess | undefined;
  private kind: ArchiveCompression | undefined;
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private digest = '';
  private zstdError = '';
  private innerDone: Promise<void> | undefined;
  private pending: Buffer = Buffer.alloc(0);
  /** Compressed input not yet handed to the decompressor (less than FEED_BYTES). */
  private feedParts: Buffer[] = [];
  private feedLength = 0;

  /**
   * `blob` names the layer in errors. `archive`: the stream is a whole
   * archive (load), not a registry's layer blob: other words, and no hash.
   */
  constructor(
    private readonly blob: string,
    private readonly archive = false,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  /** A blob that does not decompress was damaged on its way or is not what its digest says: say which. */
  private failure(kind: string, detail: string): SkiffError {
    if (this.archive) return new SkiffError(`${this.blob} cannot be decompressed (${kind}: ${detail}): it is damaged or truncated`);
    return new SkiffError(`layer ${this.blob} cannot be decompressed (${kind}: ${detail}): the blob is damaged or not what the registry says`);
  }

  diffID(): string {
    return this.digest;
  }

  size(): number {
    return this.bytes;
  }

  /** The layer compression seen (bzip2 and xz, archives only, are not layer compressions). */
  compression(): Compression | undefined {
    return this.kind === 'bzip2' || this.kind === 'xz' ? undefined : this.kind;
  }

  /** The decompressor program, or why there is none (an archive names the package that has it). */
  private program(kind: 'zstd' | 'bzip2' | 'xz'): string {
    if (!this.archive) return zstdBinary();
    const found = findProgram(kind);
    if (found) return found;
    throw new SkiffError(`${this.blob} is ${kind}-compressed and the ${kind} program is not installed: install the '${PACKAGE[kind]}' package`);
  }

  private out(chunk: Buffer): void {
    if (!this.archive) this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.push(chunk)) this.pauseInner();
  }

  private pauseInner(): void {
    if (this.inner instanceof zlib.Gunzip) this.inner.pause();
    else this.inner?.stdout?.pause();
  }

  override _read(size: number): void {
    if (this.inner instanceof zlib.Gunzip) this.inner.resume();
    else this.inner?.stdout?.resume();
    super._read(size);
  }

  private start(kind: ArchiveCompression): void {
    this.kind = kind;
    if (kind === 'gzip') {
      const gunzip = zlib.createGunzip({ chunkSize: CHUNK_BYTES });
      gunzip.on('data', (c: Buffer) => this.out(c));
      gunzip.on('error', (err) => this.destroy(this.failure('gzip', err.message)));
      this.innerDone = new Promise((resolve) => gunzip.once('end', resolve));
      this.inner = gunzip;
    } else if (kind !== 'none') {
      const child = spawn(this.program(kind), ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdout!.on('data', (c: Buffer) => this.out(c));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.zstdError += d));
      child.stdin!.on('error', () => {}); // EPIPE when zstd fails: its exit status says why
      this.innerDone = new Promise((resolve, reject) => {
        child.on('error', (err) => reject(new SkiffError(`cannot run ${kind}: ${err.message}`)));
        child.on('close', (code, signal) => {
          if (code === 0) resolve();
          else reject(this.failure(kind, this.zstdError.trim().split('\n').pop() || `${kind} ${signal ?? `exited with ${code}`}`));
        });
      });
      this.innerDone.catch((err: Error) => this.destroy(err));
      this.inner = child;
    }
  }

  override _transform(input: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let chunk = input;
    if (this.kind === undefined) {
      // The magic number may straddle chunks: decide on the first 4 bytes.
      chunk = this.pending.length > 0 ? Buffer.concat([this.pending, input]) : input;
      if (chunk.length < 4) {
        this.pending = chunk;
        cb();
        return;
      }
      this.pending = Buffer.alloc(0);
      try {
        this.start(sniff(chunk, this.archive));
      } catch (err) {
        cb(err as Error); // a missing decompressor: one line, not a throw out of the stream machinery
        return;
      }
    }
    this.feed(chunk, cb);
  }

  private feed(chunk: Buffer, cb: TransformCallback): void {
    if (this.kind === 'none') {
      this.out(chunk);
      cb();
      return;
    }
    this.feedParts.push(chunk);
    this.feedLength += chunk.length;
    if (this.feedLength < FEED_BYTES) {
      cb();
      return;
    }
    const sink = this.inner instanceof zlib.Gunzip ? this.inner : this.inner!.stdin!;
    if (sink.write(this.takeFeed())) cb();
    else sink.once('drain', () => cb());
  }

  private takeFeed(): Buffer {
    const all = this.feedParts.length === 1 ? this.feedParts[0]! : Buffer.concat(this.feedParts, this.feedLength);
    this.feedParts = [];
    this.feedLength = 0;
    return all;
  }

  override _flush(cb: TransformCallback): void {
    if (this.kind === undefined && this.pending.length > 0) {
      const rest = this.pending;
      this.pending = Buffer.alloc(0);
      try {
        this.start(sniff(rest, this.archive));
      } catch (err) {
        cb(err as Error);
        return;
      }
      this.feed(rest, (err) => (err ? cb(err) : this._flush(cb)));
      return;
    }
    const finish = () => {
      this.digest = `sha256:${this.hash.digest('hex')}`;
      cb();
    };
    if (this.kind === undefined || this.kind === 'none') {
      finish();
      return;
    }
    const sink = this.inner instanceof zlib.Gunzip ? this.inner : this.inner!.stdin!;
    if (this.feedLength > 0) sink.write(this.takeFeed());
    sink.end();
    this.innerDone!.then(finish, (err: Error) => cb(err));
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (this.inner instanceof zlib.Gunzip) this.inner.destroy();
    else if (this.inner && this.inner.exitCode === null) this.inner.kill('SIGKILL');
    cb(err);
  }
}

/**
 * An archive on stdin (load, import, cp -), decompressed when gzip, zstd,
 * bzip2 or xz. An error reading stdin ends the stream with one clear line.
 */
export function openStdin(what: string): Readable {
  const decoder = new LayerDecoder(what, true);
  process.stdin.on('error', (err) => decoder.destroy(new SkiffError(`cannot read ${what}: ${errnoCode(err) ?? err.message}`)));
  return process.stdin.pipe(decoder);
}

/**
 * A file (an archive, a tarball), decompressed when gzip, zstd, bzip2 or xz. Opened at
 * once, so a missing or unreadable file is one clear error before any work.
 */
export function openFile(file: string): Readable {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = errnoCode(err);
    throw new SkiffError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? String(err))}`);
  }
  const stream = createReadStream('', { fd, highWaterMark: 1 << 20 });
  const decoder = new LayerDecoder(file, true);
  stream.on('error', (err) => decoder.destroy(new SkiffError(`cannot read ${file}: ${errnoCode(err) ?? err.message}`)));
  return stream.pipe(decoder);
}
