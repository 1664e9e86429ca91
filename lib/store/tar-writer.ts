// A small tar writer for the archives `save` writes (docker-archive,
// oci-archive): directories, regular files from buffers or streams of known
// size, and symlinks, in ustar with PAX records for what ustar cannot hold.
// Deterministic: no user or group names, the times the caller gives.
import type { Readable, Writable } from 'node:stream';
import { SkiffError } from '../errors.js';

const BLOCK = 512;

export interface MemberOptions {
  mode?: number;
  /** Seconds since the epoch. */
  mtime?: number;
}

function octal(b: Buffer, off: number, len: number, value: number): void {
  b.write(`${value.toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return Buffer.from(`${len}${body}`);
}

function header(name: string, type: string, size: number, opts: MemberOptions, linkname = ''): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, opts.mode ?? (type === '5' ? 0o755 : 0o644));
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  octal(b, 124, 12, size);
  octal(b, 136, 12, Math.max(0, Math.floor(opts.mtime ?? 0)));
  b.write(type, 156, 1, 'latin1');
  b.write(linkname, 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 8, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

/** Writes members to `out`, respecting its backpressure. */
export class TarWriter {
  constructor(private readonly out: Writable) {}

  private write(chunk: Buffer): Promise<void> {
    if (this.out.write(chunk)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.out.off('error', onError);
        resolve();
      };
      const onError = (err: Error) => {
        this.out.off('drain', onDrain);
        reject(err);
      };
      this.out.once('drain', onDrain);
      this.out.once('error', onError);
    });
  }

  /** The header(s) of a member: a PAX record first when the name or size does not fit ustar. */
  private async head(name: string, type: string, size: number, opts: MemberOptions, linkname = ''): Promise<void> {
    const records: Buffer[] = [];
    if (Buffer.byteLength(name) > 100) records.push(paxRecord('path', name));
    if (Buffer.byteLength(linkname) > 100) records.push(paxRecord('linkpath', linkname));
    if (size > 0o77777777777) records.push(paxRecord('size', String(size)));
    if (records.length > 0) {
      const body = Buffer.concat(records);
      await this.write(header('././@PaxHeader', 'x', body.length, {}));
      await this.write(body);
      await this.pad(body.length);
    }
    await this.write(header(name, type, size > 0o77777777777 ? 0 : size, opts, linkname));
  }

  private async pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest !== 0) await this.write(Buffer.alloc(BLOCK - rest));
  }

  async directory(name: string, opts: MemberOptions = {}): Promise<void> {
    await this.head(name.endsWith('/') ? name : `${name}/`, '5', 0, opts);
  }

  async file(name: string, data: Buffer, opts: MemberOptions = {}): Promise<void> {
    await this.head(name, '0', data.length, opts);
    await this.write(data);
    await this.pad(data.length);
  }

  async symlink(name: string, target: string, opts: MemberOptions = {}): Promise<void> {
    await this.head(name, '2', 0, { mode: 0o777, ...opts }, target);
  }

  /** A file whose content is `source`, exactly `size` bytes (else a SkiffError). */
  async stream(name: string, size: number, source: Readable, opts: MemberOptions = {}): Promise<void> {
    await this.head(name, '0', size, opts);
    let written = 0;
    for await (const chunk of source) {
      const c = chunk as Buffer;
      written += c.length;
      if (written > size) throw new SkiffError(`internal: ${name} is longer than the ${size} bytes announced`);
      await this.write(c);
    }
    if (written !== size) throw new SkiffError(`internal: ${name} is ${written} bytes, not the ${size} announced`);
    await this.pad(size);
  }

  /** The two zero blocks. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(2 * BLOCK));
  }
}
