// What a container's mounts are asked to be: -v/--volume, --mount, --tmpfs
// (and, later, a build's RUN --mount), parsed into one description. Pure: no
// I/O; lib/containers/mounts.ts resolves sources and volumes, and the helper
// (helpers-c/src/volumes.c) mounts the result, every target inside the root.
import path from 'node:path';
import { SkiffError } from '../../errors.js';

export type Propagation = 'private' | 'rprivate' | 'slave' | 'rslave' | 'shared' | 'rshared' | 'unbindable' | 'runbindable';
const PROPAGATIONS: readonly Propagation[] = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'];

/** Options every kind of mount may carry. Unset means the kind's default. */
export interface MountFlags {
  readonly: boolean;
  nosuid?: boolean;
  nodev?: boolean;
  noexec?: boolean;
  propagation?: Propagation;
  /** :U / chown=true: the source is chowned to the container's user (through the ID mapping). */
  chown: boolean;
  /** idmap: an idmapped mount, with the container's mapping (true) or this one ("uids=…;gids=…"). */
  idmap?: true | string;
  /** z/Z: accepted; skiff does not relabel (see docs/user-guide.md, Storage). */
  relabel?: 'shared' | 'private';
}

export interface BindRequest {
  kind: 'bind';
  /** Absolute host path (relative ones resolved against the caller's cwd). */
  source: string;
  destination: string;
  flags: MountFlags;
  /** -v creates a missing source directory (Docker); --mount refuses. */
  createSource: boolean;
  /** Submounts of the source too (rbind, the default). */
  recursive: boolean;
  /** :O: an overlay over the source; what the container writes is discarded when it ends. */
  overlay: boolean;
}

export interface VolumeRequest {
  kind: 'volume';
  /** undefined: an anonymous volume. */
  name?: string;
  destination: string;
  flags: MountFlags;
  /** Do not fill a new (empty) volume with what the image has at the destination. */
  nocopy: boolean;
  /** --mount volume-subpath: only this directory of the volume. */
  subpath?: string;
  /** --mount volume-label / volume-opt: used when the volume is created here. */
  labels: Record<string, string>;
  driverOptions: Record<string, string>;
}

export interface TmpfsRequest {
  kind: 'tmpfs';
  destination: string;
  flags: MountFlags;
  /** tmpfs options for the kernel: size=, mode=, uid=, gid=, nr_inodes=… */
  data: string[];
  /** Podman's tmpcopyup: the tmpfs starts with what the image has there. */
  copyUp: boolean;
}

/** One mount a container (or a build step) asks for. */
export type MountRequest = BindRequest | VolumeRequest | TmpfsRequest;

function bad(what: string, text: string, why: string): never {
  throw new SkiffError(`invalid ${what} "${text}": ${why}`);
}

/** An absolute, clean path in the container; "/" itself is refused, as Docker does. */
export function containerPath(what: string, text: string, dest: string): string {
  if (dest === '') bad(what, text, 'the destination is empty');
  if (!dest.startsWith('/')) bad(what, text, `the destination "${dest}" must be an absolute path`);
  if (dest.includes('\0')) bad(what, text, 'the destination contains a NUL byte');
  const clean = path.posix.normalize(dest).replace(/\/+$/, '');
  if (clean === '') bad(what, text, 'the destination cannot be "/"');
  return clean;
}

function newFlags(): MountFlags {
  return { readonly: false, chown: false };
}

/** A volume's name, as Docker allows them. */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The options one -v or --tmpfs item may set, shared by both. Returns false for a word it does not know. */
function applyCommonOption(flags: MountFlags, seen: Set<string>, opt: string, what: string, text: string): boolean {
  const once = (group: string) => {
    if (seen.has(group)) bad(what, text, `conflicting or repeated option "${opt}"`);
    seen.add(group);
  };
  switch (opt) {
    case 'ro':
    case 'rw':
      once('mode');
      flags.readonly = opt === 'ro';
      return true;
    case 'suid':
    case 'nosuid':
      once('suid');
      flags.nosuid = opt === 'nosuid';
      return true;
    case 'dev':
    case 'nodev':
      once('dev');
      flags.nodev = opt === 'nodev';
      return true;
    case 'exec':
    case 'noexec':
      once('exec');
      flags.noexec = opt === 'noexec';
      return true;
    case 'U':
      once('U');
      flags.chown = true;
      return true;
    case 'z':
    case 'Z':
      once('label');
      flags.relabel = opt === 'z' ? 'shared' : 'private';
      return true;
  }
  if ((PROPAGATIONS as readonly string[]).includes(opt)) {
    once('propagation');
    flags.propagation = opt as Propagation;
    return true;
  }
  return false;
}

