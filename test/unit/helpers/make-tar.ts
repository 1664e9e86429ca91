// Tar archives written byte by byte, for tests: tar-creating libraries refuse
// to write the malicious and malformed archives the extractor must refuse.
import { Readable } from 'node:stream';

export interface TarMember {
  /** The name as stored (no normalisation): '../x', '/abs', 'dir/'. */
  name: string | Buffer;
  /** Typeflag: '0' file (default; '5' when the name ends in '/'), '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo, 'x', 'g', 'L', 'K', ... */
  type?: string;
  data?: string | Buffer;
  /** The size field, when it must differ from the data's length. */
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  linkname?: string | Buffer;
  devmajor?: number;
  devminor?: number;
  /** The ustar prefix field (joined to the name with '/'). */
  prefix?: string;
  /** PAX records, written as an 'x' member just before this one. */
  pax?: Record<string, string | Buffer>;
  /** 'ustar' (default), 'gnu' ("ustar  \0") or 'v7' (no magic). */
  format?: 'ustar' | 'gnu' | 'v7';
  /** Store this checksum instead of the right one. */
  checksum?: number;
}

const BLOCK = 512;

function writeString(b: Buffer, off: number, len: number, v: string | Buffer): void {
  const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  if (bytes.length > len) throw new Error(`tar field too long: ${bytes.length} > ${len}`);
  bytes.copy(b, off);
}

function writeOctal(b: Buffer, off: number, len: number, v: number): void {
  const text = v.toString(8).padStart(len - 1, '0');
  if (text.length > len - 1) throw new Error(`tar number too large: ${v}`);
  b.write(`${text}\0`, off, len, 'latin1');
}

/** One 512-byte header block. */
export function tarHeader(m: TarMember): Buffer {
  const b = Buffer.alloc(BLOCK);
  const data = m.data === undefined ? Buffer.alloc(0) : Buffer.from(m.data);
  const nameText = typeof m.name === 'string' ? m.name : m.name.toString('latin1');
  const type = m.type ?? (nameText.endsWith('/') ? '5' : '0');
  writeString(b, 0, 100, m.name);
  writeOctal(b, 100, 8, m.mode ?? (type === '5' ? 0o755 : 0o644));
  writeOctal(b, 108, 8, m.uid ?? 0);
  writeOctal(b, 116, 8, m.gid ?? 0);
  writeOctal(b, 124, 12, m.size ?? data.length);
  writeOctal(b, 136, 12, m.mtime ?? 1_600_000_000);
  b.write(type, 156, 1, 'latin1');
  if (m.linkname !== undefined) writeString(b, 157, 100, m.linkname);
  const format = m.format ?? 'ustar';
  if (format !== 'v7') {
    b.write(format === 'gnu' ? 'ustar  \0' : 'ustar\x0000', 257, 8, 'latin1');
    writeString(b, 265, 32, 'root');
    writeString(b, 297, 32, 'root');
    writeOctal(b, 329, 8, m.devmajor ?? 0);
    writeOctal(b, 337, 8, m.devminor ?? 0);
    if (m.prefix !== undefined) writeString(b, 345, 155, m.prefix);
  }
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  b.write(`${(m.checksum ?? sum).toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

/** One PAX record, "<len> <key>=<value>\n", where len counts itself. */
export function paxRecord(key: string, value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), Buffer.from(value), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

export function paxBody(records: Record<string, string | Buffer>): Buffer {
  return Buffer.concat(Object.entries(records).map(([k, v]) => paxRecord(k, v)));
}

function pad(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}

/** The blocks of one member (its PAX header first, when it has records). */
export function tarMember(m: TarMember): Buffer {
  const parts: Buffer[] = [];
  if (m.pax) {
    const body = paxBody(m.pax);
    parts.push(tarHeader({ name: 'PaxHeaders/x', type: 'x', data: body }), pad(body));
  }
  const data = m.data === undefined ? Buffer.alloc(0) : Buffer.from(m.data);
  parts.push(tarHeader(m), pad(data));
  return Buffer.concat(parts);
}

/** A whole archive: the members, then the two zero blocks unless `end` is false, then `trailer`. */
export function makeTar(members: TarMember[], opts: { end?: boolean; trailer?: Buffer } = {}): Buffer {
  const parts = members.map(tarMember);
  if (opts.end !== false) parts.push(Buffer.alloc(2 * BLOCK));
  if (opts.trailer) parts.push(opts.trailer);
  return Buffer.concat(parts);
}

/** A stream of `data` cut into chunks of the given sizes (the last size repeats). */
export function chunked(data: Buffer, sizes: number[] = [65536]): Readable {
  const chunks: Buffer[] = [];
  let off = 0;
  let i = 0;
  while (off < data.length) {
    const n = sizes[Math.min(i++, sizes.length - 1)]!;
    chunks.push(data.subarray(off, off + n));
    off += n;
  }
  return Readable.from(chunks); // object mode: each chunk arrives exactly as cut
}
