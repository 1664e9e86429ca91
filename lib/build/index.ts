// `skiff build` as a library call: the Dockerfile and context found and read,
// the build run under the store's shared lock, the result tagged. Loaded
// lazily (dist/lazy/build.cjs): no other command loads dockerfile-ast.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SkiffError, cannotWrite } from '../errors.js';
import { VERSION } from '../version.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { openStoreForWriting, type Store } from '../store/store.js';
import { lockStore, sharedWithoutLock, type StoreLock } from '../store/lock.js';
import { cleanTmp } from '../store/atomic.js';
import { findImage } from '../store/lookup.js';
import { writeName } from '../store/names.js';
import { readContextDigests, readParsedDockerfile, writeContextDigests, writeParsedDockerfile } from '../store/build-cache.js';
import { BuildContext, parseIgnoreFile, readTextFile } from './context.js';
import type { Dockerfile } from './dockerfile.js';
import { Builder, checkPlatform, NotFullyCached, type PullPolicy } from './builder.js';
import { ProgressPrinter } from './progress.js';
import { makeTempDir } from '../paths.js';

export interface BuildOptions {
  /** A directory, or '-' (a tar, or a Dockerfile, on stdin). */
  context: string;
  file: string | undefined;
  tags: string[];
  target: string | undefined;
  buildArgs: string[];
  noCache: boolean;
  pull: PullPolicy;
  labels: string[];
  iidfile: string | undefined;
  quiet: boolean;
  network: 'default' | 'none' | 'host';
  secrets: string[];
  platform: string | undefined;
  squash: boolean;
  timestamp: string | undefined;
  /** Start without the store lock, taking it at the first write (NotFullyCached when garbage collection ran meanwhile). */
  lockLazily?: boolean;
  /** Rootless, outside the store's user namespace: finish only if every step is cached (else NotFullyCached). Implies lockLazily. */
  cachedOnly?: boolean;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A tar, plain, gzip or zstd (else stdin holds a Dockerfile). */
function isTarLike(data: Buffer): boolean {
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) return true;
  if (data.length >= 4 && data.readUInt32LE(0) === 0xfd2fb528) return true;
  return data.length >= 262 && data.toString('latin1', 257, 262) === 'ustar';
}

/** KEY=VALUE; KEY alone takes its value from the environment (dropped when unset), as Docker. */
function parseBuildArgs(list: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of list) {
    const eq = a.indexOf('=');
    const key = eq < 0 ? a : a.slice(0, eq);
    if (key === '') throw new SkiffError(`invalid --build-arg "${a}": the name is empty`);
    const value = eq < 0 ? process.env[key] : a.slice(eq + 1);
    if (value !== undefined) out.set(key, value);
  }
  return out;
}