/** idmap or idmap=uids=C-H-N[#C-H-N…];gids=… (Podman's form). */
function parseIdmap(value: string | undefined, what: string, text: string): true | string {
  if (value === undefined || value === '') return true;
  const ranges = /^\d+-\d+-\d+(#\d+-\d+-\d+)*$/;
  const parts = value.split(';');
  const seen = new Set<string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq);
    if ((key !== 'uids' && key !== 'gids') || seen.has(key) || !ranges.test(part.slice(eq + 1))) {
      bad(what, text, `bad idmap "${value}": expected idmap=uids=FS-HOST-COUNT[#…];gids=FS-HOST-COUNT[#…]`);
    }
    seen.add(key);
  }
  if (!seen.has('uids') || !seen.has('gids')) bad(what, text, `bad idmap "${value}": give both uids= and gids=`);
  return value;
}

/**
 * -v SRC:DST[:OPTS], -v DST. A SRC starting with "/" or "." is a host path
 * (bind), anything else a volume's name; DST alone is an anonymous volume.
 */
export function parseVolumeFlag(text: string, cwd: string): MountRequest {
  const what = 'volume specification';
  const parts = text.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) bad(what, text, 'expected [SOURCE:]DESTINATION[:OPTIONS]');
  const [first, second, third] = parts as [string, string | undefined, string | undefined];
  if (second === undefined) {
    return { kind: 'volume', destination: containerPath(what, text, first), flags: newFlags(), nocopy: false, labels: {}, driverOptions: {} };
  }
  const destination = containerPath(what, text, second);
  const flags = newFlags();
  const seen = new Set<string>();
  let overlay = false;
  let nocopy: boolean | undefined;
  let recursive: boolean | undefined;
  for (const opt of third === undefined ? [] : third.split(',')) {
    if (applyCommonOption(flags, seen, opt, what, text)) continue;
    if (opt === 'O') {
      overlay = true;
    } else if (opt === 'copy' || opt === 'nocopy') {
      if (nocopy !== undefined) bad(what, text, `conflicting or repeated option "${opt}"`);
      nocopy = opt === 'nocopy';
    } else if (opt === 'bind' || opt === 'rbind') {
      if (recursive !== undefined) bad(what, text, `conflicting or repeated option "${opt}"`);
      recursive = opt === 'rbind';
    } else if (opt === 'idmap' || opt.startsWith('idmap=')) {
      if (flags.idmap !== undefined) bad(what, text, 'idmap given twice');
      flags.idmap = parseIdmap(opt === 'idmap' ? undefined : opt.slice('idmap='.length), what, text);
    } else {
      bad(what, text, `unknown option "${opt}"`);
    }
  }
  const isPath = first.startsWith('/') || first.startsWith('.');
  if (overlay) {
    if (!isPath) bad(what, text, 'O (an overlay) needs a host directory as the source');
    if (flags.readonly || flags.chown || flags.idmap !== undefined || flags.propagation) bad(what, text, 'O cannot be combined with ro, U, idmap or a propagation');
  }
  // copy/nocopy mean nothing for a host directory (Podman ignores them there too).
  if (isPath) {
    return { kind: 'bind', source: path.resolve(cwd, first), destination, flags, createSource: true, recursive: recursive ?? true, overlay };
  }
  if (!VOLUME_NAME.test(first)) bad(what, text, `"${first}" is not a valid volume name: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least 2 characters; a host path must start with / or .`);
  if (recursive !== undefined) bad(what, text, `"${recursive ? 'rbind' : 'bind'}" applies to host directories, not to a volume`);
  return { kind: 'volume', name: first, destination, flags, nocopy: nocopy ?? false, labels: {}, driverOptions: {} };
}

/** Docker's tmpfs-size: bytes, or a number with k, m, g (1024-based, as go-units' RAMInBytes). */
export function parseByteSize(text: string, what: string, whole: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text);
  if (!m) bad(what, whole, `bad size "${text}"`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * unit);
}

