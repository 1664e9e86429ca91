// containers.conf (containers.conf(5)): the TOML file in which Podman and
// Buildah users set their engine's defaults. skiff reads the same files in
// the same order, so a host or user that sets a default for Podman gets it
// from skiff too. The keys skiff honours are listed in CONTAINERS_CONF_KEYS;
// the others belong to Podman's engine (as each engine honours its own subset).
//
// Every run on the default network reads them, and parsing Podman's own
// /usr/share/containers/containers.conf (24 KB, mostly comments) took 2-6 ms
// of each run here. So what skiff took from each file is kept in a small
// per-user cache, $XDG_CACHE_HOME/skiff/containers-conf.json (else
// ~/.cache/skiff), under the file's device, inode, size, mtime and ctime
// (nanoseconds): a file that changes in any way is parsed again, and a file
// that fails to parse is never kept, so its error shows at every run as
// before. The cache is used only in a directory of the user's own that no
// one else may write (what it holds picks the network mode), and made only
// where the code cache would be (lib/cache-dir.ts); anything that fails there
// costs only the parse.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { FileResultsCache, privateCacheFile } from '../cache-dir.js';
import { errnoCode, SkiffError } from '../errors.js';

/** The keys skiff takes from containers.conf, by table. */
export const CONTAINERS_CONF_KEYS = ['containers.netns'] as const;

export interface ContainersConf {
  /** [containers] netns: the network mode of run, create and build when none is given. */
  netns?: { value: string; file: string };
}

type Env = Record<string, string | undefined>;

function dropIns(dir: string): string[] {
  // Most hosts have none: asked without an exception first (one costs more than the stat).
  if (statSync(dir, { throwIfNoEntry: false }) === undefined) return [];
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.conf')).sort().map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/**
 * The files read, in order (a later file's key wins). CONTAINERS_CONF names
 * the only file; else the system's, then its drop-ins, then the user's
 * (rootless only, as Podman); CONTAINERS_CONF_OVERRIDE comes last either way.
 */
export function containersConfFiles(env: Env, uid: number, home: string): string[] {
  const files: string[] = [];
  const only = env['CONTAINERS_CONF'];
  if (only) {
    files.push(only);
  } else {
    files.push('/usr/share/containers/containers.conf', '/etc/containers/containers.conf', ...dropIns('/etc/containers/containers.conf.d'));
    if (uid !== 0) {
      const xdg = env['XDG_CONFIG_HOME'];
      const config = xdg && path.isAbsolute(xdg) ? xdg : path.join(env['HOME'] || home, '.config');
      files.push(path.join(config, 'containers/containers.conf'), ...dropIns(path.join(config, 'containers/containers.conf.d')));
    }
  }
  const override = env['CONTAINERS_CONF_OVERRIDE'];
  if (override) files.push(override);
  return files;
}

function readToml(file: string, required: boolean): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (!required && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
    throw new SkiffError(`cannot read containers.conf ${file}: ${code ?? (err as Error).message}`);
  }
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof TomlError ? `line ${err.line}: ${err.message.split('\n')[0]}` : (err as Error).message;
    throw new SkiffError(`invalid containers.conf ${file}: ${where}`);
  }
}

/** What skiff takes from one file: [containers] netns, when the file sets it. */
interface FileSettings {
  netns?: string;
}

function settingsOf(file: string, doc: Record<string, unknown> | undefined): FileSettings {
  const containers = doc?.['containers'];
  if (typeof containers !== 'object' || containers === null) return {};
  const netns = (containers as Record<string, unknown>)['netns'];
  if (netns === undefined) return {};
  if (typeof netns !== 'string') throw new SkiffError(`invalid containers.conf ${file}: [containers] netns must be a string, e.g. netns = "none"`);
  return { netns };
}

interface CacheEntry {
  id: string;
  settings: FileSettings;
}

const CACHE_VERSION = 1;

/** The file's identity for the cache; undefined when it does not exist (and need not). */
function fileId(file: string, required: boolean): string | undefined {
  try {
    const st = statSync(file, { bigint: true, throwIfNoEntry: required });
    if (st === undefined) return undefined;
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (err) {
    const code = errnoCode(err);
    if (!required && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
    throw new SkiffError(`cannot read containers.conf ${file}: ${code ?? (err as Error).message}`);
  }
}

/** The settings skiff honours, from every containers.conf file there is. */
export function readContainersConf(env: Env = process.env, uid: number = process.getuid?.() ?? 0, home: string = homedir()): ContainersConf {
  const conf: ContainersConf = {};
  const named = new Set([env['CONTAINERS_CONF'], env['CONTAINERS_CONF_OVERRIDE']].filter(Boolean));
  const files = containersConfFiles(env, uid, home);
  const cache = new FileResultsCache<CacheEntry>(privateCacheFile('containers-conf.json', env), CACHE_VERSION);
  for (const file of files) {
    const required = named.has(file);
    const id = fileId(file, required);
    if (id === undefined) continue;
    const old = cache.old(file) as Partial<CacheEntry> | null | undefined;
    const hit = typeof old === 'object' && old !== null && old.id === id && typeof old.settings === 'object' && old.settings !== null;
    const entry: CacheEntry = hit ? (old as CacheEntry) : { id, settings: settingsOf(file, readToml(file, required)) };
    cache.use(file, entry, !hit);
    if (typeof entry.settings.netns === 'string') conf.netns = { value: entry.settings.netns, file };
  }
  cache.save();
  return conf;
}