function parseLabels(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf('=');
    const key = eq < 0 ? l : l.slice(0, eq);
    if (key === '') throw new SkiffError(`invalid --label "${l}": the key is empty`);
    out[key] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

/** --secret id=ID,src=FILE (or type=file; env=VAR is not supported). */
function parseSecrets(list: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of list) {
    const fields = new Map(s.split(',').map((kv) => [kv.slice(0, kv.indexOf('=') < 0 ? kv.length : kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
    const id = fields.get('id');
    const src = fields.get('src') ?? fields.get('source');
    if (!id || !src) throw new SkiffError(`invalid --secret "${s}": expected id=ID,src=FILE`);
    if (!existsSync(src)) throw new SkiffError(`--secret ${id}: no such file ${src}`);
    out.set(id, path.resolve(src));
  }
  return out;
}

function parseTimestamp(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new SkiffError(`invalid timestamp "${text}": expected seconds since the epoch`);
  return Number(text);
}

/** Bump when the parsed form (dockerfile.ts's Dockerfile) changes. */
const PARSED_FORMAT = 2;

/**
 * The Dockerfile's instructions: from the build cache when this path held
 * this text before (a cached build loads no parser, ~30 ms), else parsed
 * (dockerfile.ts, its own lazy bundle with dockerfile-ast) and kept.
 */
async function loadDockerfile(store: Store, text: string, name: string, file: string | undefined): Promise<Dockerfile> {
  const pathKey = file !== undefined ? `sha256:${createHash('sha256').update(file).digest('hex')}` : undefined;
  const textKey = `sha256:${createHash('sha256').update(`${PARSED_FORMAT}\0${VERSION}\0${text}`).digest('hex')}`;
  if (pathKey) {
    const parsed = readParsedDockerfile(store.paths, pathKey, textKey) as Omit<Dockerfile, 'file'> | undefined;
    if (parsed && Array.isArray(parsed.instructions)) return { ...parsed, file: name };
  }
  const { parseDockerfile } = await import('./dockerfile.js');
  const dockerfile = parseDockerfile(text, name);
  if (pathKey) {
    const { file: _shownAs, ...parsed } = dockerfile;
    try {
      writeParsedDockerfile(store.paths, pathKey, textKey, parsed);
    } catch {
      // only a hint for the next build
    }
  }
  return dockerfile;
}

export async function runBuild(o: BuildOptions): Promise<number> {
  if (o.platform !== undefined) checkPlatform(o.platform);
  const tags = o.tags.map((t) => formatReference(parseReference(t)));
  const buildArgs = parseBuildArgs(o.buildArgs);
  const labels = parseLabels(o.labels);
  const secrets = parseSecrets(o.secrets);
  const timestamp = parseTimestamp(o.timestamp);

  // The context and the Dockerfile.
  let contextDir: string | undefined;
  let dockerfileText: string;
  let dockerfileName: string;
  let dockerfilePath: string | undefined;
  let unpacked: string | undefined;
  const stdin = o.context === '-' || o.file === '-' ? await readStdin() : undefined;
  try {
    if (o.context === '-') {
      if (o.file === '-') throw new SkiffError('the context and the Dockerfile cannot both come from stdin');
      if (isTarLike(stdin!)) {
        unpacked = makeTempDir('skiff-context-');
        const { unpackArchive } = await import('./archive.js');
        await unpackArchive(Readable.from(stdin!), unpacked, { what: 'the context on stdin', chown: false });
        contextDir = unpacked;
      } else {
        dockerfileText = stdin!.toString('utf8');
        dockerfileName = '-';
      }
    } else {
      contextDir = path.resolve(o.context);
      let st;
      try {
        st = statSync(contextDir);
      } catch {
        throw new SkiffError(`the build context ${o.context} does not exist`);
      }
      if (!st.isDirectory()) throw new SkiffError(`the build context ${o.context} is not a directory`);
    }
    if (o.file === '-') {
      dockerfileText = stdin!.toString('utf8');
      dockerfileName = '-';
    } else if (contextDir !== undefined) {
      if (o.file !== undefined) dockerfilePath = path.isAbsolute(o.file) ? o.file : o.context === '-' ? path.join(contextDir, o.file) : path.resolve(o.file);
      else dockerfilePath = ['Dockerfile', 'Containerfile'].map((n) => path.join(contextDir!, n)).find((p) => existsSync(p)) ?? path.join(contextDir, 'Dockerfile');
      dockerfileText = readTextFile(dockerfilePath, 'the Dockerfile');
      dockerfileName = path.relative(process.cwd(), dockerfilePath) || dockerfilePath;
      if (dockerfileName.startsWith('..')) dockerfileName = dockerfilePath;
    }
    const store = openStoreForWriting();
    const dockerfile = await loadDockerfile(store, dockerfileText!, dockerfileName!, dockerfilePath);
    let ignore: string[] = [];
    if (contextDir !== undefined) {
      const candidates = [...(dockerfilePath ? [`${dockerfilePath}.dockerignore`] : []), path.join(contextDir, '.dockerignore'), path.join(contextDir, '.containerignore')];
      const found = candidates.find((c) => existsSync(c));
      if (found) ignore = parseIgnoreFile(readFileSync(found, 'utf8'));
    }
    const context = new BuildContext(contextDir, ignore);

    // With lockLazily the build starts without the store lock (lock.ts,
    // sharedWithoutLock): a fully cached build only reads and names, and
    // spawns no flock. The first write takes the lock, after checking that
    // no garbage collection ran meanwhile; a cachedOnly build holds its
    // output back until it knows it will finish.
    const lazily = o.lockLazily === true || o.cachedOnly === true;
    const progress = new ProgressPrinter(o.quiet, lazily);
    let section = lazily ? sharedWithoutLock(store.paths) : undefined;
    if (lazily && !section) throw new NotFullyCached();
    let lock: StoreLock | undefined;
    const takeLock = async () => {
      if (lock) return;
      lock = await lockStore(store.paths, 'shared');
      if (section && !section.unchanged()) throw new NotFullyCached();
      section = undefined;
      // Rootless outside the user namespace, a killed build's files are not ours to remove.
      if (!o.cachedOnly) cleanTmp(store.paths);
      if (!o.cachedOnly) progress.flush();
    };
    const contextKey = contextDir !== undefined && unpacked === undefined ? `sha256:${createHash('sha256').update(contextDir).digest('hex')}` : undefined;
    const saveContextDigests = (all: boolean) => {
      if (!contextKey || (!context.digestsChanged && Object.keys(context.usedDigests).length === Object.keys(context.knownDigests).length)) return;
      try {
        writeContextDigests(store.paths, contextKey, all ? { ...context.knownDigests, ...context.usedDigests } : context.usedDigests);
      } catch {
        // only hints for the next build
      }
    };
    try {
      if (!lazily) await takeLock();
      const builder = new Builder({
        store,
        dockerfile,
        context,
        ...(o.target !== undefined ? { target: o.target } : {}),
        buildArgs,
        noCache: o.noCache,
        pull: o.pull,
        labels,
        network: o.network,
        secrets,
        squash: o.squash,
        ...(timestamp !== undefined ? { timestamp } : {}),
        progress,
        ...(o.cachedOnly ? { cachedOnly: true } : {}),
        beforeWrite: takeLock,
        resolveImage: async (name, policy) => {
          if (o.cachedOnly) {
            if (policy === 'always') throw new NotFullyCached();
            return (await findImage(store, name).catch(() => {
              throw new NotFullyCached();
            })).record;
          }
          const pull = async () => {
            await takeLock();
            const { pullInChild } = await import('../images/pull-child.js');
            await pullInChild(name, o.quiet ? ['-q'] : []);
            return (await findImage(store, name)).record;
          };
          if (policy === 'always') return pull();
          try {
            return (await findImage(store, name)).record;
          } catch (err) {
            if (policy === 'never' || !(err instanceof SkiffError)) throw err;
            return pull();
          }
        },
      });
      if (contextKey) context.knownDigests = readContextDigests(store.paths, contextKey);
      let id: string;
      try {
        id = await builder.build();
      } catch (err) {
        if (err instanceof NotFullyCached) {
          // The full build that follows need not read the context's files again.
          saveContextDigests(true);
        } else progress.flush(); // what was held back leads up to the error
        throw err;
      }
      saveContextDigests(false);
      if (tags.length > 0) progress.commit(tags);
      try {
        for (const t of tags) {
          await writeName(store.paths, parseReference(t), id);
          progress.tagged(t);
        }
      } catch (err) {
        // Without the lock, garbage collection may have emptied tmp/ under the write.
        if (section && !section.unchanged()) throw new NotFullyCached();
        throw err;
      }
      // Names written without the lock to an image that garbage collection removed meanwhile are written again by the full build.
      if (section && !section.unchanged()) throw new NotFullyCached();
      progress.flush();
      if (o.iidfile !== undefined) {
        try {
          writeFileSync(o.iidfile, id);
        } catch (err) {
          throw cannotWrite(o.iidfile, err);
        }
      }
      process.stdout.write(`${id.replace(/^sha256:/, '')}\n`);
      return 0;
    } finally {
      (lock as StoreLock | undefined)?.release();
    }
  } finally {
    if (unpacked) rmSync(unpacked, { recursive: true, force: true });
  }
}