/** The tmpfs data options skiff passes to the kernel (others are refused). */
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'huge']);
const ATIME_FLAGS = new Set(['atime', 'noatime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'diratime', 'nodiratime']);

/** --tmpfs DST[:OPTS], OPTS as mount(8) takes them for tmpfs. */
export function parseTmpfsFlag(text: string): TmpfsRequest {
  const what = 'tmpfs specification';
  const colon = text.indexOf(':');
  const destination = containerPath(what, text, colon < 0 ? text : text.slice(0, colon));
  const flags = newFlags();
  const seen = new Set<string>();
  const data: string[] = [];
  let copyUp = false;
  for (const opt of colon < 0 ? [] : text.slice(colon + 1).split(',')) {
    if (opt === '') continue;
    if (opt === 'U' || opt === 'z' || opt === 'Z') bad(what, text, `option "${opt}" applies to volumes and host directories, not to a tmpfs`);
    if (applyCommonOption(flags, seen, opt, what, text)) continue;
    if (opt === 'tmpcopyup' || opt === 'notmpcopyup') {
      copyUp = opt === 'tmpcopyup';
      continue;
    }
    if (ATIME_FLAGS.has(opt)) {
      data.push(opt);
      continue;
    }
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    if (eq < 0 || !TMPFS_DATA.has(key) || !/^[\w.%:-]+$/.test(opt.slice(eq + 1))) bad(what, text, `unknown option "${opt}"`);
    data.push(opt);
  }
  return { kind: 'tmpfs', destination, flags, data, copyUp };
}

/** Splits --mount's comma-separated fields; a field in double quotes may hold commas (Docker reads it as CSV). */
function csvFields(text: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      if (quoted && text[i + 1] === '"') {
        field += '"';
        i++;
      } else {
        quoted = !quoted;
      }
    } else if (ch === ',' && !quoted) {
      out.push(field);
      field = '';
    } else {
      field += ch;
    }
  }
  if (quoted) throw new SkiffError(`invalid mount specification "${text}": an unclosed quote`);
  out.push(field);
  return out;
}

function boolValue(key: string, value: string | undefined, text: string): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  bad('mount specification', text, `invalid value "${value}" for ${key}: expected true or false`);
}

