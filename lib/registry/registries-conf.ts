// containers-registries.conf(5): which registries to search for a short name,
// and, per name prefix, where the registry really is (location), its mirrors,
// and whether it is insecure or blocked. Files and precedence as in
// containers/image (containers-registries.conf.d(5)):
//
//   - $SKIFF_REGISTRIES_CONF, when set: that file alone (it must exist).
//   - else the user's $XDG_CONFIG_HOME/containers/registries.conf (default
//     ~/.config/…), when it exists, REPLACES the system file, and only the
//     user's registries.conf.d/ drop-ins are read after it;
//   - else /etc/containers/registries.conf, then the drop-ins of
//     /etc/containers/registries.conf.d/ and then of the user's registries.conf.d/.
//
// Drop-ins are the *.conf files of a directory, in name order, in the v2 format.
// A drop-in replaces unqualified-search-registries, short-name-mode and
// credential-helpers when it sets them, replaces a [[registry]] of the same
// prefix, adds new ones, and merges [aliases] (an empty value erases one).
//
// The files are TOML, parsed by smol-toml with each key's line kept (toml.ts).
// Everything after it works on plain objects, so a TOML library can replace it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { FileResultsCache, privateCacheDir } from '../cache-dir.js';
import { errnoCode, SkiffError } from '../errors.js';
import {
  type ImageReference,
  formatReference,
  isRegistryHost,
  isUnqualifiedName,
  parseReference,
  splitReference,
} from '../oci/reference.js';
import { isTable, parseToml, TomlSyntaxError, type ParsedToml, type TomlTable } from './toml.js';

export { parseToml, TomlSyntaxError, type ParsedToml, type TomlTable, type TomlValue } from './toml.js';

export const SYSTEM_REGISTRIES_CONF = '/etc/containers/registries.conf';
export const SYSTEM_REGISTRIES_CONF_DIR = '/etc/containers/registries.conf.d';

export type ShortNameMode = 'enforcing' | 'permissive' | 'disabled';
export type PullFromMirror = 'all' | 'digest-only' | 'tag-only';

export interface MirrorEntry {
  location: string;
  insecure: boolean;
  /** Unset means "all". */
  pullFromMirror?: PullFromMirror;
}

export interface RegistryEntry {
  /** The name prefix this entry applies to: "example.com/foo", "*.example.com". */
  prefix: string;
  /** Where that namespace really lives; empty only for a wildcard prefix (no rewrite). */
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrorByDigestOnly: boolean;
  mirrors: MirrorEntry[];
  /** The file that defined this entry, for messages. */
  file: string;
}

export interface RegistriesConf {
  /** host[:port] registries to try, in order, for a short name. */
  unqualifiedSearchRegistries: string[];
  /** One entry per prefix, sorted by prefix. */
  registries: RegistryEntry[];
  /** Unset means the file did not say; containers/image then uses "permissive". */
  shortNameMode?: ShortNameMode;
  credentialHelpers?: string[];
  /** Short name → fully-qualified name, neither with tag or digest. */
  aliases: Map<string, string>;
  /** The files read, in order. */
  files: string[];
}

/** An empty configuration: short names go to Docker Hub, nothing is rewritten. */
export function emptyRegistriesConf(): RegistriesConf {
  return { unqualifiedSearchRegistries: [], registries: [], aliases: new Map(), files: [] };
}

// ─── Which files ────────────────────────────────────────────────────────────

export interface RegistriesConfPaths {
  /** The main file: the override, the user's file, or the system file. */
  main: string;
  /** A missing main file is an error (true for an explicit override). */
  mainRequired: boolean;
  /** Directories whose *.conf files are read after the main file, in this order. */
  dropInDirs: string[];
}

/** Decides which files make up the configuration, from the environment and what exists. */
export function registriesConfPaths(env: NodeJS.ProcessEnv = process.env): RegistriesConfPaths {
  const override = env.SKIFF_REGISTRIES_CONF;
  if (override) return { main: override, mainRequired: true, dropInDirs: [] };
  const xdg = env.XDG_CONFIG_HOME;
  const configHome = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.config');
  const userFile = join(configHome, 'containers', 'registries.conf');
  const userDir = join(configHome, 'containers', 'registries.conf.d');
  if (existsSync(userFile)) return { main: userFile, mainRequired: false, dropInDirs: [userDir] };
  return { main: SYSTEM_REGISTRIES_CONF, mainRequired: false, dropInDirs: [SYSTEM_REGISTRIES_CONF_DIR, userDir] };
}

