// RUN --mount: what BuildKit's mounts give a step, none of it in the layer.
//   type=bind   a context path (or another stage's/image's), read-only unless rw
//               (then a private copy whose changes are discarded)
//   type=cache  a per-user directory kept between builds (by id, default the target)
//   type=secret a --secret file at /run/secrets/ID (or target), read-only
//   type=tmpfs  a tmpfs of the step alone (nosuid, nodev; size= as given)
// Each is a mount of the helper, as `run -v` and `--tmpfs` make them (the
// destination resolved beneath the root, created there when missing); the
// layer writer leaves every mount target out, so no mount point, and never
// a secret, reaches the layer.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { processWord, type Variables } from '../oci/shell-words.js';
import { makeTmpDir } from '../store/atomic.js';
import { layerDiffDir } from '../store/layers.js';
import { layerEntry } from '../store/image-files.js';
import { buildCacheMountDir } from '../store/build-cache.js';
import { lockBuildStep, type StoreLock } from '../store/lock.js';
import type { Store } from '../store/store.js';
import type { OciMount } from '../oci/runtime-spec.js';
import { selectSources, sourcesDigest, entriesBelow } from './context.js';
import { normalizeAbsolute } from './image-config.js';
import type { BuildContext } from './context.js';

export interface RunMount {
  type: 'bind' | 'cache' | 'secret' | 'tmpfs';
  target: string;
  source?: string;
  from?: string;
  readonly: boolean;
  id?: string;
  sharing?: 'shared' | 'private' | 'locked';
  required?: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  /** tmpfs: its size (bytes, or with k, m or g), as the tmpfs size= option takes it. */
  size?: string;
}

const KEYS: Record<RunMount['type'], string[]> = {
  bind: ['type', 'target', 'dst', 'destination', 'source', 'src', 'from', 'ro', 'readonly', 'rw', 'readwrite'],
  cache: ['type', 'target', 'dst', 'destination', 'id', 'sharing', 'from', 'source', 'src', 'ro', 'readonly', 'mode', 'uid', 'gid'],
  secret: ['type', 'id', 'target', 'dst', 'destination', 'required', 'mode', 'uid', 'gid'],
  tmpfs: ['type', 'target', 'dst', 'destination', 'size'],
};

function bool(v: string | undefined, key: string): boolean {
  if (v === undefined || v === '' || v === 'true') return true;
  if (v === 'false') return false;
  throw new SkiffError(`--mount: ${key}=${v}: expected true or false`);
}

/** One --mount=… value (BuildKit's CSV of key=value). */
export function parseRunMount(text: string, vars: Variables, escape: string): RunMount {
  const fields = new Map<string, string | undefined>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    fields.set(key, eq < 0 ? undefined : processWord(part.slice(eq + 1), vars, escape));
  }
  const type = (fields.get('type') ?? 'bind') as RunMount['type'];
  if (!(type in KEYS)) throw new SkiffError(`--mount type=${type}: expected bind, cache, secret or tmpfs`);
  for (const k of fields.keys()) if (!KEYS[type].includes(k)) throw new SkiffError(`--mount type=${type}: unknown option "${k}"`);
  // BuildKit's options that skiff does not do yet: refused, never ignored.
  const notYet = (type === 'cache' ? ['from', 'source', 'src'] : type === 'secret' ? ['mode', 'uid', 'gid'] : []).filter((k) => fields.has(k));
  if (notYet.length > 0) {
    const why = type === 'cache' ? 'a cache starts empty' : 'the file is bound read-only with its own mode and owner';
    throw new SkiffError(`--mount type=${type}: ${notYet.join(', ')} ${notYet.length > 1 ? 'are' : 'is'} not supported yet (${why})`);
  }
  const target = fields.get('target') ?? fields.get('dst') ?? fields.get('destination');
  const id = fields.get('id');
  const m: RunMount = { type, target: '', readonly: false };
  if (type === 'secret') {
    if (!id && !target) throw new SkiffError('--mount type=secret needs id= (or target=)');
    m.id = id ?? path.posix.basename(target!);
    m.target = target ?? `/run/secrets/${m.id}`;
    m.required = fields.has('required') ? bool(fields.get('required'), 'required') : false;
    m.readonly = true;
  } else {
    if (!target) throw new SkiffError(`--mount type=${type} needs target=`);
    m.target = target;
  }
  if (!m.target.startsWith('/')) throw new SkiffError(`--mount target=${m.target}: expected an absolute path`);
  m.target = normalizeAbsolute(m.target);
  if (m.target === '/') throw new SkiffError('--mount target=/: cannot mount over the root');
  const src = fields.get('source') ?? fields.get('src');
  if (src !== undefined) m.source = src;
  const from = fields.get('from');
  if (from !== undefined) m.from = from;
  if (type === 'bind') m.readonly = !(fields.has('rw') ? bool(fields.get('rw'), 'rw') : fields.has('readwrite') ? bool(fields.get('readwrite'), 'readwrite') : false);
  if (type === 'cache') {
    m.readonly = fields.has('ro') ? bool(fields.get('ro'), 'ro') : fields.has('readonly') ? bool(fields.get('readonly'), 'readonly') : false;
    m.id = id ?? m.target;
    const sharing = fields.get('sharing') ?? 'shared';
    if (sharing !== 'shared' && sharing !== 'private' && sharing !== 'locked') throw new SkiffError(`--mount sharing=${sharing}: expected shared, private or locked`);
    m.sharing = sharing;
  }
  for (const k of ['mode', 'uid', 'gid'] as const) {
    const v = fields.get(k);
    if (v === undefined) continue;
    if (k === 'mode' ? !/^[0-7]{1,4}$/.test(v) : !/^\d+$/.test(v)) throw new SkiffError(`--mount ${k}=${v}: expected ${k === 'mode' ? 'an octal mode' : 'a number'}`);
    m[k] = k === 'mode' ? parseInt(v, 8) : Number(v);
  }
  const size = fields.get('size');
  if (type === 'tmpfs' && size !== undefined) {
    if (!/^\d+[kmg]?$/i.test(size)) throw new SkiffError(`--mount size=${size}: expected bytes, or a number with k, m or g`);
    m.size = size.toLowerCase();
  }
  return m;
}

