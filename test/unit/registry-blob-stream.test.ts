import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SkiffError } from '../../lib/errors.js';
import type { Descriptor } from '../../lib/oci/image-spec.js';
import { VerifiedBlobStream, type BlobSource } from '../../lib/registry/blob-stream.js';
import type { Response } from '../../lib/registry/transport.js';

/** An answer as the transport gives it: status, headers (lower-case names), the body stream. */
function answerOf(stream: Readable, status: number, headers: Record<string, string> = {}): Response {
  return { status, statusText: '', ok: status >= 200 && status < 300, headers: { get: (name) => headers[name.toLowerCase()] ?? null }, body: stream };
}

const DATA = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
const descriptor = (data: Buffer, algorithm = 'sha256'): Descriptor => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar',
  digest: `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`,
  size: data.length,
});

/** A body that sends `data` in 16 KiB chunks and then, optionally, fails or stalls instead of ending. */
function body(data: Buffer, after: 'end' | 'reset' | 'stall' = 'end'): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += 16384) chunks.push(data.subarray(i, i + 16384));
  let i = 0;
  return new Readable({
    read() {
      if (i < chunks.length) this.push(chunks[i++]);
      else if (after === 'end') this.push(null);
      else if (after === 'reset') this.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      // 'stall': never pushes again
    },
  });
}

type Answer = (offset: number) => { status: number; headers?: Record<string, string>; body: Readable };

