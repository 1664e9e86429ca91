// V8's code cache for skiff's own bundles (dist/*.cjs), kept per user.
//
// Node 20 compiles every CommonJS file from its source at each start (Node
// 22's module.enableCompileCache does not exist here), and then compiles each
// function again when it is first called. For `run --rm` that was some 13 ms
// of CPU in a ~70 ms process (measured rootless, 2026-12-07). V8 can save
// both as a code cache: compiled once, taken on the next start.
//
// So bin/skiff installs this loader before the first bundle: a file under
// dist/ is compiled as Node would (the same wrapper, run with the same
// arguments), given the cache from an earlier run when there is one, and at
// the process's exit the cache of every bundle that had none (or had one V8
// refused) is written, after the command ran, so that it holds the functions
// the command used too. Files elsewhere are Node's as ever.
//
// A cache holds only the functions compiled by the run that wrote it; parts
// of the code that only some runs take (lib/code-parts.ts: the default
// network's planning, published ports, the monitor's start, user-defined
// networks, bind mounts, volumes) are marked as a run enters them, and each file's first
// byte records the parts its writer took. At exit, a bundle whose cache lacks
// a part this run took has its cache written again, with it: so a first
// `--network none` run no longer leaves every later default-network run
// compiling that code (1.1 ms of a run, measured rootless, 2026-12-07), and
// the rewrite happens once per bundle and part.
//
// Where: $XDG_CACHE_HOME/skiff/code-cache (else ~/.cache/skiff/code-cache),
// a directory of the user's own with mode 0700; one that is not (another
// owner, or open to others) is not used, since its files become code, and
// none is made where the nearest existing directory is another user's (root
// run with a user's HOME). A file is named after its bundle's name, size,
// mtime and inode, V8's version and this layout (".1"), so a new install or
// Node writes new ones (of each bundle the three newest others stay, the
// rest are removed then); V8 refuses a cache made with other flags. Anything that
// fails here (no HOME, a read-only home) costs only the speed: the bundle is
// compiled from its source.
import { closeSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { ensurePrivateDir, isPrivateDir, skiffCacheDir } from './cache-dir.js';
import { usedCodeParts } from './code-parts.js';
import vm from 'node:vm';

/** A cache file's header: the mask of the parts (code-parts.ts) in its first byte. */
const HEADER = 8;

interface CompilingModule {
  exports: unknown;
  require(id: string): unknown;
}

type Compile = (this: CompilingModule, content: string, filename: string) => unknown;

interface Loaded {
  script: vm.Script;
  file: string;
  bundle: string;
  /** The parts (code-parts.ts) its cache holds; undefined: it had none, or one V8 refused. */
  parts: number | undefined;
}

/** The cache directory for this user's environment, or undefined when there is none to use. */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = skiffCacheDir(env);
  return base === undefined ? undefined : path.join(base, 'code-cache');
}

/** Writes the cache of each of `pending`, recording `parts` (the parts its old cache held and this run's). */
function writeCaches(dir: string, pending: Loaded[], used: number): void {
  if (!ensurePrivateDir(dir)) return;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    // Nothing to clean.
  }
  /** Other installs of a bundle (other checkouts, Node versions) keep this many caches each; older ones go. */
  const KEEP = 3;
  for (const { script, file, bundle, parts } of pending) {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      const data = script.createCachedData();
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        const header = new Uint8Array(HEADER);
        header[0] = (parts ?? 0) | used;
        writeSync(fd, header);
        writeSync(fd, data);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
      // The caches of this bundle's other installs: the newest few stay (two checkouts used in turn keep theirs).
      const others = names
        .filter((name) => name.startsWith(`${bundle}-`) && !name.endsWith('.tmp') && path.join(dir, name) !== file)
        .map((name) => ({ name, mtime: statSync(path.join(dir, name)).mtimeMs }))
        .sort((a, b) => b.mtime - a.mtime);
      for (const { name } of others.slice(KEEP)) unlinkSync(path.join(dir, name));
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        // Not made.
      }
    }
  }
}

/**
 * Compiles the files under `distDir` with the code cache from now on. Call
 * once, before the first of them is required.
 */
export function useCodeCache(distDir: string, env: NodeJS.ProcessEnv = process.env): void {
  const dir = codeCacheDir(env);
  if (dir === undefined) return;
  const usable = isPrivateDir(dir);
  const proto = Module.prototype as unknown as { _compile: Compile };
  const original = proto._compile;
  const prefix = `${path.resolve(distDir)}${path.sep}`;
  const loaded: Loaded[] = [];
  proto._compile = function (this: CompilingModule, content: string, filename: string): unknown {
    if (!filename.startsWith(prefix)) return original.call(this, content, filename);
    let st;
    try {
      st = statSync(filename);
    } catch {
      return original.call(this, content, filename);
    }
    const bundle = path.basename(filename);
    const file = path.join(dir, `${bundle}-${st.size}-${Math.trunc(st.mtimeMs)}-${st.ino}-${process.versions.v8}.1`);
    // The file: the parts its writer took (a byte, padded to 8 so that V8's data stays aligned and is not copied), then V8's data.
    let cachedData: Buffer | undefined;
    let parts = 0;
    if (usable) {
      try {
        const raw = readFileSync(file);
        if (raw.length > HEADER) {
          parts = raw[0]!;
          cachedData = raw.subarray(HEADER);
        }
      } catch {
        // None yet.
      }
    }
    const script = new vm.Script(Module.wrap(content), { filename, ...(cachedData ? { cachedData } : {}) });
    loaded.push({ script, file, bundle, parts: cachedData === undefined || script.cachedDataRejected === true ? undefined : parts });
    const wrapper = script.runInThisContext() as (exports: unknown, require: unknown, module: unknown, filename: string, dirname: string) => unknown;
    // What Node's own loader passes: a require bound to this module.
    const mod = this;
    const requireFn = Object.assign((id: string) => mod.require(id), {
      resolve: (request: string, options?: { paths?: string[] }) =>
        (Module as unknown as { _resolveFilename(r: string, m: unknown, main: boolean, o?: unknown): string })._resolveFilename(request, mod, false, options),
      cache: (Module as unknown as { _cache: unknown })._cache,
    });
    return wrapper.call(mod.exports, mod.exports, requireFn, mod, filename, path.dirname(filename));
  };
  process.once('exit', () => {
    // Written: a bundle without a cache (or with one V8 refused), and one whose cache lacks a part this run took.
    const used = usedCodeParts();
    const pending = loaded.filter((l) => l.parts === undefined || (used & ~l.parts) !== 0);
    if (pending.length > 0) writeCaches(dir, pending, used);
  });
}