/** What a mount adds to the step's cache key: never a secret's or a cache's content. */
export function mountKey(m: RunMount, ctx: BuildContext, fromImage: string | undefined): string {
  const base = JSON.stringify({ ...m });
  if (m.type === 'bind' && fromImage === undefined) {
    return `${base}:${sourcesDigest(ctx, selectSources(ctx, m.source ?? '.', 'RUN --mount'))}`;
  }
  return `${base}:${fromImage ?? ''}`;
}

export interface PreparedMounts {
  binds: { source: string; destination: string; readonly: boolean }[];
  /** The tmpfs mounts, as the runtime spec has them. */
  tmpfs: OciMount[];
  /** Temp directories and locks to release after the step. */
  release(): void;
}

export interface MountDeps {
  store: Store;
  context: BuildContext;
  secrets: ReadonlyMap<string, string>;
  /** A stage's or image's root filesystem copied out to a new host directory. */
  copyOutRoot(image: string, src: string, dest: string): Promise<void>;
  /** The image id a from= names (a stage's or an image), resolved by the builder. */
  fromImage(ref: string): Promise<string>;
}

/** Sets up the host side of each mount; resolves to the binds the step's container gets. */
export async function prepareMounts(mounts: RunMount[], deps: MountDeps): Promise<PreparedMounts> {
  const temps: string[] = [];
  const locks: StoreLock[] = [];
  const binds: PreparedMounts['binds'] = [];
  const tmpfs: OciMount[] = [];
  const release = () => {
    for (const l of locks) l.release();
    for (const t of temps) removeTree(t);
  };
  try {
    for (const m of mounts) {
      if (m.type === 'secret') {
        const file = deps.secrets.get(m.id!);
        if (!file) {
          if (m.required) throw new SkiffError(`secret ${m.id} is required but was not given: pass --secret id=${m.id},src=FILE`);
          continue;
        }
        binds.push({ source: file, destination: m.target, readonly: true });
      } else if (m.type === 'tmpfs') {
        // BuildKit's options (nosuid), and nodev as every mount of a skiff container.
        tmpfs.push({ destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.size !== undefined ? [`size=${m.size}`] : [])] });
      } else if (m.type === 'cache') {
        const hex = createHash('sha256').update(m.id!).digest('hex');
        const dir = buildCacheMountDir(deps.store.paths, hex);
        if (m.mode !== undefined) chmodSync(dir, m.mode);
        if (m.uid !== undefined || m.gid !== undefined) chownSync(dir, m.uid ?? 0, m.gid ?? 0);
        if (m.sharing !== 'shared') locks.push(await lockBuildStep(deps.store.paths, `sha256:${hex}`));
        binds.push({ source: dir, destination: m.target, readonly: m.readonly });
      } else {
        // bind: from the context (or a stage/image); rw gets a private copy.
        if (m.from !== undefined) {
          const image = await deps.fromImage(m.from);
          const dir = makeTmpDir(deps.store.paths, 'bind');
          temps.push(dir);
          const dest = path.join(dir, 'root');
          await deps.copyOutRoot(image, normalizeAbsolute(`/${m.source ?? '/'}`), dest);
          binds.push({ source: dest, destination: m.target, readonly: m.readonly });
        } else {
          const [sel] = selectSources(deps.context, m.source ?? '.', 'RUN --mount');
          if (!sel) throw new SkiffError(`RUN --mount source=${m.source}: nothing in the build context`);
          if (sel.st.isSymbolicLink()) throw new SkiffError(`RUN --mount source=${m.source}: a symlink is not followed`);
          // Read-only and nothing ignored below: the context itself, bound read-only.
          if (m.readonly && (!sel.st.isDirectory() || ignoresNothingBelow(deps.context, sel.rel))) {
            binds.push({ source: deps.context.abs(sel.rel), destination: m.target, readonly: true });
          } else {
            // A private copy: rw changes are discarded, and .dockerignore'd files are left out.
            const dir = makeTmpDir(deps.store.paths, 'bind');
            temps.push(dir);
            const { stageSelected } = await import('./copy.js');
            const dest = path.join(dir, 'root');
            stageSelected(deps.context, sel, dest);
            binds.push({ source: dest, destination: m.target, readonly: m.readonly });
          }
        }
      }
    }
  } catch (err) {
    release();
    throw err;
  }
  return { binds, tmpfs, release };
}