/** A source answering each open() with the next function of `answers` (the last repeats); records the offsets asked for. */
function source(answers: Answer[]): BlobSource & { offsets: number[] } {
  const offsets: number[] = [];
  return {
    registry: 'reg.test:5000',
    offsets,
    open: async (offset) => {
      offsets.push(offset);
      const answer = answers[Math.min(offsets.length - 1, answers.length - 1)]!(offset);
      return answerOf(answer.body, answer.status, answer.headers);
    },
  };
}
const full = (data: Buffer, after: 'end' | 'reset' | 'stall' = 'end'): Answer => () => ({ status: 200, headers: { 'content-length': String(data.length) }, body: body(data, after) });
const firstBytes = (n: number, after: 'reset' | 'end' = 'reset'): Answer => () => ({ status: 200, body: body(DATA.subarray(0, n), after) });
const ranged = (data: Buffer, cut?: number): Answer => (offset) => ({
  status: 206,
  headers: { 'content-range': `bytes ${offset}-${data.length - 1}/${data.length}` },
  body: cut === undefined ? body(data.subarray(offset)) : body(data.subarray(offset, offset + cut), 'reset'),
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
function failure(stream: Readable): Promise<Error> {
  return new Promise((resolve, reject) => {
    stream.on('data', () => {});
    stream.on('end', () => reject(new Error('ended with wrong data')));
    stream.on('error', resolve);
  });
}

describe('VerifiedBlobStream', () => {
  it('passes the bytes through, counting them, and ends when size and digest match', async () => {
    let counted = 0;
    const src = source([full(DATA)]);
    expect((await readAll(new VerifiedBlobStream(src, descriptor(DATA), { onBytes: (n) => (counted += n) }))).equals(DATA)).toBe(true);
    expect(counted).toBe(DATA.length);
    expect(src.offsets).toEqual([0]);
    expect((await readAll(new VerifiedBlobStream(source([full(DATA)]), descriptor(DATA, 'sha512')))).equals(DATA)).toBe(true);
  });

  it('fails instead of ending on a wrong digest, naming blob and registry', async () => {
    const wrong = Buffer.from(DATA);
    wrong[1000] ^= 1;
    const d = descriptor(DATA);
    const err = await failure(new VerifiedBlobStream(source([full(wrong)]), d));
    expect(err).toBeInstanceOf(SkiffError);
    expect(err.message).toBe(`blob ${d.digest} from reg.test:5000 does not match its digest: the registry served wrong data`);
  });

  it('fails as soon as a body is larger than the descriptor says, or announces another length', async () => {
    const d = descriptor(DATA);
    const bigger = Buffer.concat([DATA, Buffer.from('x')]);
    const err = await failure(new VerifiedBlobStream(source([() => ({ status: 200, body: body(bigger) })]), d));
    expect(err.message).toBe(`blob ${d.digest} from reg.test:5000 is larger than the ${DATA.length} bytes its descriptor says: the registry served wrong data`);
    const announced = await failure(new VerifiedBlobStream(source([full(bigger)]), d));
    expect(announced.message).toBe(`blob ${d.digest} from reg.test:5000 is ${bigger.length} bytes, but its descriptor says ${DATA.length}: the registry served wrong data`);
  });

  it('resumes a reset connection with a Range request and checks the answer', async () => {
    const src = source([firstBytes(100_000), ranged(DATA, 50_000), ranged(DATA)]);
    expect((await readAll(new VerifiedBlobStream(src, descriptor(DATA)))).equals(DATA)).toBe(true);
    expect(src.offsets[0]).toBe(0);
    expect(src.offsets.slice(1).every((o) => o > 0 && o <= 150_000)).toBe(true);
    expect(src.offsets).toHaveLength(3);
  });

  it('resumes when a body just ends early', async () => {
    const src = source([firstBytes(70_000, 'end'), ranged(DATA)]);
    expect((await readAll(new VerifiedBlobStream(src, descriptor(DATA)))).equals(DATA)).toBe(true);
    expect(src.offsets).toEqual([0, 70_000]);
  });

  it('drops what it already has when a Range request is answered with the whole blob', async () => {
    let counted = 0;
    const src = source([firstBytes(100_000), full(DATA)]);
    const out = await readAll(new VerifiedBlobStream(src, descriptor(DATA), { onBytes: (n) => (counted += n) }));
    expect(out.equals(DATA)).toBe(true);
    expect(counted).toBe(DATA.length);
    // And if that second answer differs in the part already received, the digest still catches it.
    const changed = Buffer.from(DATA);
    changed[10] ^= 1;
    const mixed = source([() => ({ status: 200, body: body(changed.subarray(0, 100_000), 'reset') }), full(DATA)]);
    const err = await failure(new VerifiedBlobStream(mixed, descriptor(DATA)));
    expect(err.message).toMatch(/does not match its digest/);
  });

  it('refuses a 206 for another range', async () => {
    const d = descriptor(DATA);
    const src = source([firstBytes(100_000), () => ({ status: 206, headers: { 'content-range': `bytes 0-${DATA.length - 1}/${DATA.length}` }, body: body(DATA) })]);
    const err = await failure(new VerifiedBlobStream(src, d));
    expect(err.message).toMatch(new RegExp(`^blob ${d.digest} from reg.test:5000 answered a request for bytes \\d+- with the range "bytes 0-${DATA.length - 1}/${DATA.length}"`));
  });

  it('gives up after five resumes without progress', async () => {
    const src = source([firstBytes(50_000), ranged(DATA, 0)]);
    const d = descriptor(DATA);
    const err = await failure(new VerifiedBlobStream(src, d));
    expect(err.message).toBe(
      `downloading blob ${d.digest} from reg.test:5000 failed after 5 resumed attempts (50000 of ${DATA.length} bytes): read ECONNRESET`,
    );
    // The first request, then five resumes.
    expect(src.offsets).toEqual([0, 50_000, 50_000, 50_000, 50_000, 50_000]);
  }, 15_000);

  it('treats a flowing body that goes silent as cut, but not one paused by a slow reader', async () => {
    const stalled = source([() => ({ status: 200, body: body(DATA.subarray(0, 100_000), 'stall') }), ranged(DATA)]);
    expect((await readAll(new VerifiedBlobStream(stalled, descriptor(DATA), { idleTimeoutMs: 100 }))).equals(DATA)).toBe(true);
    expect(stalled.offsets).toHaveLength(2);

    const big = Buffer.concat(Array.from({ length: 12 }, () => DATA));
    const slow = source([full(big)]);
    const stream = new VerifiedBlobStream(slow, descriptor(big), { idleTimeoutMs: 100 });
    const chunks: Buffer[] = [];
    for await (const c of stream) {
      if (chunks.length === 0) await new Promise((r) => setTimeout(r, 400));
      chunks.push(c as Buffer);
    }
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
    expect(slow.offsets).toEqual([0]);
  });

  it('uses an answer opened by the caller, and releases it when destroyed unread', async () => {
    const src = source([full(DATA)]);
    const first = answerOf(body(DATA), 200);
    expect((await readAll(new VerifiedBlobStream(src, descriptor(DATA), { first }))).equals(DATA)).toBe(true);
    expect(src.offsets).toEqual([]);
    const unread = body(DATA);
    const stream = new VerifiedBlobStream(src, descriptor(DATA), { first: answerOf(unread, 200) });
    stream.destroy();
    await new Promise((r) => setImmediate(r));
    expect(unread.destroyed).toBe(true);
  });

  it('a failure to open is the error of the stream', async () => {
    const src: BlobSource = { registry: 'r', open: async () => Promise.reject(new SkiffError('blob x of image y not found in registry r')) };
    expect((await failure(new VerifiedBlobStream(src, descriptor(DATA)))).message).toBe('blob x of image y not found in registry r');
  });
});