/**
 * Reads and merges the configuration files; a malformed one is a SkiffError
 * naming file and line. `cacheDir`: where parsed files are kept (see
 * ParsedFilesCache); undefined parses every file.
 */
export function loadRegistriesConf(paths: RegistriesConfPaths = registriesConfPaths(), cacheDir: string | undefined = privateCacheDir()): RegistriesConf {
  const conf = emptyRegistriesConf();
  const cache = new ParsedFilesCache(cacheDir);
  const main = readConfFile(paths.main, paths.mainRequired);
  if (main !== undefined) mergeInto(conf, cache.parse(main, paths.main, false));
  for (const dir of paths.dropInDirs) {
    for (const file of dropInFiles(dir)) {
      const text = readConfFile(file, false);
      // A drop-in removed between listing and reading is an expected race.
      if (text !== undefined) mergeInto(conf, cache.parse(text, file, true));
    }
  }
  cache.save();
  conf.registries.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  return conf;
}

interface CachedFile {
  text: string;
  dropIn: boolean;
  parsed: Omit<RegistriesConfFile, 'aliases'> & { aliases: Array<[string, string]> };
}

const CACHE_VERSION = 1;

/**
 * Parsed files, kept in $XDG_CACHE_HOME/skiff/registries-conf.json
 * (FileResultsCache, in a directory of the user's own, closed to others:
 * lib/cache-dir.ts) under their whole text: the TOML parse of the usual two
 * files (registries.conf and shortnames.conf) is 5-10 ms, most of what a pull
 * of a stored image spends on its own work. A file whose text differs in any
 * byte is parsed again; a file that does not parse is never kept.
 */
class ParsedFilesCache {
  private readonly cache: FileResultsCache<CachedFile>;

  constructor(cacheDir: string | undefined) {
    this.cache = new FileResultsCache(cacheDir === undefined ? undefined : join(cacheDir, 'registries-conf.json'), CACHE_VERSION);
  }

  parse(text: string, file: string, dropIn: boolean): RegistriesConfFile {
    const hit = this.cache.old(file) as Partial<CachedFile> | null | undefined;
    if (typeof hit === 'object' && hit !== null && hit.text === text && hit.dropIn === dropIn && typeof hit.parsed === 'object' && hit.parsed !== null && Array.isArray(hit.parsed.aliases)) {
      this.cache.use(file, hit as CachedFile, false);
      return { ...hit.parsed, aliases: new Map(hit.parsed.aliases) };
    }
    const parsed = parseRegistriesConf(text, file, { dropIn });
    this.cache.use(file, { text, dropIn, parsed: { ...parsed, aliases: [...parsed.aliases] } }, true);
    return parsed;
  }

  save(): void {
    this.cache.save();
  }
}

function readConfFile(file: string, required: boolean): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (!required && (code === 'ENOENT' || code === 'EISDIR')) return undefined;
    if (code === 'ENOENT') throw new SkiffError(`registries configuration ${file} does not exist`);
    throw new SkiffError(`cannot read registries configuration ${file}: ${(err as Error).message}`);
  }
}

function dropInFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => !entry.isDirectory() && entry.name.endsWith('.conf'))
      .map((entry) => entry.name);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new SkiffError(`cannot read registries configuration directory ${dir}: ${(err as Error).message}`);
  }
  return names.sort().map((name) => join(dir, name));
}

// ─── One file ───────────────────────────────────────────────────────────────

/** What one file sets; unset fields leave earlier files' values alone when merged. */
export interface RegistriesConfFile {
  file: string;
  unqualifiedSearchRegistries?: string[];
  registries: RegistryEntry[];
  shortNameMode?: ShortNameMode;
  credentialHelpers?: string[];
  /** An empty value erases the alias. */
  aliases: Map<string, string>;
}

/** Parses and checks one file's text. Drop-ins must use the v2 format. */
export function parseRegistriesConf(
  text: string,
  file: string,
  opts: { dropIn: boolean } = { dropIn: false },
): RegistriesConfFile {
  let doc: ParsedToml;
  try {
    doc = parseToml(text);
  } catch (err) {
    if (err instanceof TomlSyntaxError) throw new SkiffError(`${file}:${err.line}: ${err.message}`);
    throw err;
  }
  return new ConfDecoder(file, doc).decode(opts.dropIn);
}

