// COPY and ADD. What a step copies is first laid out on the host in a staging
// directory under the store's tmp/ (the context's files read with lstat, a
// symlink copied as a symlink and never followed; another stage's or image's
// files copied out of its root beneath it by the helper; ADD's archives
// unpacked by the layer extractor, which refuses every escape), given their
// owners (0:0, or --chown) and modes (--chmod), then copied into the step's
// root by the helper (`cp`'s rules: every path resolved beneath the root,
// missing destination directories made there).
import { chmodSync, closeSync, constants, copyFileSync, createReadStream, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readSync, readlinkSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { processWord, splitWords } from '../oci/shell-words.js';
import { makeTmpDir } from '../store/atomic.js';
import { readImageRecord } from '../store/images.js';
import { entriesBelow, selectSources, sourcesDigest, type BuildContext, type SelectedSource } from './context.js';
import type { Instruction } from './dockerfile.js';
import { nopCreatedBy, normalizeAbsolute } from './image-config.js';
import { newWorkspace, shellOf, stepKey, type StepApi } from './builder.js';
import { lookupUser } from './users.js';

export type CopySource = { kind: 'context'; sel: SelectedSource } | { kind: 'heredoc'; name: string; content: string } | { kind: 'image'; image: string; path: string } | { kind: 'url'; url: string };

/** `$VAR` and `${…}` in a heredoc's content, nothing else (BuildKit expands COPY heredocs unless the delimiter is quoted). */
function expandHeredoc(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    const value = vars.get(name);
    if (!op) return value ?? '';
    const set = value !== undefined && (!op.startsWith(':') || value !== '');
    return op.endsWith('-') ? (set ? value! : (word ?? '')) : set ? (word ?? '') : '';
  });
}

function parseMode(text: string): number {
  if (!/^[0-7]{3,4}$/.test(text)) throw new SkiffError(`invalid --chmod "${text}": expected an octal mode such as 755`);
  return parseInt(text, 8);
}

/** Gives the whole staged tree its owner and (with --chmod) its mode, keeping its times. */
function settle(root: string, uid: number, gid: number, mode: number | undefined): void {
  const visit = (p: string, st: Stats) => {
    if (st.isDirectory()) for (const n of readdirSync(p)) visit(path.join(p, n), lstatSync(path.join(p, n)));
    lchownSync(p, uid, gid);
    if (!st.isSymbolicLink()) {
      if (mode !== undefined) chmodSync(p, mode);
      else chmodSync(p, st.mode & 0o7777);
    }
    lutimesSync(p, st.atime, st.mtime);
  };
  for (const n of readdirSync(root)) visit(path.join(root, n), lstatSync(path.join(root, n)));
}

/** One context entry onto the staging path (a symlink as a symlink, never followed). */
function stageEntry(abs: string, st: Stats, dest: string): void {
  if (st.isDirectory()) mkdirSync(dest, { recursive: true, mode: st.mode & 0o7777 });
  else if (st.isSymbolicLink()) symlinkSync(readlinkSync(abs), dest);
  else if (st.isFile()) copyFileSync(abs, dest, constants.COPYFILE_FICLONE);
  else return; // sockets, FIFOs and devices of a context are not copied (as Docker's context upload)
  if (!st.isSymbolicLink()) utimesSync(dest, st.atime, st.mtime);
  else lutimesSync(dest, st.atime, st.mtime);
}

function stageContextSource(api: StepApi, sel: SelectedSource, dest: string): void {
  stageSelected(api.req.context, sel, dest);
}

/** A selected context path (and, for a directory, what is below it and not ignored) copied to `dest`. */
export function stageSelected(ctx: BuildContext, sel: SelectedSource, dest: string): void {
  if (!sel.st.isDirectory()) {
    stageEntry(ctx.abs(sel.rel), sel.st, dest);
    return;
  }
  mkdirSync(dest, { recursive: true, mode: sel.st.mode & 0o7777 });
  for (const e of entriesBelow(ctx, sel.rel)) {
    const rel = sel.rel === '' ? e.rel : `${sel.rel}/${e.rel}`;
    // A file taken back by "!pattern" inside an ignored directory: the directory comes without the rest.
    mkdirSync(path.dirname(path.join(dest, e.rel)), { recursive: true, mode: 0o755 });
    stageEntry(ctx.abs(rel), e.st, path.join(dest, e.rel));
  }
  utimesSync(dest, sel.st.atime, sel.st.mtime);
}

