// Reading a tar stream, 512-byte blocks at a time, with Go's archive/tar
// semantics wherever the formats leave room for two readings (see unpack.ts for
// why not node-tar's Parser). Yields entries to an EntrySink; writes nothing.
import { SkiffError } from '../errors.js';
export const BLOCK = 512;
/** Go's archive/tar limit for PAX and GNU long-name bodies. */
export const MAX_META_SIZE = 1 << 20;
/** PATH_MAX: longer names fail in every syscall anyway. */
export const MAX_NAME = 4095;
export const MAX_ID = 0xfffffffe;
/** XATTR_NAME_MAX and XATTR_SIZE_MAX: nothing larger can be set on Linux. */
export const MAX_XATTR_NAME = 255;
export const MAX_XATTR_VALUE = 65536;
/** Xattrs are held in memory until the caller applies them. */
export const MAX_XATTR_TOTAL = 64 << 20;
export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';

export const NON_ASCII = /[^\x00-\x7f]/;

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** One tar member after PAX and GNU overrides. Names are latin1 strings: one char per byte, exact. */
export interface TarEntry {
  name: string;
  linkname: string;
  type: EntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  atime: number | undefined;
  devmajor: number;
  devminor: number;
  xattrs: Array<[string, Buffer]>;
}

export interface EntrySink {
  entry(e: TarEntry): void;
  data(chunk: Buffer, start: number, end: number): void;
  fileEnd(): void;
}

export function notTar(detail: string): SkiffError {
  return new SkiffError(`layer is not a valid tar archive: ${detail}`);
}

/** A latin1 (byte-exact) name as one line of readable text. */
export function show(name: string): string {
  return JSON.stringify(Buffer.from(name, 'latin1').toString('utf8'));
}

// ---------------------------------------------------------------------------
// The tar reader: 512-byte blocks in, TarEntry and file data out.

export interface Header {
  name: string;
  linkname: string;
  typeflag: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  atime: number | undefined;
  devmajor: number;
  devminor: number;
}

/** Go's parseNumeric: base-256 when the high bit is set, else octal padded with spaces or NULs. */
export function parseNumeric(b: Buffer, off: number, len: number, field: string): number {
  if (b[off]! & 0x80) {
    const neg = (b[off]! & 0x40) !== 0;
    let x = 0;
    for (let i = 0; i < len; i++) {
      let c = b[off + i]!;
      if (neg) c ^= 0xff;
      if (i === 0) c &= 0x7f;
      x = x * 256 + c;
      if (x > Number.MAX_SAFE_INTEGER) throw notTar(`the ${field} field is out of range`);
    }
    return neg ? -x - 1 : x;
  }
  let start = off;
  let end = off + len;
  while (start < end && (b[start] === 0x20 || b[start] === 0)) start++;
  while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0)) end--;
  if (start === end) return 0;
  const nul = b.indexOf(0, start);
  if (nul >= 0 && nul < end) end = nul;
  const s = b.toString('latin1', start, end);
  if (!/^[0-7]+$/.test(s)) throw notTar(`the ${field} field is not an octal number`);
  return parseInt(s, 8);
}

/** The error for a layer handed over still compressed, if it is. */
export function compressed(b: Buffer): SkiffError | undefined {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return notTar('it is gzip-compressed (decompress it first)');
  if (b.length >= 4 && b.readUInt32BE(0) === 0x28b52ffd) return notTar('it is zstd-compressed (decompress it first)');
  return undefined;
}

export function cString(b: Buffer, off: number, len: number): string {
  const nul = b.indexOf(0, off);
  return b.toString('latin1', off, nul >= 0 && nul < off + len ? nul : off + len);
}

