// The build context: a directory on the host, read only through lstat and
// readlink (a symlink is a symlink, never followed), filtered by
// .dockerignore (@balena/dockerignore, Docker's matching rules). COPY and ADD
// select their sources here; the cache key of such a step is a digest of
// what it selects (names, types, modes, sizes, contents, link targets), so a
// changed file misses the cache and a touched one does not.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import ignoreModule from '@balena/dockerignore';
import { SkiffError, errnoCode } from '../errors.js';

/** The package is CommonJS (module.exports = factory); its types say `export default`. */
type IgnoreFactory = typeof ignoreModule extends { default: infer F } ? F : typeof ignoreModule;
type Ignore = ReturnType<Extract<IgnoreFactory, (...a: never[]) => unknown>>;
const ignore = ((ignoreModule as unknown as { default?: IgnoreFactory }).default ?? ignoreModule) as unknown as () => Ignore;

export interface ContextEntry {
  /** Relative to the context root, '/'-separated, no leading './'. */
  rel: string;
  st: Stats;
}

export class BuildContext {
  private readonly ig: Ignore | null;
  private listing: ContextEntry[] | undefined;
  /** Digests of files hashed by an earlier build of this context, by identity (see hashEntry). */
  knownDigests: Record<string, string> = {};
  /** The ones this build used; `digestsChanged` when that differs from what was known. */
  usedDigests: Record<string, string> = {};
  digestsChanged = false;

  /** `root` undefined: no context (a Dockerfile from stdin); every COPY from it fails. */
  constructor(
    readonly root: string | undefined,
    ignorePatterns: string[],
  ) {
    this.ig = ignorePatterns.length > 0 ? ignore().add(ignorePatterns) : null;
  }

  ignored(rel: string): boolean {
    return this.ig !== null && rel !== '' && this.ig.ignores(rel);
  }

  /** Every entry not ignored, depth first, sorted by name (lstat: links are not followed). */
  entries(): ContextEntry[] {
    if (this.listing) return this.listing;
    const out: ContextEntry[] = [];
    if (this.root === undefined) return (this.listing = out);
    const walk = (dirRel: string) => {
      const abs = dirRel === '' ? this.root! : path.join(this.root!, dirRel);
      let names: string[];
      try {
        names = readdirSync(abs).sort();
      } catch (err) {
        throw new SkiffError(`cannot read the build context at ${abs}: ${errnoCode(err) ?? String(err)}`);
      }
      for (const name of names) {
        const rel = dirRel === '' ? name : `${dirRel}/${name}`;
        const st = lstatSync(path.join(abs, name));
        const skip = this.ignored(rel);
        // An ignored directory is still walked: a later "!pattern" may take a file back.
        if (!skip) out.push({ rel, st });
        if (st.isDirectory()) walk(rel);
      }
    };
    walk('');
    return (this.listing = out);
  }

  abs(rel: string): string {
    return rel === '' ? this.root! : path.join(this.root!, rel);
  }
}

/** The patterns of a .dockerignore file: comments and blank lines dropped, each cleaned as Docker does. */
export function parseIgnoreFile(text: string): string[] {
  const out: string[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) continue;
    line = line.trim();
    if (line === '') continue;
    let neg = '';
    if (line.startsWith('!')) {
      neg = '!';
      line = line.slice(1).trim();
    }
    line = path.posix.normalize(line).replace(/^\/+/, '');
    if (line === '.' || line === '') continue;
    out.push(neg + line);
  }
  return out;
}

