// The layer extractor: one uncompressed layer tar stream into a new, empty
// directory, with synchronous fs calls (design.md decision 9) and the security
// rules of decision 3.
//
// Why the tar stream is read here and not by node-tar's Parser: the Parser
// (tar 7.5) decodes PAX and GNU long-name bodies per input chunk as UTF-8, so a
// PAX path whose multi-byte character straddles two chunks fails its length
// check and the entry silently gets its short ustar name; it splits PAX records
// on '\n' instead of by their length, so an xattr value containing
// "\n13 path=evil" renames the entry for node-tar but not for Go's archive/tar
// (what Docker, containerd and registries' scanners read); it drops
// SCHILY.xattr.* records and cannot carry binary values (security.capability);
// and it keeps every byte after the end-of-archive blocks in memory. Reading
// 512-byte blocks is small, so this module does it, with Go's archive/tar
// semantics wherever the formats leave room for two readings.
//
// Security model: the target is a new, empty directory, so the only things a
// write can meet are entries this same stream created. Every path's kind is
// tracked in a Map; a path climbing above the root, a parent that is not a
// directory this stream created (a symlink, a file, a device), a hard link to
// anything but a regular file already in the layer, and a directory replaced by
// a non-directory are refused. Files are opened O_CREAT|O_EXCL|O_NOFOLLOW,
// directories are finished through O_DIRECTORY|O_NOFOLLOW descriptors, and no
// call ever resolves a symlink in the layer.
//
// Node has no mknod, mkfifo or setxattr, so whiteouts, opaque directories,
// device nodes, FIFOs and xattrs are returned in UnpackStats for the caller to
// materialise (see UnpackStats).
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { SkiffError, errnoCode } from '../errors.js';

export interface UnpackOptions {
  /**
   * Set each entry's uid/gid from its header. Only meaningful inside a user
   * namespace carrying the image's id mapping; when false, everything is owned
   * by the calling process.
   */
  chown?: boolean;
}

/** An extended attribute from a PAX `SCHILY.xattr.<name>` record. */
export interface LayerXattr {
  /** Relative to the layer root. */
  path: string;
  name: string;
  value: Buffer;
}