export function decodeHeader(b: Buffer): Header {
  const stored = parseNumeric(b, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += c;
    signed += (c << 24) >> 24;
  }
  if (stored !== unsigned && stored !== signed) {
    throw compressed(b) ?? notTar('a header checksum does not match');
  }
  const h: Header = {
    name: cString(b, 0, 100),
    linkname: cString(b, 157, 100),
    typeflag: String.fromCharCode(b[156]!),
    size: parseNumeric(b, 124, 12, 'size'),
    mode: parseNumeric(b, 100, 8, 'mode') & 0o7777,
    uid: parseNumeric(b, 108, 8, 'uid'),
    gid: parseNumeric(b, 116, 8, 'gid'),
    mtime: parseNumeric(b, 136, 12, 'mtime'),
    atime: undefined,
    devmajor: 0,
    devminor: 0,
  };
  const magic = b.toString('latin1', 257, 263);
  const gnu = magic === 'ustar ' && b.toString('latin1', 263, 265) === ' \0';
  if (magic === 'ustar\0' || gnu) {
    h.devmajor = parseNumeric(b, 329, 8, 'devmajor');
    h.devminor = parseNumeric(b, 337, 8, 'devminor');
    let prefix = '';
    if (gnu) {
      if (b[345] !== 0) h.atime = parseNumeric(b, 345, 12, 'atime');
    } else if (b.toString('latin1', 508, 512) === 'tar\0') {
      prefix = cString(b, 345, 131); // star: atime and ctime follow the prefix
      h.atime = parseNumeric(b, 476, 12, 'atime');
    } else {
      prefix = cString(b, 345, 155);
    }
    if (prefix !== '') h.name = `${prefix}/${h.name}`;
  }
  return h;
}

/** PAX extended header records, parsed by their length like Go's parsePAXRecord. Keys and values are bytes. */
export function parsePaxRecords(body: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    const sp = body.indexOf(0x20, pos);
    const lenText = sp < 0 ? '' : body.toString('latin1', pos, sp);
    const len = /^\d{1,8}$/.test(lenText) ? Number(lenText) : -1;
    const end = pos + len;
    if (len < 5 || end > body.length || end <= sp + 1 || body[end - 1] !== 0x0a) {
      throw notTar('a PAX extended header is malformed');
    }
    const rec = body.subarray(sp + 1, end - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw notTar('a PAX extended header is malformed');
    const key = rec.toString('latin1', 0, eq);
    const value = rec.subarray(eq + 1);
    if (key.includes('\0')) throw notTar('a PAX extended header is malformed');
    records.set(key, value);
    pos = end;
  }
  return records;
}

export function paxInteger(key: string, v: Buffer): number {
  const s = v.toString('latin1');
  if (!/^[+-]?\d{1,16}$/.test(s)) throw notTar(`the PAX ${key} record is not a number`);
  return Number(s);
}

export function paxTime(key: string, v: Buffer): number {
  const s = v.toString('latin1');
  if (!/^[+-]?\d{1,16}(\.\d*)?$/.test(s)) throw notTar(`the PAX ${key} record is not a time`);
  return Number(s.endsWith('.') ? s.slice(0, -1) : s);
}

export const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

export const TYPE_NAMES: Record<string, string> = {
  S: 'GNU sparse file',
  D: 'GNU dump directory',
  M: 'GNU multi-volume continuation',
  V: 'volume label',
  N: 'old GNU long name',
  X: 'Solaris extended header',
  A: 'Solaris ACL',
  I: 'inode metadata',
};

export const enum State {
  Header,
  Data,
  Meta,
  Skip,
  End,
}

/**
 * Push-based tar reader. PAX 'x' records and GNU 'L'/'K' names apply to the
 * next member (a second 'x' replaces the first, GNU names win over PAX, as in
 * Go); 'g' global headers are read and ignored, as Docker does.
 */
export class TarReader {
  private state = State.Header;
  private readonly block = Buffer.alloc(BLOCK);
  private blockFill = 0;
  private remaining = 0;
  private pad = 0;
  private metaType = '';
  private meta: Buffer = Buffer.alloc(0);
  private metaFill = 0;
  private pax: Map<string, Buffer> | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  private sawZeroBlock = false;
  private sawHeader = false;
  private dataEntry = false;
  private current = '';