/** True when .dockerignore hides nothing below a directory: then it can be bound as it is. */
function ignoresNothingBelow(ctx: BuildContext, rel: string): boolean {
  const visible = entriesBelow(ctx, rel).length;
  let all = 0;
  const walk = (abs: string) => {
    for (const n of readdirSync(abs)) {
      all++;
      const p = path.join(abs, n);
      if (lstatSync(p).isDirectory()) walk(p);
    }
  };
  const root = ctx.abs(rel);
  if (lstatSync(root).isDirectory()) walk(root);
  return visible === all;
}

function removeTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Does `rel` exist in the layers below (a whiteout above deletes it)? Nothing is followed. */
function inLayers(store: Store, layers: string[], rel: string): boolean {
  const parts = rel.split('/').filter(Boolean);
  for (const layer of [...layers].reverse()) {
    let p = layerDiffDir(store.paths, layer);
    let found = true;
    for (const [n, part] of parts.entries()) {
      const entry = layerEntry(p, part);
      p = path.join(p, part);
      if (entry.kind === 'absent') {
        found = false;
        break;
      }
      if (entry.kind === 'deleted') return false;
      // A link on the way: the image has something there; leave it alone.
      if (entry.stats.isSymbolicLink() && n < parts.length - 1) return true;
    }
    if (found) return true;
  }
  return false;
}

/** Paths the helper mounts over in every container: never part of its changes (Docker's init layer). */
export const RUNTIME_MOUNT_POINTS = ['/proc', '/sys', '/dev'];

/** Of these container paths, the ones the upper directory holds now (lstat: nothing is followed). */
export function presentInUpper(upper: string, paths: string[]): Set<string> {
  const present = new Set<string>();
  for (const p of paths) {
    try {
      lstatSync(path.join(upper, p));
      present.add(p);
    } catch {
      // absent
    }
  }
  return present;
}

/** A container path and every directory above it, deepest first, "/" left out. */
export function withParents(p: string): string[] {
  const parts = p.split('/').filter(Boolean);
  return parts.map((_, n) => `/${parts.slice(0, parts.length - n).join('/')}`);
}

/**
 * What a step's mount targets leave out of its layer: each target the step
 * made (absent from the upper directory before it ran, `before`), and each
 * directory above them that the step made only to hold such targets (absent
 * from the layers below and from the upper directory before, holding nothing
 * but excluded entries): a RUN on a root without /etc leaves no etc/ for its
 * /etc/hosts. Called after the step, when no process of it runs; every
 * component is lstat'ed.
 */
export function mountExclusions(store: Store, upper: string, layers: string[], targets: string[], before: Set<string>): string[] {
  const excluded = new Set(targets.map((t) => normalizeAbsolute(t)).filter((t) => t !== '/' && !before.has(t)));
  const parents = [...new Set([...excluded].flatMap((t) => withParents(t).slice(1)))];
  parents.sort((a, b) => b.split('/').length - a.split('/').length);
  for (const dir of parents) {
    if (before.has(dir) || inLayers(store, layers, dir.slice(1))) continue;
    if (!withParents(dir).every((d) => isDirectory(path.join(upper, d)))) continue;
    let entries: string[];
    try {
      entries = readdirSync(path.join(upper, dir));
    } catch {
      continue;
    }
    if (entries.every((e) => excluded.has(path.posix.join(dir, e)))) excluded.add(dir);
  }
  return [...excluded];
}

/**
 * --squash keeps one upper directory for the whole stage, so a later step may
 * write where an earlier RUN had only a mount point (COPY rootfs/ / bringing
 * proc/ after a RUN made /proc): of the exclusions, those still holding
 * nothing but empty mount points (an empty file, or a directory of excluded
 * such entries) stay.
 */
export function stillMountPoints(upper: string, exclusions: Iterable<string>): string[] {
  const all = new Set(exclusions);
  const empty = (p: string): boolean => {
    try {
      const st = lstatSync(path.join(upper, p));
      if (st.isFile()) return st.size === 0;
      if (!st.isDirectory()) return false;
      return readdirSync(path.join(upper, p)).every((e) => {
        const child = path.posix.join(p, e);
        return all.has(child) && empty(child);
      });
    } catch (err) {
      // Absent: nothing to leave out, and nothing lost by naming it.
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  };
  return [...all].filter(empty);
}

function isDirectory(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}