/** A device node or FIFO of the layer, recorded instead of created. */
export interface LayerDevice {
  /** Relative to the layer root. */
  path: string;
  type: 'char' | 'block' | 'fifo';
  major: number;
  minor: number;
  /** Permission bits, 0o7777 at most. */
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

/**
 * What unpackLayer did, and what it left for the caller to do before the
 * layer is renamed into place. Paths are relative to the layer root ('.' is
 * the root itself), each already checked: its parent is a real directory of
 * this layer, and the path itself does not exist on disk (whiteouts, devices)
 * or is what the entry made (xattrs). The caller materialises them in the
 * layer's user namespace (directories may be read-only by now: namespace root
 * writes through that), never following a symlink:
 *  - whiteouts: a 0/0 character device at each path (mknod S_IFCHR, dev 0);
 *  - opaqueDirs: xattr user.overlay.opaque=y on each directory ('.' when the
 *    layer marks its root opaque, which overlayfs may not honour on a root);
 *  - devices: mknod (S_IFCHR, S_IFBLK) or mkfifo with the mode, then lchown
 *    (with chown), then the mtime; a hard link to a device is recorded as a
 *    second device;
 *  - xattrs: lsetxattr each, after the devices exist (every path is there then).
 * Creating a node changes its parent directory's mtime: restore it afterwards.
 */
export interface UnpackStats {
  /** Tar members read (files, directories, links, devices, whiteouts; not PAX or GNU meta headers). */
  entries: number;
  /** File content bytes written. */
  bytes: number;
  whiteouts: string[];
  opaqueDirs: string[];
  devices: LayerDevice[];
  xattrs: LayerXattr[];
}

const BLOCK = 512;
/** Go's archive/tar limit for PAX and GNU long-name bodies. */
const MAX_META_SIZE = 1 << 20;
/** PATH_MAX: longer names fail in every syscall anyway. */
const MAX_NAME = 4095;
const MAX_ID = 0xfffffffe;
/** XATTR_NAME_MAX and XATTR_SIZE_MAX: nothing larger can be set on Linux. */
const MAX_XATTR_NAME = 255;
const MAX_XATTR_VALUE = 65536;
/** Xattrs are held in memory until the caller applies them. */
const MAX_XATTR_TOTAL = 64 << 20;
const WHITEOUT_PREFIX = '.wh.';
const WHITEOUT_META_PREFIX = '.wh..wh.';
const WHITEOUT_OPAQUE = '.wh..wh..opq';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = fs.constants;
const NON_ASCII = /[^\x00-\x7f]/;
const FILE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

type EntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** One tar member after PAX and GNU overrides. Names are latin1 strings: one char per byte, exact. */
interface TarEntry {
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

interface EntrySink {
  entry(e: TarEntry): void;
  data(chunk: Buffer, start: number, end: number): void;
  fileEnd(): void;
}

function notTar(detail: string): SkiffError {
  return new SkiffError(`layer is not a valid tar archive: ${detail}`);
}

/** A latin1 (byte-exact) name as one line of readable text. */
function show(name: string): string {
  return JSON.stringify(Buffer.from(name, 'latin1').toString('utf8'));
}

// ---------------------------------------------------------------------------
// The tar reader: 512-byte blocks in, TarEntry and file data out.

interface Header {
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
function parseNumeric(b: Buffer, off: number, len: number, field: string): number {
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
function compressed(b: Buffer): SkiffError | undefined {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return notTar('it is gzip-compressed (decompress it first)');
  if (b.length >= 4 && b.readUInt32BE(0) === 0x28b52ffd) return notTar('it is zstd-compressed (decompress it first)');
  return undefined;
}

function cString(b: Buffer, off: number, len: number): string {
  const nul = b.indexOf(0, off);
  return b.toString('latin1', off, nul >= 0 && nul < off + len ? nul : off + len);
}

function decodeHeader(b: Buffer): Header {
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
function parsePaxRecords(body: Buffer): Map<string, Buffer> {
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

function paxInteger(key: string, v: Buffer): number {
  const s = v.toString('latin1');
  if (!/^[+-]?\d{1,16}$/.test(s)) throw notTar(`the PAX ${key} record is not a number`);
  return Number(s);
}

function paxTime(key: string, v: Buffer): number {
  const s = v.toString('latin1');
  if (!/^[+-]?\d{1,16}(\.\d*)?$/.test(s)) throw notTar(`the PAX ${key} record is not a time`);
  return Number(s.endsWith('.') ? s.slice(0, -1) : s);
}

const TYPES: Record<string, EntryType> = {
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

const TYPE_NAMES: Record<string, string> = {
  S: 'GNU sparse file',
  D: 'GNU dump directory',
  M: 'GNU multi-volume continuation',
  V: 'volume label',
  N: 'old GNU long name',
  X: 'Solaris extended header',
  A: 'Solaris ACL',
  I: 'inode metadata',
};

const enum State {
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
class TarReader {
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

  constructor(private readonly sink: EntrySink) {}

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
          this.remaining -= take;
          off += take;
          if (this.remaining === 0) this.state = State.Header;
          break;
        }
        case State.End:
          // Everything after the end-of-archive blocks is read and discarded,
          // so that a digest taken over the stream covers all of it.
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

const ZERO_BLOCK = Buffer.alloc(BLOCK);

function isZeroBlock(b: Buffer): boolean {
  return b[0] === 0 && b.equals(ZERO_BLOCK);
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

// ---------------------------------------------------------------------------
// The layer writer: entries in, files on disk and records out.

type Kind = 'dir' | 'file' | 'symlink' | 'device';

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number | undefined;
  atime: number | undefined;
  /** Created by an entry of its own, not only as some entry's parent. */
  explicit: boolean;
}

function unsafe(name: string, reason: string): SkiffError {
  return new SkiffError(`unsafe layer entry ${show(name)}: ${reason}; the layer was not unpacked`);
}

class LayerWriter implements EntrySink {
  /** The target directory as a latin1 string of its UTF-8 bytes, to join with latin1 names. */
  private readonly root: string;
  /** Every path this stream put in the layer (relative, '' is the root), and what it is. */
  private readonly kinds = new Map<string, Kind>([['', 'dir']]);
  /** Directories in creation order (a parent always before its children). */
  private readonly dirs = new Map<string, DirMeta>();
  private readonly whiteouts = new Set<string>();
  private readonly opaque = new Set<string>();
  private readonly devices = new Map<string, LayerDevice>();
  private readonly xattrs = new Map<string, Map<string, Buffer>>();
  private entries = 0;
  private bytes = 0;
  private xattrBytes = 0;
  private fd = -1;
  private file: TarEntry | undefined;
  private filePath = '';
  private current = '';

  constructor(
    targetDir: string,
    private readonly chown: boolean,
    private readonly made: Creation,
  ) {
    this.root = Buffer.from(targetDir, 'utf8').toString('latin1');
    this.dirs.set('', { mode: 0o755, uid: 0, gid: 0, mtime: undefined, atime: undefined, explicit: false });
  }

  entry(e: TarEntry): void {
    this.entries++;
    this.current = e.name;
    try {
      this.place(e);
    } catch (err) {
      throw this.wrap(err);
    }
  }

  data(chunk: Buffer, start: number, end: number): void {
    if (this.fd < 0) return; // a skipped member's data
    try {
      let off = start;
      while (off < end) off += fs.writeSync(this.fd, chunk, off, end - off);
    } catch (err) {
      throw this.wrap(err);
    }
    this.bytes += end - start;
  }

  fileEnd(): void {
    const e = this.file;
    if (this.fd < 0 || !e) return;
    try {
      // Each fs call costs Node ~2 us over the syscall: make only the needed ones.
      const chown = this.needsChown(e);
      if (chown) this.setOwner(() => fs.fchownSync(this.fd, e.uid, e.gid), e);
      // After chown, which clears the set-id bits.
      if (chown || (e.mode & (0o7000 | this.made.mask)) !== 0) fs.fchmodSync(this.fd, e.mode);
      fs.futimesSync(this.fd, time(accessTime(e)), time(e.mtime));
    } catch (err) {
      throw this.wrap(err);
    } finally {
      this.closeFile();
    }
  }

  /** Sets directory owners, modes and times, deepest first: creating children changed the mtimes. */
  finish(): void {
    const order = [...this.dirs.entries()].reverse();
    for (const [rel, d] of order) {
      this.current = rel;
      let fd = -1;
      try {
        fd = fs.openSync(this.abs(rel), DIR_FLAGS);
        if (d.explicit && this.needsChown(d)) this.setOwner(() => fs.fchownSync(fd, d.uid, d.gid), { name: rel, uid: d.uid, gid: d.gid });
        fs.fchmodSync(fd, d.mode);
        if (d.mtime !== undefined) fs.futimesSync(fd, time(Math.max(d.atime ?? d.mtime, d.mtime)), time(d.mtime));
      } catch (err) {
        throw this.wrap(err);
      } finally {
        if (fd >= 0) fs.closeSync(fd);
      }
    }
  }

  abort(): void {
    this.closeFile();
  }

  stats(): UnpackStats {
    const xattrs: LayerXattr[] = [];
    for (const [rel, names] of this.xattrs) {
      for (const [name, value] of names) xattrs.push({ path: this.result(rel), name: this.result(name), value });
    }
    return {
      entries: this.entries,
      bytes: this.bytes,
      whiteouts: [...this.whiteouts].map((p) => this.result(p)),
      opaqueDirs: [...this.opaque].map((p) => this.result(p)),
      devices: [...this.devices.values()].map((d) => ({ ...d, path: this.result(d.path) })),
      xattrs,
    };
  }

  // -------------------------------------------------------------------------

  private place(e: TarEntry): void {
    const rel = this.clean(e.name, e.name);
    if (rel.startsWith(WHITEOUT_META_PREFIX) && rel !== WHITEOUT_OPAQUE) {
      // AUFS bookkeeping at the layer root (.wh..wh.plnk/, .wh..wh.aufs), as
      // old Docker layers carry it: Docker skips it too.
      return;
    }
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : rel.slice(0, slash);
    const base = rel.slice(slash + 1);

    if (base.startsWith(WHITEOUT_PREFIX)) {
      this.ensureDir(parent, e.name);
      if (base === WHITEOUT_OPAQUE) {
        this.opaque.add(parent);
        return;
      }
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      if (hidden === '' || hidden === '.' || hidden === '..' || hidden.startsWith(WHITEOUT_PREFIX)) {
        throw unsafe(e.name, 'it is not a valid whiteout name');
      }
      this.whiteout(parent === '' ? hidden : `${parent}/${hidden}`);
      return;
    }

    for (const [name] of e.xattrs) {
      if (name.startsWith('user.overlay.') || name.startsWith('trusted.overlay.')) {
        throw unsafe(e.name, `it carries the overlayfs attribute ${show(name)}, which only skiff may set`);
      }
    }

    if (rel === '') {
      if (e.type !== 'dir') throw unsafe(e.name, `a ${e.type} cannot replace the layer root`);
      this.setDirMeta(rel, e);
      this.addXattrs(rel, e.xattrs, true);
      return;
    }

    this.ensureDir(parent, e.name);
    const prev = this.kinds.get(rel);
    if (prev === 'dir') {
      if (e.type !== 'dir') throw unsafe(e.name, `a ${e.type} would replace the directory this layer created there`);
      this.setDirMeta(rel, e);
      this.addXattrs(rel, e.xattrs, true);
      return;
    }

    // A hard link is checked before anything at its own path is removed.
    let linkTarget = '';
    let linkKind: Kind | undefined;
    if (e.type === 'hardlink') {
      linkTarget = this.clean(e.linkname, e.name);
      linkKind = this.kinds.get(linkTarget);
      this.checkHardlink(e, rel, linkTarget, linkKind);
    }

    if (prev !== undefined) this.remove(rel, prev);
    const abs = this.abs(rel);

    switch (e.type) {
      case 'dir':
        fs.mkdirSync(abs, 0o700);
        this.claim(rel, 'dir');
        this.setDirMeta(rel, e);
        break;
      case 'file':
        // The fd is writable whatever the mode; the mode is exact unless creation masks it.
        this.fd = fs.openSync(abs, FILE_FLAGS, e.mode & 0o777);
        this.file = e;
        this.filePath = rel;
        this.claim(rel, 'file');
        break;
      case 'symlink': {
        if (e.linkname === '') throw notTar(`symlink ${show(e.name)} has no target`);
        fs.symlinkSync(Buffer.from(e.linkname, 'latin1'), abs);
        this.claim(rel, 'symlink');
        if (this.needsChown(e)) this.setOwner(() => fs.lchownSync(abs, e.uid, e.gid), e);
        fs.lutimesSync(abs, time(accessTime(e)), time(e.mtime));
        break;
      }
      case 'hardlink':
        if (linkKind === 'device') {
          const d = this.devices.get(linkTarget)!;
          this.devices.set(rel, { ...d, path: rel });
          this.claim(rel, 'device');
        } else {
          // Defence in depth: the map says regular file; the disk must agree.
          const st = fs.lstatSync(this.abs(linkTarget));
          if (!st.isFile()) throw unsafe(e.name, `its link target ${show(linkTarget)} is not a regular file on disk`);
          fs.linkSync(this.abs(linkTarget), abs);
          this.claim(rel, 'file');
        }
        break;
      case 'char':
      case 'block':
      case 'fifo':
        this.checkIds(e);
        this.devices.set(rel, {
          path: rel,
          type: e.type,
          major: e.devmajor,
          minor: e.devminor,
          mode: e.mode,
          uid: e.uid,
          gid: e.gid,
          mtime: new Date(e.mtime * 1000),
        });
        this.claim(rel, 'device');
        break;
    }
    this.addXattrs(rel, e.xattrs, false);
  }

  /** The entry's name made relative to the root; refuses anything that climbs above it. */
  private clean(name: string, entryName: string): string {
    if (name.includes('\0')) throw unsafe(entryName, 'its name contains a NUL byte');
    const out: string[] = [];
    // A leading '/' is dropped, as Docker does: absolute names are relative to the layer root.
    for (const part of name.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (out.length === 0) throw unsafe(entryName, `${show(name)} climbs out of the layer root`);
        out.pop();
      } else {
        out.push(part);
      }
    }
    return out.join('/');
  }

  /** Makes `dir` a directory of this layer: creates missing ancestors (0755), refuses anything else in the way. */
  private ensureDir(dir: string, entryName: string): void {
    if (this.kinds.get(dir) === 'dir') return; // its own ancestors were checked when it was made
    const missing: string[] = [];
    let p = dir;
    for (;;) {
      const kind = this.kinds.get(p);
      if (kind === 'dir') break;
      if (kind !== undefined) {
        const what = kind === 'symlink' ? 'a symlink' : kind === 'device' ? 'a device node' : 'a file';
        throw unsafe(entryName, `its parent ${show(p)} is ${what} of this layer, not a directory`);
      }
      missing.push(p);
      const slash = p.lastIndexOf('/');
      p = slash < 0 ? '' : p.slice(0, slash);
    }
    for (let i = missing.length - 1; i >= 0; i--) {
      const d = missing[i]!;
      if (d.slice(d.lastIndexOf('/') + 1).startsWith(WHITEOUT_PREFIX)) {
        throw unsafe(entryName, `its parent ${show(d)} is a whiteout name`);
      }
      fs.mkdirSync(this.abs(d), 0o700);
      this.claim(d, 'dir');
      this.dirs.set(d, { mode: 0o755, uid: 0, gid: 0, mtime: undefined, atime: undefined, explicit: false });
    }
  }

  private checkHardlink(e: TarEntry, rel: string, target: string, kind: Kind | undefined): void {
    if (target === '' || target === rel) throw unsafe(e.name, 'a hard link cannot point to itself or to the layer root');
    switch (kind) {
      case 'file':
      case 'device':
        return;
      case undefined:
        throw unsafe(e.name, `its link target ${show(e.linkname)} is not a file created earlier in this layer`);
      case 'symlink':
        throw unsafe(e.name, `its link target ${show(e.linkname)} is a symlink`);
      case 'dir':
        throw unsafe(e.name, `its link target ${show(e.linkname)} is a directory`);
    }
  }

  /** Records that `rel` now exists as `kind`; a directory made where this layer whited out is opaque instead. */
  private claim(rel: string, kind: Kind): void {
    this.kinds.set(rel, kind);
    if (this.whiteouts.delete(rel) && kind === 'dir') this.opaque.add(rel);
  }

  /**
   * A whiteout hides `rel` in the lower layers only (image-spec layer.md). If
   * this layer has a directory there, that directory must hide the lower one's
   * contents: it becomes opaque. A non-directory hides the lower path anyway.
   */
  private whiteout(rel: string): void {
    const kind = this.kinds.get(rel);
    if (kind === 'dir') this.opaque.add(rel);
    else if (kind === undefined) this.whiteouts.add(rel);
  }

  /** Removes an earlier non-directory entry at `rel` (a later member replaces it). */
  private remove(rel: string, kind: Kind): void {
    this.xattrs.delete(rel);
    if (kind === 'device') {
      this.devices.delete(rel);
    } else {
      fs.unlinkSync(this.abs(rel)); // unlink never follows a symlink
    }
    this.kinds.delete(rel);
  }

  private setDirMeta(rel: string, e: TarEntry): void {
    this.checkIds(e);
    this.dirs.set(rel, { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, atime: e.atime, explicit: true });
  }

  private addXattrs(rel: string, list: Array<[string, Buffer]>, merge: boolean): void {
    if (list.length === 0) {
      if (!merge) this.xattrs.delete(rel);
      return;
    }
    let names = merge ? this.xattrs.get(rel) : undefined;
    if (!names) {
      names = new Map();
      this.xattrs.set(rel, names);
    }
    for (const [name, value] of list) {
      if (name === '' || name.length > MAX_XATTR_NAME || value.length > MAX_XATTR_VALUE) {
        throw notTar(`${show(rel)} has an xattr ${show(name)} that Linux cannot store`);
      }
      this.xattrBytes += name.length + value.length;
      if (this.xattrBytes > MAX_XATTR_TOTAL) throw notTar('the layer carries more than 64 MiB of xattrs');
      names.set(name, value);
    }
  }

  private checkIds(e: { name: string; uid: number; gid: number }): void {
    const ok = (id: number) => Number.isInteger(id) && id >= 0 && id <= MAX_ID;
    if (!ok(e.uid) || !ok(e.gid)) throw notTar(`${show(e.name)} has an invalid owner ${e.uid}:${e.gid}`);
  }

  /** With chown, whether the owner differs from the one a new file gets. */
  private needsChown(e: { uid: number; gid: number }): boolean {
    return this.chown && (e.uid !== this.made.uid || e.gid !== this.made.gid);
  }

  private setOwner(op: () => void, e: { name: string; uid: number; gid: number }): void {
    this.checkIds(e);
    try {
      op();
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EPERM' || code === 'EINVAL') {
        throw new SkiffError(
          `cannot give ${show(e.name)} the owner ${e.uid}:${e.gid} from the image (${code}): ` +
            'that id is not mapped in this user namespace; give the user a larger range in /etc/subuid and /etc/subgid',
        );
      }
      throw err;
    }
  }

  private closeFile(): void {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      this.file = undefined;
      fs.closeSync(fd);
    }
  }

  /** The absolute path for fs calls: a string when ASCII (cheaper), else the exact bytes. */
  private abs(rel: string): string | Buffer {
    const p = rel === '' ? this.root : `${this.root}/${rel}`;
    return NON_ASCII.test(p) ? Buffer.from(p, 'latin1') : p;
  }

  /** A recorded path as the caller's string: '.' for the root; names that are not UTF-8 cannot be passed on. */
  private result(rel: string): string {
    if (rel === '') return '.';
    const bytes = Buffer.from(rel, 'latin1');
    const text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) {
      throw new SkiffError(`layer entry ${show(rel)} needs a whiteout, device or xattr but its name is not UTF-8, which skiff does not support`);
    }
    return text;
  }

  private wrap(err: unknown): SkiffError {
    if (err instanceof SkiffError) return err;
    const code = errnoCode(err);
    const msg = err instanceof Error ? err.message : String(err);
    // Node's "ENOSPC: no space left on device, write '/long/path'" without the path.
    const what = code ? `${/^\w+: ([^,]+)/.exec(msg)?.[1] ?? msg} (${code})` : msg;
    const where = this.file && this.fd >= 0 ? this.filePath : this.current;
    return new SkiffError(`cannot unpack layer entry ${show(where)}: ${what}`);
  }
}

/** Seconds for the fs time calls, which take a negative number to mean "now" but honour a Date before 1970. */
function time(seconds: number): number | Date {
  return seconds < 0 ? new Date(seconds * 1000) : seconds;
}

function accessTime(e: TarEntry): number {
  // The access time is never before the modification time (as Docker).
  return e.atime !== undefined && e.atime > e.mtime ? e.atime : e.mtime;
}

/** What a file created in the target gets without being asked: its owner, and the permission bits creation removes. */
interface Creation {
  uid: number;
  gid: number;
  mask: number;
}

/**
 * Checks the target is a new, empty directory, and learns what creating a
 * file there does (umask, default ACL, a set-group-id target) from one probe
 * file, so that fchmod and fchown run only when they change something.
 */
function probeTarget(targetDir: string): Creation {
  const fail = (why: string) => new SkiffError(`cannot unpack a layer into ${targetDir}: ${why}`);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(targetDir);
  } catch (err) {
    throw fail(errnoCode(err) ?? String(err));
  }
  if (!st.isDirectory() || fs.readdirSync(targetDir).length > 0) throw fail('it must be a new, empty directory');
  const probe = path.join(targetDir, '.skiff-probe');
  try {
    const fd = fs.openSync(probe, FILE_FLAGS, 0o777);
    try {
      const made = fs.fstatSync(fd);
      return { uid: made.uid, gid: made.gid, mask: ~made.mode & 0o777 };
    } finally {
      fs.closeSync(fd);
      fs.unlinkSync(probe);
    }
  } catch (err) {
    throw fail(errnoCode(err) ?? String(err));
  }
}

/**
 * Unpacks one uncompressed layer tar from `input` into `targetDir`, which must
 * be a new, empty directory (the caller renames it into place on success and
 * removes it on failure). Reads `input` to its very end, past the tar's
 * end-of-archive blocks, so a digest of the stream taken as it flows covers all
 * of it. Refuses, with a SkiffError, any entry that could write outside
 * `targetDir` or through a link. See UnpackStats for what the caller must
 * still do.
 */
export async function unpackLayer(input: Readable, targetDir: string, opts: UnpackOptions = {}): Promise<UnpackStats> {
  const target = path.resolve(targetDir);
  const made = probeTarget(target);
  const writer = new LayerWriter(target, opts.chown === true, made);
  const reader = new TarReader(writer);
  try {
    for await (const chunk of input) {
      if (!Buffer.isBuffer(chunk)) throw new SkiffError('the layer stream must carry bytes, not text');
      reader.push(chunk);
    }
    reader.finish();
    writer.finish();
  } catch (err) {
    writer.abort();
    if (err instanceof SkiffError) throw err;
    throw new SkiffError(`cannot read the layer: ${err instanceof Error ? err.message : String(err)}`);
  }
  return writer.stats();
}
