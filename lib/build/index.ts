// `skiff build` as a library call: the Dockerfile and context found and read,
// the build run under the store's shared lock, the result tagged. Loaded
// lazily (dist/lazy/build.cjs): no other command loads dockerfile-ast.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { pullInChild } from '../images/pull-child.js';
import { openStoreForWriting } from '../store/store.js';
import { lockStore } from '../store/lock.js';
import { cleanTmp } from '../store/atomic.js';
import { findImage } from '../store/lookup.js';
import { writeName } from '../store/names.js';
import { readContextDigests, writeContextDigests } from '../store/build-cache.js';
import { BuildContext, parseIgnoreFile, readTextFile } from './context.js';
import { parseDockerfile } from './dockerfile.js';
import { Builder, checkPlatform, NeedsNamespace, type PullPolicy } from './builder.js';
import { ProgressPrinter } from './progress.js';

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
  /** Rootless, outside the store's user namespace: finish only if every step is cached (else NeedsNamespace). */
  cachedOnly?: boolean;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function isTarLike(data: Buffer): boolean {
  return (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) || (data.length >= 262 && data.toString('latin1', 257, 262) === 'ustar');
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
        unpacked = mkdtempSync(path.join(os.tmpdir(), 'skiff-context-'));
        const { unpackLayer } = await import('../store/unpack.js');
        const { LayerDecoder } = await import('../store/decompress.js');
        await unpackLayer(Readable.from(stdin!).pipe(new LayerDecoder('the context on stdin')), unpacked, {});
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
    const dockerfile = parseDockerfile(dockerfileText!, dockerfileName!);
    let ignore: string[] = [];
    if (contextDir !== undefined) {
      const candidates = [...(dockerfilePath ? [`${dockerfilePath}.dockerignore`] : []), path.join(contextDir, '.dockerignore'), path.join(contextDir, '.containerignore')];
      const found = candidates.find((c) => existsSync(c));
      if (found) ignore = parseIgnoreFile(readFileSync(found, 'utf8'));
    }
    const context = new BuildContext(contextDir, ignore);

    const store = openStoreForWriting();
    const lock = await lockStore(store.paths, 'shared');
    try {
      if (!o.cachedOnly) cleanTmp(store.paths);
      const progress = new ProgressPrinter(o.quiet, o.cachedOnly === true);
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
        resolveImage: async (name, policy) => {
          if (o.cachedOnly) {
            if (policy === 'always') throw new NeedsNamespace();
            return (await findImage(store, name).catch(() => {
              throw new NeedsNamespace();
            })).record;
          }
          if (policy === 'always') {
            await pullInChild(name, o.quiet ? ['-q'] : []);
            return (await findImage(store, name)).record;
          }
          try {
            return (await findImage(store, name)).record;
          } catch (err) {
            if (policy === 'never' || !(err instanceof SkiffError)) throw err;
            await pullInChild(name, o.quiet ? ['-q'] : []);
            return (await findImage(store, name)).record;
          }
        },
      });
      const contextKey = contextDir !== undefined && unpacked === undefined ? `sha256:${createHash('sha256').update(contextDir).digest('hex')}` : undefined;
      if (contextKey) context.knownDigests = readContextDigests(store.paths, contextKey);
      let id: string;
      try {
        id = await builder.build();
      } catch (err) {
        // What was held back leads up to the error (unless the build goes on in the user namespace).
        if (!(err instanceof NeedsNamespace)) progress.flush();
        throw err;
      }
      progress.flush();
      if (contextKey && (context.digestsChanged || Object.keys(context.usedDigests).length !== Object.keys(context.knownDigests).length)) {
        writeContextDigests(store.paths, contextKey, context.usedDigests);
      }
      if (tags.length > 0) progress.commit(tags);
      for (const t of tags) {
        await writeName(store.paths, parseReference(t), id);
        progress.tagged(t);
      }
      if (o.iidfile !== undefined) writeFileSync(o.iidfile, id);
      process.stdout.write(`${id.replace(/^sha256:/, '')}\n`);
      return 0;
    } finally {
      lock.release();
    }
  } finally {
    if (unpacked) rmSync(unpacked, { recursive: true, force: true });
  }
}
