// Compressing a layer's tar for a blob: gzip on every core, or zstd.
//
// gzip: one deflate stream is one core's work, and a layer of 100+ MB takes
// seconds at zlib's levels; Podman compresses with pgzip on every core. So,
// as pigz does, the tar is cut into blocks deflated at once on libuv's
// thread pool, each primed with the 32 KiB before it as its dictionary and
// ended with a sync flush (so the pieces join on byte boundaries into one
// deflate stream), then framed as one ordinary gzip member with the CRC-32 of
// the whole. Any gzip reader reads it; the same input and level always give
// the same bytes (the blocks do not depend on the number of cores).
//
// zstd: the system `zstd` binary, as decompression uses it (decompress.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { Duplex, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { SkiffError } from '../errors.js';
import { zstdBinary } from './decompress.js';

export type LayerCompression = 'gzip' | 'zstd';

/** Bytes deflated per job; pigz's default is 128 KiB, larger blocks cost less per job in Node. */
const GZIP_BLOCK = 1 << 20;
const DICTIONARY = 32 << 10;
/**
 * zlib's level. Measured on the bench's Debian-sized tar (133 MB, 2 cores,
 * busy machine): level 1 gives 50.5 MB in 3.5 s of one core, level 6 46.7 MB
 * in 7.8 s; see bench/README.md for the whole push against Podman's.
 */
export const GZIP_LEVEL = 6;

interface Job {
  done: boolean;
  out?: Buffer;
  err?: Error;
}

/** gzip, deflated in parallel blocks (see the top of this file). */
export class ParallelGzip extends Transform {
  private readonly parts: Buffer[] = [];
  private partsLength = 0;
  private tail: Buffer = Buffer.alloc(0);
  private crc = 0;
  private size = 0;
  private readonly jobs: Job[] = [];
  private readonly limit: number;
  private waiting: { until: () => boolean; cb: (err?: Error | null) => void } | undefined;
  private failed = false;

  constructor(
    private readonly level = GZIP_LEVEL,
    jobs = availableParallelism(),
  ) {
    super({ highWaterMark: 1 << 20 });
    this.limit = Math.max(2, jobs);
    // A fixed header: no name, no time (reproducible), OS "unknown" as Go writes it.
    this.push(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level >= 9 ? 2 : level <= 1 ? 4 : 0, 255]));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.parts.push(chunk);
    this.partsLength += chunk.length;
    while (this.partsLength >= GZIP_BLOCK) {
      const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLength);
      this.parts.length = 0;
      this.dispatch(all.subarray(0, GZIP_BLOCK), false);
      this.partsLength = all.length - GZIP_BLOCK;
      if (this.partsLength > 0) this.parts.push(all.subarray(GZIP_BLOCK));
    }
    this.wait(() => this.jobs.length < this.limit, cb);
  }

  override _flush(cb: TransformCallback): void {
    this.dispatch(this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLength), true);
    this.parts.length = 0;
    this.wait(
      () => this.jobs.length === 0,
      (err) => {
        if (err) return cb(err);
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(this.crc >>> 0, 0);
        trailer.writeUInt32LE(this.size % 0x100000000, 4);
        cb(null, trailer);
      },
    );
  }

  private dispatch(block: Buffer, last: boolean): void {
    this.crc = zlib.crc32(block, this.crc);
    this.size += block.length;
    const dictionary = this.tail;
    this.tail = block.length >= DICTIONARY ? block.subarray(block.length - DICTIONARY) : Buffer.concat([this.tail, block]).subarray(-DICTIONARY);
    const job: Job = { done: false };
    this.jobs.push(job);
    const opts: zlib.ZlibOptions = { level: this.level, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH };
    if (dictionary.length > 0) opts.dictionary = dictionary;
    zlib.deflateRaw(block, opts, (err, out) => {
      job.done = true;
      if (err) job.err = err;
      else job.out = out;
      this.release();
    });
  }

  /** Passes on the finished jobs at the head, in order; wakes a waiting callback. */
  private release(): void {
    while (this.jobs.length > 0 && this.jobs[0]!.done) {
      const job = this.jobs.shift()!;
      if (job.err) {
        this.failed = true;
        const w = this.waiting;
        this.waiting = undefined;
        w?.cb(new SkiffError(`gzip failed: ${job.err.message}`));
        return;
      }
      if (!this.destroyed) this.push(job.out);
    }
    if (this.waiting && this.waiting.until()) {
      const w = this.waiting;
      this.waiting = undefined;
      w.cb();
    }
  }

  private wait(until: () => boolean, cb: (err?: Error | null) => void): void {
    if (this.failed) return cb(new SkiffError('gzip failed'));
    if (until()) return cb();
    this.waiting = { until, cb };
  }
}

/** `zstd -c` as a stream: tar in, zstd out; it ends only once zstd has exited with success. */
class ZstdCompressor extends Duplex {
  private readonly child: ChildProcess;
  private stderr = '';

  constructor() {
    super({ highWaterMark: 1 << 20 });
    this.child = spawn(zstdBinary(), ['-c', '-q', '-3', '-T0'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = this.child.stdout!;
    out.on('data', (c: Buffer) => {
      if (!this.push(c)) out.pause();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.child.stdin!.on('error', () => {}); // EPIPE when zstd fails: its status says why
    this.child.on('error', (err) => this.destroy(new SkiffError(`cannot run zstd: ${err.message}`)));
    this.child.on('close', (code, signal) => {
      if (code === 0) this.push(null);
      else this.destroy(new SkiffError(`zstd failed: ${this.stderr.trim().split('\n').pop() || (signal ?? `exit status ${code}`)}`));
    });
  }

  override _read(): void {
    this.child.stdout!.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.child.stdin!.write(chunk)) cb();
    else this.child.stdin!.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.child.stdin!.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    cb(err);
  }
}

/** A stream that compresses a tar into a layer blob's bytes. */
export function createCompressor(kind: LayerCompression): Duplex {
  return kind === 'gzip' ? new ParallelGzip() : new ZstdCompressor();
}