/** Is this local file a tar (plain, gzip, bzip2, xz or zstd) that ADD unpacks? */
function archiveKind(abs: string): 'tar' | 'gzip' | 'zstd' | undefined {
  const head = Buffer.alloc(512);
  let n = 0;
  try {
    const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    n = readSync(fd, head, 0, 512, 0);
    closeSync(fd);
  } catch {
    return undefined;
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (n >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  return undefined;
}

async function download(url: string, dest: string, checksum: string | undefined): Promise<string> {
  const res = await fetch(url).catch((err: unknown) => {
    throw new SkiffError(`ADD ${url}: ${err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`);
  });
  if (!res.ok) throw new SkiffError(`ADD ${url}: the server answered ${res.status} ${res.statusText}`);
  const data = Buffer.from(await res.arrayBuffer());
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  if (checksum !== undefined && checksum !== digest) throw new SkiffError(`ADD ${url}: checksum mismatch: expected ${checksum}, got ${digest}`);
  writeFileSync(dest, data, { mode: 0o600 });
  const modified = res.headers.get('last-modified');
  if (modified) {
    const t = new Date(modified);
    if (!Number.isNaN(t.getTime())) utimesSync(dest, t, t);
  }
  return digest;
}

function urlBase(url: string): string {
  const base = path.posix.basename(new URL(url).pathname);
  if (base === '' || base === '/') throw new SkiffError(`ADD ${url}: cannot tell a file name from the URL: give the destination a file name`);
  return base;
}

export async function executeCopy(api: StepApi, i: Instruction): Promise<void> {
  const escape = api.req.dockerfile.escape;
  const vars = api.variables();
  const flag = (name: string) => {
    const f = i.flags.find((x) => x.name === name);
    return f ? processWord(f.value ?? '', vars, escape) : undefined;
  };
  const isAdd = i.keyword === 'ADD';
  const raw = i.json ?? splitWords(i.text, escape);
  const words = raw.map((w) => (w.startsWith('<<') && i.heredocs.length > 0 ? w : processWord(w, vars, escape)));
  if (words.length < 2) throw new SkiffError(`${i.keyword} requires at least two arguments: SOURCE... DESTINATION`);
  const destWritten = words[words.length - 1]!;
  const config = api.state.image.config.config ?? {};
  const workdir = config.WorkingDir || '/';
  const destIsDir = destWritten.endsWith('/') || destWritten.endsWith('/.') || destWritten === '.';
  const dest = normalizeAbsolute(destWritten.startsWith('/') ? destWritten : `${workdir}/${destWritten}`);
  const fromRef = flag('from');
  const chown = flag('chown');
  const chmod = flag('chmod');
  const checksum = flag('checksum');
  const mode = chmod !== undefined ? parseMode(chmod) : undefined;
  const excludes = i.flags.filter((f) => f.name === 'exclude').map((f) => processWord(f.value ?? '', vars, escape));
  if (excludes.length > 0) throw new SkiffError(`${i.keyword} --exclude is not supported yet`);
  // BuildKit's labs flag (keep each source's directories below the context): refused rather than ignored.
  if (i.flags.some((f) => f.name === 'parents')) throw new SkiffError(`${i.keyword} --parents is not supported yet: name the destination directories in the COPY lines`);
  if (checksum !== undefined && !isAdd) throw new SkiffError('--checksum is for ADD of a URL');

  // What is copied, and its digest for the cache key.
  const sources: CopySource[] = [];
  const digest = createHash('sha256');
  let fromImage: string | undefined;
  if (fromRef !== undefined) {
    fromImage = api.stageImage(fromRef) ?? (await api.req.resolveImage(fromRef, api.req.pull)).id;
    digest.update(`from\0${fromImage}\0`);
  }
  for (const w of words.slice(0, -1)) {
    if (w.startsWith('<<')) {
      const name = w.replace(/^<<-?["']?/, '').replace(/["']$/, '');
      const h = i.heredocs.find((x) => x.name === name);
      if (!h) throw new SkiffError(`${w}: no such heredoc`);
      const content = h.quoted ? h.content : expandHeredoc(h.content, vars);
      sources.push({ kind: 'heredoc', name, content });
      digest.update(`heredoc\0${name}\0${content}\0`);
    } else if (fromImage !== undefined) {
      if (/[*?[]/.test(w)) throw new SkiffError(`${i.keyword} --from=${fromRef} ${w}: wildcards in a path of another stage or image are not supported yet`);
      sources.push({ kind: 'image', image: fromImage, path: normalizeAbsolute(`/${w}`) });
      digest.update(`image\0${w}\0`);
    } else if (isAdd && /^https?:\/\//.test(w)) {
      sources.push({ kind: 'url', url: w });
      digest.update(`url\0${w}\0`);
    } else {
      const sels = selectSources(api.req.context, w, i.keyword);
      for (const sel of sels) sources.push({ kind: 'context', sel });
      digest.update(`context\0${sourcesDigest(api.req.context, sels)}\0`);
    }
  }
  const many = sources.length > 1 || words.slice(0, -1).some((w) => /[*?[]/.test(w));
  if (many && !destIsDir) {
    throw new SkiffError(`when using ${i.keyword} with more than one source file, the destination must be a directory and end with a /`);
  }

  // Owner: numbers, or names from the image's own /etc/passwd and /etc/group.
  let uid = 0;
  let gid = 0;
  if (chown !== undefined && chown !== '') {
    const ids = lookupUser(api.req.store, api.state.image.config.rootfs.diff_ids, chown);
    uid = ids.uid;
    gid = ids.gid;
  }

  // URLs are fetched before the key is known: their content is part of it.
  // The staging directory is made only when something is fetched or the step runs: a cache hit makes none.
  let staging: string | undefined;
  const stagingDir = () => {
    if (staging === undefined) {
      staging = makeTmpDir(api.req.store.paths, 'copy');
      mkdirSync(path.join(staging, 'c'), 0o755);
    }
    return staging;
  };
  try {
    const contentDir = () => path.join(stagingDir(), 'c');
    let n = 0;
    const fresh = () => path.join(stagingDir(), `s${n++}`);
    const downloads = new Map<string, string>();
    if (sources.some((s) => s.kind === 'url')) await api.req.beforeWrite();
    for (const s of sources) {
      if (s.kind !== 'url') continue;
      const p = fresh();
      digest.update(await download(s.url, p, checksum));
      downloads.set(s.url, p);
    }
    const text = `${i.keyword} ${[fromRef ? `--from=${fromRef}` : '', chown ? `--chown=${chown}` : '', chmod ? `--chmod=${chmod}` : ''].filter(Boolean).join(' ')} ${JSON.stringify(words.slice(0, -1))} ${dest}${destIsDir ? '/' : ''}`;
    const hex = digest.digest('hex');
    const key = stepKey(api, text, hex);
    const kind = sources.length === 1 && sources[0]!.kind === 'context' && sources[0]!.sel.st.isDirectory() ? 'dir' : sources.length > 1 ? 'multi' : 'file';
    const createdBy = nopCreatedBy(shellOf(config), `${i.keyword} ${fromRef ? `--from=${fromRef} ` : ''}${kind}:${hex} in ${dest}${destIsDir && dest !== '/' ? '/' : ''} `);
    const single = !many && !destIsDir;
    await api.filesystemStep(key, createdBy, async (ws) => {
      // Each source is staged at a path of its own, then placed: a directory's
      // contents merge into the destination, a file goes in under its name
      // (or, for one file to a destination without '/', becomes it).
      for (const s of sources) {
        const p = fresh();
        let base: string;
        if (s.kind === 'heredoc') {
          writeFileSync(p, s.content, { mode: 0o644 });
          base = s.name;
        } else if (s.kind === 'url') {
          renameSync(downloads.get(s.url)!, p);
          base = urlBase(s.url);
        } else if (s.kind === 'context') {
          const abs = api.req.context.abs(s.sel.rel);
          const archive = isAdd && s.sel.st.isFile() ? archiveKind(abs) : undefined;
          if (archive) {
            mkdirSync(p, 0o755);
            await unpackLocalArchive(abs, p);
          } else stageContextSource(api, s.sel, p);
          base = path.posix.basename(s.sel.rel);
        } else {
          await copyFromImage(api, s.image, s.path, p);
          base = path.posix.basename(s.path);
        }
        const isDir = lstatSync(p).isDirectory();
        if (single) renameSync(p, path.join(contentDir(), 'only'));
        else if (isDir) mergeInto(p, contentDir());
        else renameSync(p, path.join(contentDir(), base));
      }
      settle(contentDir(), uid, gid, mode);
      // The directories COPY makes for the destination are --chown's too (BuildKit's MkdirAll; Buildah's the same).
      const owner = chown !== undefined && chown !== '' ? { uid, gid } : undefined;
      let warnings: string[];
      if (single) {
        const only = path.join(contentDir(), 'only');
        warnings = lstatSync(only).isDirectory() ? await ws.copyIn(`${only}/.`, `${dest}/.`, owner) : await ws.copyIn(only, dest, owner);
      } else {
        warnings = await ws.copyIn(`${contentDir()}/.`, `${dest}/.`, owner);
      }
      for (const w of warnings) api.req.progress.warn(w);
    });
  } finally {
    if (staging !== undefined) rmSync(staging, { recursive: true, force: true });
  }
}

/** Moves the entries of `from` into `into`, merging directories both have. */
function mergeInto(from: string, into: string): void {
  for (const name of readdirSync(from)) {
    const src = path.join(from, name);
    const dst = path.join(into, name);
    let existing: Stats | undefined;
    try {
      existing = lstatSync(dst);
    } catch {
      existing = undefined;
    }
    if (existing?.isDirectory() && lstatSync(src).isDirectory()) mergeInto(src, dst);
    else {
      if (existing) rmSync(dst, { recursive: true, force: true });
      renameSync(src, dst);
    }
  }
}

/** ADD of a local archive: unpacked by the layer extractor (no escapes), owners from the archive. */
async function unpackLocalArchive(abs: string, into: string): Promise<void> {
  const { unpackArchive } = await import('./archive.js');
  const input = createReadStream('', { fd: openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW) });
  await unpackArchive(input, into, { what: abs, chown: true });
}

/** COPY --from: the path copied out of the stage's or image's root, beneath it, by the helper, to `dest` (which must not exist). */
async function copyFromImage(api: StepApi, image: string, src: string, dest: string): Promise<void> {
  const record = readImageRecord(api.req.store.paths, image);
  if (!record) throw new SkiffError(`image ${image} is missing from the store`);
  const ws = await newWorkspace(api.req.store, record.layers);
  try {
    for (const w of await ws.copyOut(src, dest)) api.req.progress.warn(w);
  } finally {
    ws.remove();
  }
}