  /**
   * `raw` (optional) gets every byte of the stream that is not a regular
   * file's content (headers, PAX and GNU records, padding, the end blocks and
   * anything after them), in order, interleaved with the sink's calls: with
   * the file contents, exactly the stream (see tar-split.ts).
   */
  constructor(
    private readonly sink: EntrySink,
    private readonly raw?: (chunk: Buffer, start: number, end: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      switch (this.state) {
        case State.Header: {
          let b: Buffer;
          if (this.blockFill === 0 && n - off >= BLOCK) {
            b = chunk.subarray(off, off + BLOCK);
            off += BLOCK;
          } else {
            const take = Math.min(BLOCK - this.blockFill, n - off);
            chunk.copy(this.block, this.blockFill, off, off + take);
            this.blockFill += take;
            off += take;
            if (this.blockFill < BLOCK) return;
            this.blockFill = 0;
            b = this.block;
          }
          this.raw?.(b, 0, BLOCK);
          this.header(b);
          break;
        }
        case State.Data: {
          const take = Math.min(this.remaining, n - off);
          this.sink.data(chunk, off, off + take);
          this.remaining -= take;
          off += take;
          if (this.remaining === 0) this.endData();
          break;
        }
        case State.Meta: {
          const take = Math.min(this.meta.length - this.metaFill, n - off);
          this.raw?.(chunk, off, off + take);
          chunk.copy(this.meta, this.metaFill, off, off + take);
          this.metaFill += take;
          off += take;
          if (this.metaFill === this.meta.length) {
            this.endMeta();
            this.skip(this.pad);
          }
          break;
        }
        case State.Skip: {
          const take = Math.min(this.remaining, n - off);
          this.raw?.(chunk, off, off + take);
          this.remaining -= take;
          off += take;
          if (this.remaining === 0) this.state = State.Header;
          break;
        }
        case State.End:
          // Everything after the end-of-archive blocks is read and discarded,
          // so that a digest taken over the stream covers all of it.
          this.raw?.(chunk, off, n);
          return;
      }
    }
  }

  /** The input has ended. */
  finish(): void {
    if (this.state === State.End) return;
    if (this.state === State.Header && this.blockFill === 0) {
      // Go's archive/tar takes a clean end at a header boundary as the end of
      // the archive, with or without the two zero blocks; so do we.
      return;
    }
    if (!this.sawHeader) {
      const err = compressed(this.block.subarray(0, this.blockFill));
      if (err) throw err;
    }
    const where = this.sawHeader ? ` in ${show(this.current)}` : '';
    throw notTar(`unexpected end of data${where} (the archive is truncated)`);
  }

  private skip(bytes: number): void {
    this.remaining = bytes;
    this.state = bytes > 0 ? State.Skip : State.Header;
  }

  private endData(): void {
    if (this.dataEntry) {
      this.dataEntry = false;
      this.sink.fileEnd();
    }
    this.skip(this.pad);
  }

  private header(b: Buffer): void {
    if (isZeroBlock(b)) {
      if (this.sawZeroBlock) this.state = State.End;
      this.sawZeroBlock = true;
      return;
    }
    if (this.sawZeroBlock) throw notTar('a header follows a lone end-of-archive block');
    const h = decodeHeader(b);
    this.sawHeader = true;
    this.current = h.name;
    if (h.size < 0) throw notTar(`${show(h.name)} has a negative size`);
    const t = h.typeflag;
    if (t === 'x' || t === 'g' || t === 'L' || t === 'K') {
      if (h.size > MAX_META_SIZE) throw notTar(`a ${t === 'x' || t === 'g' ? 'PAX' : 'GNU long name'} header is larger than 1 MiB`);
      this.metaType = t;
      this.meta = Buffer.alloc(h.size);
      this.metaFill = 0;
      this.pad = padding(h.size);
      if (h.size === 0) {
        this.endMeta();
        this.skip(0);
      } else {
        this.state = State.Meta;
      }
      return;
    }
    this.entry(h);
  }