const V2_KEYS = [
  'registry',
  'unqualified-search-registries',
  'credential-helpers',
  'short-name-mode',
  'additional-layer-store-auth-helper',
  'aliases',
];

class ConfDecoder {
  constructor(
    private readonly file: string,
    private readonly doc: ParsedToml,
  ) {}

  fail(problem: string, table?: TomlTable, key?: string): never {
    const line = table === undefined ? undefined : this.doc.line(table, key);
    throw new SkiffError(line === undefined ? `${this.file}: ${problem}` : `${this.file}:${line}: ${problem}`);
  }

  decode(dropIn: boolean): RegistriesConfFile {
    const root = this.doc.root;
    const out: RegistriesConfFile = { file: this.file, registries: [], aliases: new Map() };
    const v1 = this.v1(root);
    if (v1 !== undefined) {
      if (dropIn) {
        const v1Tables = '[registries.search]/[registries.insecure]/[registries.block]';
        this.fail(`drop-in files must use the v2 format, not ${v1Tables}`, root, 'registries');
      }
      const v2Key = V2_KEYS.find((key) => root[key] !== undefined);
      if (v2Key !== undefined) this.fail(`the v1 [registries.*] tables cannot be mixed with v2 settings such as "${v2Key}"`, root, v2Key);
      return { ...out, ...v1 };
    }

    const search = this.stringArray(root, 'unqualified-search-registries');
    if (search !== undefined) out.unqualifiedSearchRegistries = this.searchRegistries(search, root, 'unqualified-search-registries');
    const helpers = this.stringArray(root, 'credential-helpers');
    if (helpers !== undefined) out.credentialHelpers = helpers;
    const mode = this.string(root, 'short-name-mode');
    if (mode !== undefined && mode !== '') {
      if (mode !== 'enforcing' && mode !== 'permissive' && mode !== 'disabled') {
        this.fail(`invalid short-name-mode "${mode}": use "enforcing", "permissive" or "disabled"`, root, 'short-name-mode');
      }
      out.shortNameMode = mode;
    }
    out.aliases = this.aliases(root);
    out.registries = this.registries(root);
    return out;
  }

  /** The v1 format's [registries.search|insecure|block] registries = […], converted; undefined if absent. */
  private v1(root: TomlTable): Omit<RegistriesConfFile, 'file' | 'aliases'> | undefined {
    const table = root.registries;
    if (table === undefined) return undefined;
    if (!isTable(table)) this.fail('"registries" must be a table ([registries.search] and so on)', root, 'registries');
    const lists: Record<'search' | 'insecure' | 'block', string[]> = { search: [], insecure: [], block: [] };
    let nonEmpty = false;
    for (const kind of ['search', 'insecure', 'block'] as const) {
      const sub = table[kind];
      if (sub === undefined) continue;
      if (!isTable(sub)) this.fail(`"registries.${kind}" must be a table`, table, kind);
      lists[kind] = this.stringArray(sub, 'registries') ?? [];
      if (lists[kind].length > 0) nonEmpty = true;
    }
    if (!nonEmpty) return undefined;

    const byLocation = new Map<string, RegistryEntry>();
    const entry = (location: string, kind: string): RegistryEntry => {
      const trimmed = trimLocation(location);
      if (trimmed === '') this.fail(`empty registry name in [registries.${kind}]`, table, kind);
      let reg = byLocation.get(trimmed);
      if (reg === undefined) {
        reg = {
          prefix: trimmed,
          location: trimmed,
          insecure: false,
          blocked: false,
          mirrorByDigestOnly: false,
          mirrors: [],
          file: this.file,
        };
        byLocation.set(trimmed, reg);
      }
      return reg;
    };
    for (const location of lists.block) entry(location, 'block').blocked = true;
    for (const location of lists.insecure) entry(location, 'insecure').insecure = true;
    const search = this.searchRegistries(lists.search, table, 'search');
    return { unqualifiedSearchRegistries: search, registries: [...byLocation.values()] };
  }