/** A glob of Go's filepath.Match (`*`, `?`, `[…]`, `\`) plus `**` for any depth, as a RegExp on '/'-paths. */
export function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new SkiffError(`invalid pattern "${pattern}": missing ']'`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function hasGlob(p: string): boolean {
  return /[*?[]/.test(p);
}

/** One selected source of a COPY/ADD: a context path and what it holds. */
export interface SelectedSource {
  /** As written (for messages). */
  written: string;
  rel: string;
  st: Stats;
}

/**
 * The context entries a COPY source names: a path or a glob, relative to the
 * context root ('/' at the start means the root too). Climbing out with '..'
 * is refused; a missing source is one line naming it.
 */
export function selectSources(ctx: BuildContext, written: string, instruction: string): SelectedSource[] {
  if (ctx.root === undefined) throw new SkiffError(`${instruction} ${written}: there is no build context (the Dockerfile came from stdin): give a context directory`);
  const cleaned = path.posix.normalize(`/${written}`);
  if (path.posix.normalize(written.replace(/^\/+/, '')).startsWith('..')) {
    throw new SkiffError(`${instruction} ${written}: forbidden path outside the build context`);
  }
  const rel = cleaned.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!hasGlob(rel)) {
    if (rel === '') return [{ written, rel: '', st: lstatSync(ctx.root) }];
    let st: Stats;
    try {
      st = lstatSync(ctx.abs(rel));
    } catch {
      throw new SkiffError(`${instruction} ${written}: no such file or directory in the build context`);
    }
    if (ctx.ignored(rel)) throw new SkiffError(`${instruction} ${written}: excluded by .dockerignore`);
    // Every directory on the way must be a directory, not a link out of the context.
    let up = path.posix.dirname(rel);
    while (up !== '.' && up !== '/') {
      if (!lstatSync(ctx.abs(up)).isDirectory()) throw new SkiffError(`${instruction} ${written}: ${up} is a symlink, which is not followed`);
      up = path.posix.dirname(up);
    }
    return [{ written, rel, st }];
  }
  const re = globRegExp(rel);
  const matches = ctx.entries().filter((e) => re.test(e.rel));
  if (matches.length === 0) throw new SkiffError(`${instruction} ${written}: no source files were specified (nothing in the build context matches)`);
  // A match inside a matched directory is copied with that directory.
  const dirs = matches.filter((m) => m.st.isDirectory()).map((m) => `${m.rel}/`);
  return matches.filter((m) => !dirs.some((d) => m.rel.startsWith(d))).map((m) => ({ written, rel: m.rel, st: m.st }));
}

/** The context entries below a selected directory (not ignored), relative to it. */
export function entriesBelow(ctx: BuildContext, dirRel: string): ContextEntry[] {
  if (dirRel === '') return ctx.entries();
  const prefix = `${dirRel}/`;
  return ctx.entries().filter((e) => e.rel.startsWith(prefix)).map((e) => ({ rel: e.rel.slice(prefix.length), st: e.st }));
}

/** sha256 of a file's bytes, read through one descriptor opened without following a link. */
export function fileDigest(abs: string): string {
  const fd = openSync(abs, 'r');
  try {
    if (!fstatSync(fd).isFile()) throw new SkiffError(`${abs} changed while it was read`);
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
    return h.digest('hex');
  } finally {
    closeSync(fd);
  }
}

/** Feeds one entry's identity (not its times or host owner) into a hash. */
function hashEntry(ctx: BuildContext, h: ReturnType<typeof createHash>, abs: string, rel: string, st: Stats): void {
  const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : 'o';
  h.update(`${kind}\0${rel}\0${(st.mode & 0o7777).toString(8)}\0`);
  if (kind === 'f') {
    // A file hashed before and not written since (its ctime would have moved) is not read again.
    const id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    let digest = ctx.usedDigests[id] ?? ctx.knownDigests[id];
    if (digest === undefined) {
      digest = fileDigest(abs);
      ctx.digestsChanged = true;
    }
    ctx.usedDigests[id] = digest;
    h.update(`${st.size}\0${digest}\0`);
  }
  else if (kind === 'l') h.update(`${readlinkSync(abs)}\0`);
}

/** A digest of everything the sources select: what a COPY/ADD step's cache key holds. */
export function sourcesDigest(ctx: BuildContext, sources: SelectedSource[]): string {
  const h = createHash('sha256');
  for (const s of sources) {
    h.update(`src\0${s.rel}\0`);
    hashEntry(ctx, h, ctx.abs(s.rel), s.rel, s.st);
    if (s.st.isDirectory()) for (const e of entriesBelow(ctx, s.rel)) hashEntry(ctx, h, ctx.abs(s.rel === '' ? e.rel : `${s.rel}/${e.rel}`), e.rel, e.st);
  }
  return `sha256:${h.digest('hex')}`;
}

/** Reads a whole file of the context or the host, with one clear line when it cannot. */
export function readTextFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SkiffError(`cannot read ${what} ${file}: ${errnoCode(err) === 'ENOENT' ? 'no such file' : (errnoCode(err) ?? String(err))}`);
  }
}