  private endMeta(): void {
    const body = this.meta;
    this.meta = Buffer.alloc(0);
    switch (this.metaType) {
      case 'x':
        this.pax = parsePaxRecords(body);
        break;
      case 'g':
        // Go returns a global header as a member of its own and forgets what
        // was pending; Docker then ignores that member.
        parsePaxRecords(body);
        this.pax = undefined;
        this.longName = undefined;
        this.longLink = undefined;
        break;
      case 'L':
        this.longName = cString(body, 0, body.length);
        break;
      case 'K':
        this.longLink = cString(body, 0, body.length);
        break;
    }
  }

  private entry(h: Header): void {
    const xattrs: Array<[string, Buffer]> = [];
    const pax = this.pax;
    this.pax = undefined;
    if (pax) {
      for (const [key, v] of pax) {
        if (key.startsWith('GNU.sparse.')) throw notTar(`${show(h.name)} is a sparse file, which skiff does not support`);
        if (key.startsWith('SCHILY.xattr.')) {
          xattrs.push([key.slice('SCHILY.xattr.'.length), v]);
          continue;
        }
        if (v.length === 0) continue; // an empty value keeps the header's value
        switch (key) {
          case 'path':
            if (v.includes(0)) throw notTar('a PAX path contains a NUL byte');
            h.name = v.toString('latin1');
            break;
          case 'linkpath':
            if (v.includes(0)) throw notTar('a PAX linkpath contains a NUL byte');
            h.linkname = v.toString('latin1');
            break;
          case 'size':
            h.size = paxInteger(key, v);
            break;
          case 'uid':
            h.uid = paxInteger(key, v);
            break;
          case 'gid':
            h.gid = paxInteger(key, v);
            break;
          case 'mtime':
            h.mtime = paxTime(key, v);
            break;
          case 'atime':
            h.atime = paxTime(key, v);
            break;
        }
      }
    }
    if (this.longName !== undefined) h.name = this.longName;
    if (this.longLink !== undefined) h.linkname = this.longLink;
    this.longName = undefined;
    this.longLink = undefined;
    this.current = h.name;

    let type = TYPES[h.typeflag];
    if (type === undefined) {
      const what = TYPE_NAMES[h.typeflag] ?? `type ${JSON.stringify(h.typeflag)}`;
      throw new SkiffError(`layer entry ${show(h.name)} is a ${what}, which skiff does not support`);
    }
    if (h.typeflag === '\0' && h.name.endsWith('/')) type = 'dir'; // pre-POSIX directories
    if (h.size < 0) throw notTar(`${show(h.name)} has a negative size`);
    if (type === 'dir') {
      h.size = 0; // directories have no data; some writers record a size anyway
    } else if (type !== 'file' && h.size !== 0) {
      // POSIX stores no data for links, devices and FIFOs; Go reads none, other
      // readers skip `size` bytes. Either reading of such a member is a lie.
      throw notTar(`${show(h.name)} is a ${type} with ${h.size} bytes of data`);
    }
    if (h.name === '') throw notTar('an entry has an empty name');
    if (h.name.length > MAX_NAME || h.linkname.length > MAX_NAME) throw notTar(`a name is longer than ${MAX_NAME} bytes`);

    this.sink.entry({
      name: h.name,
      linkname: h.linkname,
      type,
      size: h.size,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      mtime: h.mtime,
      atime: h.atime,
      devmajor: h.devmajor,
      devminor: h.devminor,
      xattrs,
    });
    this.pad = padding(h.size);
    if (type === 'file') {
      this.dataEntry = true;
      this.remaining = h.size;
      this.state = State.Data;
      if (h.size === 0) this.endData();
    } else {
      this.skip(0);
    }
  }
}

export const ZERO_BLOCK = Buffer.alloc(BLOCK);

export function isZeroBlock(b: Buffer): boolean {
  return b[0] === 0 && b.equals(ZERO_BLOCK);
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