  private searchRegistries(list: string[], table: TomlTable, key: string): string[] {
    return list.map((entry) => {
      const host = trimLocation(entry);
      if (/^https?:\/\//.test(host)) this.fail(`search registry "${entry}": URL schemes are not supported, give host[:port]`, table, key);
      if (!isRegistryHost(host)) this.fail(`search registry "${entry}" is not a host[:port]`, table, key);
      return host;
    });
  }

  private aliases(root: TomlTable): Map<string, string> {
    const aliases = new Map<string, string>();
    const table = root.aliases;
    if (table === undefined) return aliases;
    if (!isTable(table)) this.fail('"aliases" must be a table', root, 'aliases');
    for (const name of Object.keys(table)) {
      const value = this.string(table, name);
      if (value === undefined) continue;
      if (!isUnqualifiedName(name)) this.fail(`alias "${name}" must be a short name, without a registry`, table, name);
      const parts = splitReference(name);
      if (parts.tag !== undefined || parts.digest !== undefined) this.fail(`alias "${name}" must not have a tag or digest`, table, name);
      this.checkReference(name, `alias "${name}"`, table, name);
      if (value !== '') {
        const target = splitReference(value);
        if (isUnqualifiedName(value)) this.fail(`alias "${name}" = "${value}": the value must name its registry`, table, name);
        if (target.tag !== undefined || target.digest !== undefined) {
          this.fail(`alias "${name}" = "${value}": the value must not have a tag or digest`, table, name);
        }
        this.checkReference(value, `alias "${name}"`, table, name);
      }
      aliases.set(name, value);
    }
    return aliases;
  }

  private checkReference(text: string, what: string, table: TomlTable, key: string): void {
    try {
      parseReference(text);
    } catch (err) {
      if (err instanceof SkiffError) this.fail(`${what}: ${err.message}`, table, key);
      throw err;
    }
  }

  private registries(root: TomlTable): RegistryEntry[] {
    const tables = this.tableArray(root, 'registry');
    const entries: RegistryEntry[] = [];
    for (const table of tables) entries.push(this.registry(table));

    // One location may appear under several prefixes, but not with different
    // security settings (a wildcard entry with no location is keyed by its prefix).
    const byLocation = new Map<string, { entry: RegistryEntry; table: TomlTable }>();
    entries.forEach((entry, i) => {
      const key = entry.location === '' ? entry.prefix : entry.location;
      const seen = byLocation.get(key);
      if (seen === undefined) {
        byLocation.set(key, { entry, table: tables[i] });
        return;
      }
      for (const [setting, differs] of [
        ['insecure', seen.entry.insecure !== entry.insecure],
        ['blocked', seen.entry.blocked !== entry.blocked],
      ] as const) {
        if (differs) this.fail(`registry "${key}" is defined more than once with conflicting "${setting}" settings`, tables[i]);
      }
    });

    // The first entry for a prefix wins; later ones would never be chosen.
    const byPrefix = new Map<string, RegistryEntry>();
    for (const entry of entries) if (!byPrefix.has(entry.prefix)) byPrefix.set(entry.prefix, entry);
    return [...byPrefix.values()];
  }

  private registry(table: TomlTable): RegistryEntry {
    const location = trimLocation(this.string(table, 'location') ?? '');
    this.checkLocation(location, table, 'location');
    let prefix = trimLocation(this.string(table, 'prefix') ?? '');
    if (/^https?:\/\//.test(prefix)) this.fail(`prefix "${prefix}": URL schemes are not supported`, table, 'prefix');
    if (prefix === '') {
      if (location === '') this.fail('[[registry]] needs a "location" or a "prefix"', table);
      prefix = location;
    } else if (prefix.startsWith('*.')) {
      if (/[/@:]/.test(prefix)) {
        this.fail(`wildcard prefix "${prefix}" must have the form *.example.com (no port, path, tag or digest)`, table, 'prefix');
      }
    } else if (prefix.includes('*')) {
      this.fail(`prefix "${prefix}": a wildcard is only allowed as a leading "*." (e.g. *.example.com)`, table, 'prefix');
    } else if (location === '') {
      this.fail(`[[registry]] with prefix "${prefix}" needs a "location" (only a *.example.com prefix may omit it)`, table, 'prefix');
    }
    if (table['pull-from-mirror'] !== undefined) {
      this.fail('"pull-from-mirror" belongs in a [[registry.mirror]] table, not in [[registry]]', table, 'pull-from-mirror');
    }
    const entry: RegistryEntry = {
      prefix,
      location,
      insecure: this.bool(table, 'insecure') ?? false,
      blocked: this.bool(table, 'blocked') ?? false,
      mirrorByDigestOnly: this.bool(table, 'mirror-by-digest-only') ?? false,
      mirrors: [],
      file: this.file,
    };
    for (const mirrorTable of this.tableArray(table, 'mirror')) {
      const mirrorLocation = trimLocation(this.string(mirrorTable, 'location') ?? '');
      if (mirrorLocation === '') this.fail('[[registry.mirror]] needs a "location"', mirrorTable);
      this.checkLocation(mirrorLocation, mirrorTable, 'location');
      const mirror: MirrorEntry = { location: mirrorLocation, insecure: this.bool(mirrorTable, 'insecure') ?? false };
      const pull = this.string(mirrorTable, 'pull-from-mirror');
      if (pull !== undefined && pull !== '') {
        if (pull !== 'all' && pull !== 'digest-only' && pull !== 'tag-only') {
          this.fail(`invalid pull-from-mirror "${pull}": use "all", "digest-only" or "tag-only"`, mirrorTable, 'pull-from-mirror');
        }
        if (entry.mirrorByDigestOnly) {
          const problem = `"pull-from-mirror" cannot be set on a mirror of "${prefix}", which sets mirror-by-digest-only`;
          this.fail(problem, mirrorTable, 'pull-from-mirror');
        }
        mirror.pullFromMirror = pull;
      }
      entry.mirrors.push(mirror);
    }
    return entry;
  }

  /** A location is host[:port][/path]; checked early so that a typo names its line. */
  private checkLocation(location: string, table: TomlTable, key: string): void {
    if (location === '') return;
    if (/^https?:\/\//.test(location)) {
      this.fail(`location "${location}": URL schemes are not supported, give host[:port][/path]`, table, key);
    }
    const host = location.split('/', 1)[0];
    if (!isRegistryHost(host)) this.fail(`location "${location}" does not start with a valid host[:port]`, table, key);
  }

  private string(table: TomlTable, key: string): string | undefined {
    const value = table[key];
    if (value === undefined || typeof value === 'string') return value;
    this.fail(`"${key}" must be a string`, table, key);
  }

  private bool(table: TomlTable, key: string): boolean | undefined {
    const value = table[key];
    if (value === undefined || typeof value === 'boolean') return value;
    this.fail(`"${key}" must be true or false`, table, key);
  }

  private stringArray(table: TomlTable, key: string): string[] | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
      this.fail(`"${key}" must be an array of strings`, table, key);
    }
    return value;
  }