/** --mount type=bind|volume|tmpfs,source=…,target=…,readonly,… with Docker's keys (and Podman's). */
export function parseMountFlag(text: string, cwd: string): MountRequest {
  const what = 'mount specification';
  const fields = new Map<string, string | undefined>();
  const labels: Record<string, string> = {};
  const driverOptions: Record<string, string> = {};
  const extras: string[] = [];
  for (const field of csvFields(text)) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    if (key === 'volume-label' || key === 'volume-opt') {
      const kv = value ?? '';
      const keq = kv.indexOf('=');
      if (keq <= 0) bad(what, text, `${key} needs KEY=VALUE`);
      (key === 'volume-label' ? labels : driverOptions)[kv.slice(0, keq)] = kv.slice(keq + 1);
      continue;
    }
    // Podman's bare option words, as -v takes them.
    if (['suid', 'nosuid', 'dev', 'nodev', 'exec', 'noexec', 'tmpcopyup', 'notmpcopyup', 'copy', 'nocopy', 'z', 'Z'].includes(field)) {
      extras.push(field);
      continue;
    }
    const canonical = { src: 'source', dst: 'target', destination: 'target', ro: 'readonly', chown: 'u' }[key] ?? key;
    if (fields.has(canonical)) bad(what, text, `"${key}" is given twice`);
    fields.set(canonical, value);
  }
  const take = (key: string): string | undefined => {
    const v = fields.get(key);
    fields.delete(key);
    return v;
  };
  const type = take('type');
  if (type === undefined) bad(what, text, 'type is required (bind, volume or tmpfs)');
  const target = take('target');
  if (target === undefined) bad(what, text, 'target is required');
  const destination = containerPath(what, text, target);
  const flags = newFlags();
  if (fields.has('readonly')) flags.readonly = boolValue('readonly', take('readonly'), text);
  if (fields.has('rw')) flags.readonly = !boolValue('rw', take('rw'), text);
  if (fields.has('u')) flags.chown = boolValue('U', take('u'), text);
  if (fields.has('idmap')) flags.idmap = parseIdmap(take('idmap'), what, text);
  const relabel = take('relabel');
  if (relabel !== undefined) {
    if (relabel !== 'shared' && relabel !== 'private') bad(what, text, `relabel must be shared or private, not "${relabel}"`);
    flags.relabel = relabel;
  }
  take('consistency'); // Docker for Mac's; Linux ignores it, as Docker does.
  const seen = new Set<string>(['mode', 'U']);
  let nocopy = false;
  let copyUp = false;
  for (const word of extras) {
    if (word === 'copy' || word === 'nocopy') nocopy = word === 'nocopy';
    else if (word === 'tmpcopyup' || word === 'notmpcopyup') copyUp = word === 'tmpcopyup';
    else if (word === 'z' || word === 'Z') flags.relabel = word === 'z' ? 'shared' : 'private';
    else applyCommonOption(flags, seen, word, what, text);
  }
  const source = take('source');
  const leftover = (allowed: string[]) => {
    for (const key of fields.keys()) if (!allowed.includes(key)) bad(what, text, `unknown or misplaced key "${key}" for type=${type}`);
  };
  if (type === 'bind') {
    const propagation = take('bind-propagation');
    if (propagation !== undefined) {
      if (!(PROPAGATIONS as readonly string[]).includes(propagation)) bad(what, text, `invalid bind-propagation "${propagation}"`);
      flags.propagation = propagation as Propagation;
    }
    let recursive = true;
    const rec = take('bind-recursive');
    if (rec !== undefined) {
      if (!['enabled', 'disabled', 'writable', 'readonly'].includes(rec)) bad(what, text, `invalid bind-recursive "${rec}": enabled, disabled, writable or readonly`);
      recursive = rec !== 'disabled';
    }
    if (fields.has('bind-nonrecursive')) recursive = !boolValue('bind-nonrecursive', take('bind-nonrecursive'), text);
    leftover([]);
    if (source === undefined || source === '') bad(what, text, 'source is required for type=bind');
    if (Object.keys(labels).length || Object.keys(driverOptions).length) bad(what, text, 'volume-label and volume-opt apply to type=volume');
    return { kind: 'bind', source: path.resolve(cwd, source), destination, flags, createSource: false, recursive, overlay: false };
  }
  if (type === 'volume') {
    if (fields.has('volume-nocopy')) nocopy = boolValue('volume-nocopy', take('volume-nocopy'), text);
    const driver = take('volume-driver');
    if (driver !== undefined && driver !== 'local') bad(what, text, `volume driver "${driver}" is not available: skiff has the local driver only`);
    const subpath = take('volume-subpath');
    leftover([]);
    if (source !== undefined && source !== '' && !VOLUME_NAME.test(source)) bad(what, text, `"${source}" is not a valid volume name`);
    if (subpath !== undefined && (subpath === '' || subpath.startsWith('/') || subpath.split('/').includes('..') || /[,\t\n]/.test(subpath))) {
      bad(what, text, `volume-subpath "${subpath}" must be a relative path inside the volume, without ".."`);
    }
    return {
      kind: 'volume',
      ...(source ? { name: source } : {}),
      destination,
      flags,
      nocopy,
      ...(subpath !== undefined ? { subpath: path.posix.normalize(subpath) } : {}),
      labels,
      driverOptions,
    };
  }
  if (type === 'tmpfs') {
    if (source !== undefined) bad(what, text, 'type=tmpfs takes no source');
    const data: string[] = [];
    const size = take('tmpfs-size');
    if (size !== undefined) data.push(`size=${parseByteSize(size, what, text)}`);
    const mode = take('tmpfs-mode');
    if (mode !== undefined) {
      if (!/^0?[0-7]{1,4}$/.test(mode)) bad(what, text, `invalid tmpfs-mode "${mode}": an octal mode such as 1777`);
      data.push(`mode=${mode}`);
    }
    leftover([]);
    if (flags.chown || flags.idmap !== undefined) bad(what, text, 'U and idmap apply to volumes and host directories, not to a tmpfs');
    return { kind: 'tmpfs', destination, flags, data, copyUp };
  }
  bad(what, text, `type "${type}" is not supported: use bind, volume or tmpfs`);
}

/** Docker refuses two mounts on one destination. */
export function checkDistinctDestinations(mounts: MountRequest[]): void {
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.destination)) throw new SkiffError(`duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
  }
}

/** The mount options (OCI words, and skiff's own) a request's flags come to, with the kind's defaults. */
export function mountOptionWords(flags: MountFlags, defaults: { nosuid: boolean; nodev: boolean; noexec: boolean }): string[] {
  const words: string[] = [flags.readonly ? 'ro' : 'rw'];
  if (flags.nosuid ?? defaults.nosuid) words.push('nosuid');
  if (flags.nodev ?? defaults.nodev) words.push('nodev');
  if (flags.noexec ?? defaults.noexec) words.push('noexec');
  if (flags.chown) words.push('chown');
  if (flags.idmap === true) words.push('idmap');
  else if (flags.idmap !== undefined) words.push(`idmap=${flags.idmap}`);
  return words;
}
