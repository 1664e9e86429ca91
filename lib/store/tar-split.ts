// A layer's exact tar, kept as its unpacked files plus everything else
// (headers, PAX records, padding, the end blocks, any bytes after them): the
// "tar-split" of Docker and containers/storage. An image's config names each
// layer by the sha256 of its uncompressed tar (the diffID), so `save` and
// `push` must give back those very bytes, not a new tar of the same files:
// otherwise the config, and with it the image id, would change.
//
// Recorded while unpacking (unpack.ts hands every byte it does not write to a
// file to raw(), and each file it writes to file()), stored gzipped beside the
// layer (layers/<diffID>/tar-split.gz), read back by layer-read.ts, which
// checks the reassembled stream against the diffID.
//
// Format (after gunzip): the magic line, then records until the end:
//   'R' u32be LENGTH BYTES         bytes of the stream as they were
//   'F' u64be SIZE u32be N PATH    SIZE bytes of content, read from the layer's
//                                  file PATH (N bytes, relative to diff/)
import { gunzipSync } from 'node:zlib';
import { SkiffError } from '../errors.js';

export const TAR_SPLIT_FILE = 'tar-split.gz';
const MAGIC = Buffer.from('skiff-tar-split 1\n');

export type TarSplitRecord = { kind: 'raw'; bytes: Buffer } | { kind: 'file'; path: Buffer; size: number };

/** Collects a stream's records while it is unpacked; finish() encodes them. */
export class TarSplitRecorder {
  private readonly records: TarSplitRecord[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The index of the latest 'file' record of each path (latin1 key), for inline(). */
  private readonly lastFile = new Map<string, number>();

  /** Bytes of the stream that are not file content (copied: the caller may reuse its buffer). */
  raw(chunk: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.pending.push(Buffer.from(chunk.subarray(start, end)));
    this.pendingBytes += end - start;
  }

  /** SIZE bytes of content that the unpacker writes to `rel` (latin1, relative to the layer root). */
  file(rel: string, size: number): void {
    this.flushRaw();
    this.lastFile.set(rel, this.records.length);
    this.records.push({ kind: 'file', path: Buffer.from(rel, 'latin1'), size });
  }

  /**
   * The file at `rel` is about to be replaced by a later member of the same
   * stream: its content, read now by `read`, becomes part of the record, so the
   * tar can still be given back whole.
   */
  inline(rel: string, read: () => Buffer): void {
    const i = this.lastFile.get(rel);
    if (i === undefined) return;
    this.lastFile.delete(rel);
    const rec = this.records[i]!;
    if (rec.kind !== 'file') return;
    const bytes = read();
    if (bytes.length !== rec.size) throw new SkiffError(`internal: ${JSON.stringify(rel)} changed size while the layer was unpacked`);
    this.records[i] = { kind: 'raw', bytes };
  }

  private flushRaw(): void {
    if (this.pendingBytes === 0) return;
    this.records.push({ kind: 'raw', bytes: this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes) });
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The encoded records (not yet compressed). */
  finish(): Buffer {
    this.flushRaw();
    const parts: Buffer[] = [MAGIC];
    for (const r of this.records) {
      if (r.kind === 'raw') {
        // A raw record holds at most 4 GiB - 1; larger runs (an inlined huge file) are split.
        for (let off = 0; off < r.bytes.length; off += 0xffffffff) {
          const piece = r.bytes.subarray(off, off + 0xffffffff);
          const head = Buffer.alloc(5);
          head.write('R', 0, 'latin1');
          head.writeUInt32BE(piece.length, 1);
          parts.push(head, piece);
        }
      } else {
        const head = Buffer.alloc(13);
        head.write('F', 0, 'latin1');
        head.writeBigUInt64BE(BigInt(r.size), 1);
        head.writeUInt32BE(r.path.length, 9);
        parts.push(head, r.path);
      }
    }
    return Buffer.concat(parts);
  }
}

function damaged(where: string): SkiffError {
  return new SkiffError(`the layer record ${where} is damaged: remove the image and pull or load it again`);
}

/** Decodes a tar-split file (gzipped) into its records. `where` names it in errors. */
export function decodeTarSplit(gz: Buffer, where: string): TarSplitRecord[] {
  let data: Buffer;
  try {
    data = gunzipSync(gz);
  } catch {
    throw damaged(where);
  }
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw damaged(where);
  const out: TarSplitRecord[] = [];
  let pos = MAGIC.length;
  while (pos < data.length) {
    const kind = data[pos];
    if (kind === 0x52 /* R */ && pos + 5 <= data.length) {
      const len = data.readUInt32BE(pos + 1);
      if (pos + 5 + len > data.length) throw damaged(where);
      out.push({ kind: 'raw', bytes: data.subarray(pos + 5, pos + 5 + len) });
      pos += 5 + len;
    } else if (kind === 0x46 /* F */ && pos + 13 <= data.length) {
      const size = Number(data.readBigUInt64BE(pos + 1));
      const n = data.readUInt32BE(pos + 9);
      if (pos + 13 + n > data.length || n === 0 || !Number.isSafeInteger(size)) throw damaged(where);
      out.push({ kind: 'file', size, path: data.subarray(pos + 13, pos + 13 + n) });
      pos += 13 + n;
    } else {
      throw damaged(where);
    }
  }
  return out;
}
