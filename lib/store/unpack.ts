// The layer extractor: one uncompressed layer tar stream into a new, empty
// directory, with synchronous fs calls (design.md decision 9) and the security
// rules of decision 3.
//
// Why the tar stream is read by tar-reader.ts and not by node-tar's Parser: the Parser
// (tar 7.5) decodes PAX and GNU long-name bodies per input chunk as UTF-8, so a
// PAX path whose multi-byte character straddles two chunks fails its length
// check and the entry silently gets its short ustar name; it splits PAX records
// on '\n' instead of by their length, so an xattr value containing
// "\n13 path=evil" renames the entry for node-tar but not for Go's archive/tar
// (what Docker, containerd and registries' scanners read); it drops
// SCHILY.xattr.* records and cannot carry binary values (security.capability);
// and it keeps every byte after the end-of-archive blocks in memory. Reading
// 512-byte blocks is small, so tar-reader.ts does it, with Go's archive/tar
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
import type { TarSplitRecorder } from './tar-split.js';
import {
  MAX_ID,
  MAX_XATTR_NAME,
  MAX_XATTR_TOTAL,
  MAX_XATTR_VALUE,
  NON_ASCII,
  TarReader,
  WHITEOUT_META_PREFIX,
  WHITEOUT_OPAQUE,
  WHITEOUT_PREFIX,
  notTar,
  show,
  type EntrySink,
  type TarEntry,
} from './tar-reader.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = fs.constants;
const FILE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

export interface UnpackOptions {
  /**
   * Set each entry's uid/gid from its header. Only meaningful inside a user
   * namespace carrying the image's id mapping; when false, everything is owned
   * by the calling process.
   */
  chown?: boolean;
  /** Records the stream as a tar-split, so the store can give back this exact tar (tar-split.ts). */
  record?: TarSplitRecorder;
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
  /** The mode (07777 bits) a root entry ("./") of the layer gave its root; null when it has none. */
  rootMode: number | null;
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
    private readonly record: TarSplitRecorder | undefined,
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
    if (this.fd < 0) {
      // A skipped member's data: not in any file, so part of the record as it is.
      this.record?.raw(chunk, start, end);
      return;
    }
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
    const root = this.dirs.get('');
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
      rootMode: root?.explicit ? root.mode & 0o7777 : null,
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
        this.record?.file(rel, e.size);
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
      // The record must still give back what this file held.
      if (kind === 'file') this.record?.inline(rel, () => readWhole(this.abs(rel)));
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

/** A file of the layer, whole, without following a symlink. */
function readWhole(p: string | Buffer): Buffer {
  const fd = fs.openSync(p, O_RDONLY | O_NOFOLLOW);
  try {
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
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
  const writer = new LayerWriter(target, opts.chown === true, made, opts.record);
  const record = opts.record;
  const reader = new TarReader(writer, record ? (chunk, start, end) => record.raw(chunk, start, end) : undefined);
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