  /** [[key]] tables. */
  private tableArray(table: TomlTable, key: string): TomlTable[] {
    const value = table[key];
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every(isTable)) this.fail(`"${key}" must be an array of tables ([[${key}]])`, table, key);
    return value as TomlTable[];
  }
}

function trimLocation(text: string): string {
  return text.replace(/\/+$/, '');
}

function mergeInto(conf: RegistriesConf, file: RegistriesConfFile): void {
  conf.files.push(file.file);
  if (file.unqualifiedSearchRegistries !== undefined) conf.unqualifiedSearchRegistries = file.unqualifiedSearchRegistries;
  if (file.shortNameMode !== undefined) conf.shortNameMode = file.shortNameMode;
  if (file.credentialHelpers !== undefined) conf.credentialHelpers = file.credentialHelpers;
  for (const entry of file.registries) {
    const i = conf.registries.findIndex((existing) => existing.prefix === entry.prefix);
    if (i === -1) conf.registries.push(entry);
    else conf.registries[i] = entry;
  }
  for (const [name, value] of file.aliases) {
    if (value === '') conf.aliases.delete(name);
    else conf.aliases.set(name, value);
  }
}

// ─── Using the configuration ────────────────────────────────────────────────

export interface PullEndpoint {
  /** The image as this endpoint names it; its registry is the host to contact. */
  reference: ImageReference;
  /** Plain HTTP and unverified TLS are allowed. */
  insecure: boolean;
  mirror: boolean;
}

export interface ResolvedRegistry {
  /** The [[registry]] entry with the longest matching prefix, if any. */
  entry?: RegistryEntry;
  /** Pulling this image is forbidden by the configuration. */
  blocked: boolean;
  /** The image at its primary location (the prefix rewritten to the entry's location). */
  reference: ImageReference;
  /** Where to try, in order: the usable mirrors, then the primary location. */
  endpoints: PullEndpoint[];
}

/**
 * Applies the [[registry]] entry whose prefix matches the reference longest:
 * rewrites the prefix to the entry's location and lists the endpoints to try.
 * Without a matching entry the image is pulled from where its name says.
 */
export function resolveRegistry(conf: RegistriesConf, ref: ImageReference): ResolvedRegistry {
  const text = formatReference(ref);
  const entry = findRegistryEntry(conf, text);
  if (entry === undefined) {
    return { blocked: false, reference: ref, endpoints: [{ reference: ref, insecure: false, mirror: false }] };
  }
  const matched = matchPrefix(text, entry.prefix);
  const rewrite = (location: string): ImageReference => {
    // A wildcard entry without a location keeps the name as it is.
    if (location === '') return ref;
    const rewritten = location + text.slice(matched);
    try {
      // No implicit tag: a digest-only reference stays digest-only.
      return parseReference(rewritten, { implicitLatest: false });
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      const rule = `[[registry]] prefix "${entry.prefix}" with location "${location}"`;
      throw new SkiffError(`${entry.file}: ${rule} turns ${text} into an invalid reference: ${err.message}`);
    }
  };
  const digested = ref.digest !== undefined;
  const mirrors = entry.mirrors.filter((mirror) => {
    if (entry.mirrorByDigestOnly) return digested;
    if (mirror.pullFromMirror === 'digest-only') return digested;
    if (mirror.pullFromMirror === 'tag-only') return !digested;
    return true;
  });
  const primary = rewrite(entry.location);
  return {
    entry,
    blocked: entry.blocked,
    reference: primary,
    endpoints: [
      ...mirrors.map((mirror) => ({ reference: rewrite(mirror.location), insecure: mirror.insecure, mirror: true })),
      { reference: primary, insecure: entry.insecure, mirror: false },
    ],
  };
}

/** The entry with the longest prefix matching a full reference, registry, or repository name. */
export function findRegistryEntry(conf: RegistriesConf, text: string): RegistryEntry | undefined {
  let best: RegistryEntry | undefined;
  for (const entry of conf.registries) {
    if (matchPrefix(text, entry.prefix) === -1) continue;
    if (best === undefined || entry.prefix.length > best.prefix.length) best = entry;
  }
  return best;
}

/**
 * Where in `text` the part after `prefix` starts, or -1. A prefix matches whole
 * components: what follows it must be the end, or ":", "/" or "@". A wildcard
 * "*.example.com" matches any subdomain of example.com (at any depth).
 */
function matchPrefix(text: string, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const slash = text.indexOf('/');
    const registry = slash === -1 ? text : text.slice(0, slash);
    const host = registry.replace(/:[0-9]*$/, '');
    const domain = prefix.slice(1);
    return host.length > domain.length && host.endsWith(domain) ? host.length : -1;
  }
  if (!text.startsWith(prefix)) return -1;
  if (text.length === prefix.length) return prefix.length;
  const next = text[prefix.length];
  return next === ':' || next === '/' || next === '@' ? prefix.length : -1;
}

/**
 * The fully-qualified references to try, in order, for a name given on the
 * command line: a name with a registry is itself; a short name is its alias if
 * one is configured, else one reference per unqualified-search registry, else
 * (none configured) Docker Hub, as in Docker.
 */
export function candidatesForShortName(conf: RegistriesConf, text: string): ImageReference[] {
  const parsed = parseReference(text);
  if (!isUnqualifiedName(text)) return [parsed];
  const { name, tag, digest } = splitReference(text);
  const suffix = (tag !== undefined ? `:${tag}` : '') + (digest !== undefined ? `@${digest}` : '');
  const alias = conf.aliases.get(name);
  if (alias !== undefined && alias !== '') return [parseReference(alias + suffix)];
  if (conf.unqualifiedSearchRegistries.length === 0) return [parsed];
  const candidates = new Map<string, ImageReference>();
  for (const registry of conf.unqualifiedSearchRegistries) {
    const ref = parseReference(`${registry}/${name}${suffix}`);
    const key = formatReference(ref);
    if (!candidates.has(key)) candidates.set(key, ref);
  }
  return [...candidates.values()];
}
