import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SkiffError } from '../../lib/errors.js';
import { formatReference, parseReference } from '../../lib/oci/reference.js';
import {
  candidatesForShortName,
  emptyRegistriesConf,
  findRegistryEntry,
  loadRegistriesConf,
  parseRegistriesConf,
  parseToml,
  type RegistriesConf,
  registriesConfPaths,
  resolveRegistry,
  SYSTEM_REGISTRIES_CONF,
  SYSTEM_REGISTRIES_CONF_DIR,
  TomlSyntaxError,
} from '../../lib/registry/registries-conf.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'registries-conf');
const HEX64 = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const SHA256 = `sha256:${HEX64}`;

const scratch = mkdtempSync(join(tmpdir(), 'skiff-registries-conf-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let scratchCount = 0;
/** A fresh directory holding the given files (path → text). */
function tree(files: Record<string, string>): string {
  const root = join(scratch, String(scratchCount++));
  mkdirSync(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** A configuration from one file's text, merged as loadRegistriesConf would. */
function confFrom(text: string): RegistriesConf {
  const dir = tree({ 'registries.conf': text });
  return loadRegistriesConf({ main: join(dir, 'registries.conf'), mainRequired: true, dropInDirs: [] });
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error) return err;
  }
  throw new Error('expected an error');
}

function confError(text: string, file = '/x/registries.conf'): string {
  const err = thrown(() => parseRegistriesConf(text, file));
  expect(err).toBeInstanceOf(SkiffError);
  expect((err as SkiffError).exitCode).toBe(125);
  return err.message;
}

function tomlError(text: string): { message: string; line: number } {
  const err = thrown(() => parseToml(text));
  expect(err).toBeInstanceOf(TomlSyntaxError);
  return { message: err.message, line: (err as TomlSyntaxError).line };
}

// ─── The TOML subset ────────────────────────────────────────────────────────

describe('parseToml', () => {
  it('reads top-level keys: strings, booleans, integers, arrays', () => {
    const { root } = parseToml(
      [
        '# comment',
        'a = "x"   # trailing comment',
        "b = 'lit\\eral'",
        'c = true',
        'd = false',
        'e = 42',
        'f = -1_000',
        'i = ["one", \'two\']',
        'j = []',
        '',
      ].join('\n'),
    );
    expect({ ...root }).toEqual({
      a: 'x',
      b: 'lit\\eral',
      c: true,
      d: false,
      e: 42,
      f: -1000,
      i: ['one', 'two'],
      j: [],
    });
  });

  it('decodes escapes in basic strings and keeps literal strings raw', () => {
    const { root } = parseToml(String.raw`a = "tab\there \"q\" back\\slash \u00e9 \U0001F600 nl\n"
b = 'C:\path\no-escapes'`);
    expect(root.a).toBe('tab\there "q" back\\slash é 😀 nl\n');
    expect(root.b).toBe('C:\\path\\no-escapes');
  });

  it('reads arrays over several lines, with comments and a trailing comma', () => {
    const { root } = parseToml(
      ['list = [', '  "a", # first', '', '  # a whole-line comment', '  "b",', ']', 'nested = [[1, 2], ["x"]]'].join('\n'),
    );
    expect(root.list).toEqual(['a', 'b']);
    expect(root.nested).toEqual([[1, 2], ['x']]);
  });

  it('builds [[registry]] arrays with their [[registry.mirror]] arrays under the latest registry', () => {
    const { root } = parseToml(
      [
        '[[registry]]',
        'location = "a"',
        '[[registry.mirror]]',
        'location = "a-m1"',
        '[[registry.mirror]]',
        'location = "a-m2"',
        '[[registry]]',
        'location = "b"',
        '[[registry.mirror]]',
        'location = "b-m1"',
      ].join('\n'),
    );
    const registries = root.registry as Array<Record<string, unknown>>;
    expect(registries).toHaveLength(2);
    expect(registries[0].location).toBe('a');
    expect((registries[0].mirror as Array<Record<string, unknown>>).map((m) => m.location)).toEqual(['a-m1', 'a-m2']);
    expect((registries[1].mirror as Array<Record<string, unknown>>).map((m) => m.location)).toEqual(['b-m1']);
  });

  it('reads [tables], dotted and quoted keys', () => {
    const { root } = parseToml(
      [
        '[registries.search]',
        'registries = ["r1"]',
        '[aliases]',
        '"library/debian" = "docker.io/library/debian"',
        "'ubi' = 'registry.example.com/ubi'",
        '[other]',
        'x.y = 1',
        'x.z = "two"',
      ].join('\n'),
    );
    expect(root.registries).toEqual({ search: { registries: ['r1'] } });
    expect({ ...(root.aliases as object) }).toEqual({
      'library/debian': 'docker.io/library/debian',
      ubi: 'registry.example.com/ubi',
    });
    expect(root.other).toEqual({ x: { y: 1, z: 'two' } });
  });

  it('accepts CRLF line ends, a byte-order mark and [[ spaced ]] headers', () => {
    const { root } = parseToml('\uFEFFa = "x"\r\n[[ registry ]]\r\nlocation = "l" \r\n');
    expect(root.a).toBe('x');
    expect(root.registry).toEqual([{ location: 'l' }]);
  });

  it('treats keys such as "constructor" and "__proto__" as plain keys', () => {
    const { root } = parseToml('constructor = 1\n__proto__ = 2\n[toString]\nx = 3\n');
    expect(root.constructor).toBe(1);
    expect(Object.keys(root)).toEqual(['constructor', '__proto__', 'toString']);
  });

  it('records the line of each table and key', () => {
    const doc = parseToml('a = 1\n\n[[registry]]\n\nprefix = "p"\nlocation = "l"\n');
    const registry = (doc.root.registry as Array<Record<string, unknown>>)[0] as Parameters<typeof doc.line>[0];
    expect(doc.line(doc.root, 'a')).toBe(1);
    expect(doc.line(registry)).toBe(3);
    expect(doc.line(registry, 'prefix')).toBe(5);
    expect(doc.line(registry, 'location')).toBe(6);
    expect(doc.line(registry, 'missing')).toBe(3);
  });

  // smol-toml's messages, at the line it stopped (an unterminated array: where the file ended).
  const errors: Array<[string, string, number]> = [
    ['a = "x', 'unfinished string', 1],
    ['\n\na = "x\nb = 1', 'control characters are not allowed in strings', 3],
    ["a = 'x", 'unfinished string', 1],
    ['\na = ["x",\n "y"\n', 'expected comma or end of structure', 4],
    ['a = ["x" "y"]', 'expected comma or end of structure', 1],
    ['prefix "x"', 'illegal character in key', 1],
    ['= "x"', 'unexpected end of key', 1],
    ['a =', 'invalid value', 1],
    ['a = \nb = 1', 'invalid value', 1],
    ['a = yes', 'invalid value', 1],
    ['a = docker.io', 'invalid value', 1],
    ['a = "x" "y"', 'each key-value declaration must be followed by an end-of-line', 1],
    ['a = 1 b = 2', 'each key-value declaration must be followed by an end-of-line', 1],
    ['a = "\\q"', 'unrecognised escape sequence', 1],
    ['a = "\\u00zz"', 'invalid non-hex character in unicode escape', 1],
    ['a = "\\uD800"', 'invalid unicode escape', 1],
    ['a = "x\ty\u0001"', 'control characters are not allowed in strings', 1],
    ['a = 1\na = 2', 'trying to redefine an already defined table or value', 2],
    ['[t]\na = 1\n[t]\nb = 2', 'trying to redefine an already defined table or value', 3],
    ['[t\na = 1', 'illegal character in key', 1],
    ['[[registry]\nlocation = "x"', 'expected end of table array declaration', 1],
    ['registry = "x"\n[[registry]]', 'trying to redefine an already defined table or value', 2],
    ['registry = []\n[[registry]]', 'trying to redefine an already defined table or value', 2],
    ['[[registry]]\nlocation = "x"\n[registry]', 'trying to redefine an already defined table or value', 3],
    ['a = 1\n[a]', 'trying to redefine an already defined table or value', 2],
    ['[registry]\n[[registry]]', 'trying to redefine an already defined table or value', 2],
    ['registry = 1\n[[registry.mirror]]', 'trying to redefine an already defined table or value', 2],
    ['[a.b]\n[a]\nb.c = 2', 'trying to redefine an already defined table or value', 3],
    ['"""k""" = 1', 'illegal quoted key: multiline strings are not allowed', 1],
    ['a = 007', 'illegal leading zero', 1],
  ];
  it.each(errors)('rejects %j: %s (line %i)', (text, message, line) => {
    expect(tomlError(text)).toEqual({ message, line });
  });

  it('reads the rest of TOML 1.0 too (registries-conf.ts then checks each value it uses)', () => {
    const doc = parseToml('\na = """x"""\nb = \'\'\'y\'\'\'\nc = { d = 1 }\ne = 1.5\nf = 0x1F\ng = [\n  """multi\nline""",\n]\nh = 2\n');
    expect(doc.root).toMatchObject({ a: 'x', b: 'y', c: { d: 1 }, e: 1.5, f: 31, g: ['multi\nline'], h: 2 });
    // A value over several lines (a multi-line string inside an array) does not throw the lines off.
    expect(doc.line(doc.root, 'a')).toBe(2);
    expect(doc.line(doc.root, 'g')).toBe(7);
    expect(doc.line(doc.root, 'h')).toBe(11);
  });
});

// ─── One file ───────────────────────────────────────────────────────────────

describe('parseRegistriesConf', () => {
  it('reads the v2 example: search registries, registries, mirrors, short-name mode', () => {
    const conf = loadRegistriesConf({ main: join(FIXTURES, 'mirrors.conf'), mainRequired: true, dropInDirs: [] });
    const file = join(FIXTURES, 'mirrors.conf');
    expect(conf.files).toEqual([file]);
    expect(conf.unqualifiedSearchRegistries).toEqual(['example.com', 'quay.io']);
    expect(conf.shortNameMode).toBe('enforcing');
    // Sorted by prefix; a missing prefix defaults to the location.
    expect(conf.registries).toEqual([
      {
        prefix: '*.corp.example',
        location: '',
        insecure: true,
        blocked: false,
        mirrorByDigestOnly: false,
        mirrors: [],
        file,
      },
      {
        prefix: 'docker.io/library',
        location: 'docker.io/library',
        insecure: false,
        blocked: false,
        mirrorByDigestOnly: false,
        mirrors: [{ location: '127.0.0.1:5000/hub', insecure: true }],
        file,
      },
      {
        prefix: 'evil.example',
        location: 'evil.example',
        insecure: false,
        blocked: true,
        mirrorByDigestOnly: false,
        mirrors: [],
        file,
      },
      {
        prefix: 'example.com/foo',
        location: 'internal.example.net/bar',
        insecure: false,
        blocked: false,
        mirrorByDigestOnly: false,
        mirrors: [
          { location: 'mirror-0.local/mirror-for-foo', insecure: false },
          { location: 'mirror-1.local/mirrors/foo', insecure: true },
        ],
        file,
      },
      {
        prefix: 'registry.example.org',
        location: 'registry.example.org',
        insecure: false,
        blocked: false,
        mirrorByDigestOnly: false,
        mirrors: [{ location: 'mirror.registry.example.org', insecure: false }],
        file,
      },
    ]);
  });

  it('converts the deprecated v1 format', () => {
    const conf = loadRegistriesConf({ main: join(FIXTURES, 'v1.conf'), mainRequired: true, dropInDirs: [] });
    expect(conf.unqualifiedSearchRegistries).toEqual(['registry1.example', 'registry2.example']);
    const summary = conf.registries.map((r) => [r.prefix, r.location, r.insecure, r.blocked]);
    expect(summary).toEqual([
      ['registry.untrusted.example', 'registry.untrusted.example', false, true],
      ['registry3.example', 'registry3.example', true, true],
    ]);
  });

  it('reads short-name aliases', () => {
    const file = parseRegistriesConf(
      '[aliases]\n"centos" = "quay.io/centos/centos"\n"library/debian" = "docker.io/library/debian"\n"gone" = ""\n',
      '/x.conf',
    );
    expect([...file.aliases]).toEqual([
      ['centos', 'quay.io/centos/centos'],
      ['library/debian', 'docker.io/library/debian'],
      ['gone', ''],
    ]);
  });

  it('trims trailing slashes from locations, prefixes, mirrors and search registries', () => {
    const file = parseRegistriesConf(
      'unqualified-search-registries = ["quay.io/"]\n[[registry]]\nprefix = "a.example/ns/"\nlocation = "b.example/x//"\n[[registry.mirror]]\nlocation = "m.example/"\n',
      '/x.conf',
    );
    expect(file.unqualifiedSearchRegistries).toEqual(['quay.io']);
    expect(file.registries[0]).toMatchObject({ prefix: 'a.example/ns', location: 'b.example/x', mirrors: [{ location: 'm.example' }] });
  });

  it('keeps the first of several entries with the same prefix', () => {
    const file = parseRegistriesConf(
      '[[registry]]\nprefix = "a.example"\nlocation = "first.example"\n[[registry]]\nprefix = "a.example"\nlocation = "second.example"\n',
      '/x.conf',
    );
    expect(file.registries.map((r) => r.location)).toEqual(['first.example']);
  });

  it('allows one location under several prefixes with the same security settings', () => {
    const file = parseRegistriesConf(
      '[[registry]]\nprefix = "a.example"\nlocation = "l.example"\ninsecure = true\n[[registry]]\nprefix = "b.example"\nlocation = "l.example"\ninsecure = true\n',
      '/x.conf',
    );
    expect(file.registries).toHaveLength(2);
  });

  it('keeps mirror settings: pull-from-mirror and mirror-by-digest-only', () => {
    const file = parseRegistriesConf(
      [
        '[[registry]]',
        'location = "a.example"',
        'mirror-by-digest-only = true',
        '[[registry.mirror]]',
        'location = "m.example"',
        '[[registry]]',
        'location = "b.example"',
        '[[registry.mirror]]',
        'location = "d.example"',
        'pull-from-mirror = "digest-only"',
        '[[registry.mirror]]',
        'location = "t.example"',
        'pull-from-mirror = "tag-only"',
        '[[registry.mirror]]',
        'location = "all.example"',
        'pull-from-mirror = "all"',
      ].join('\n'),
      '/x.conf',
    );
    expect(file.registries[0].mirrorByDigestOnly).toBe(true);
    expect(file.registries[1].mirrors).toEqual([
      { location: 'd.example', insecure: false, pullFromMirror: 'digest-only' },
      { location: 't.example', insecure: false, pullFromMirror: 'tag-only' },
      { location: 'all.example', insecure: false, pullFromMirror: 'all' },
    ]);
  });

  it('ignores settings it does not use, as containers/image does', () => {
    const file = parseRegistriesConf(
      'credential-helpers = ["pass"]\nadditional-layer-store-auth-helper = "x"\nsome-future-setting = 3\n[[registry]]\nlocation = "a.example"\nfuture = [1, "x"]\n[future-table]\nx = true\n',
      '/x.conf',
    );
    expect(file.credentialHelpers).toEqual(['pass']);
    expect(file.registries).toHaveLength(1);
  });

  it('leaves unset what a file does not set', () => {
    const file = parseRegistriesConf('# nothing\n', '/x.conf');
    expect(file.unqualifiedSearchRegistries).toBeUndefined();
    expect(file.shortNameMode).toBeUndefined();
    expect(file.credentialHelpers).toBeUndefined();
    expect(file.registries).toEqual([]);
    // An empty short-name-mode means unset.
    expect(parseRegistriesConf('short-name-mode = ""\n', '/x.conf').shortNameMode).toBeUndefined();
    // An explicit empty list is set (and will replace earlier files' lists).
    expect(parseRegistriesConf('unqualified-search-registries = []\n', '/x.conf').unqualifiedSearchRegistries).toEqual([]);
  });

  const F = '/x/registries.conf';
  const errors: Array<[string, string]> = [
    // TOML syntax errors name the file and line.
    ['unqualified-search-registries = ["a.example",\n', `${F}:2: invalid value`],
    ['\n[[registry]]\nlocation = "x\n', `${F}:3: control characters are not allowed in strings`],
    ['[[registry]]\ninsecure = yes\n', `${F}:2: invalid value`],
    // Wrong types.
    ['unqualified-search-registries = "quay.io"\n', `${F}:1: "unqualified-search-registries" must be an array of strings`],
    ['unqualified-search-registries = ["quay.io", 1]\n', `${F}:1: "unqualified-search-registries" must be an array of strings`],
    ['\n[[registry]]\nlocation = "a.example"\ninsecure = "yes"\n', `${F}:4: "insecure" must be true or false`],
    ['[[registry]]\nlocation = "a.example"\nblocked = 1\n', `${F}:3: "blocked" must be true or false`],
    ['[[registry]]\nlocation = true\n', `${F}:2: "location" must be a string`],
    ['[[registry]]\nlocation = "a.example"\nmirror = "m.example"\n', `${F}:3: "mirror" must be an array of tables ([[mirror]])`],
    ['[[registry]]\nlocation = "a.example"\nmirror = ["m.example"]\n', `${F}:3: "mirror" must be an array of tables ([[mirror]])`],
    ['registry = ["a.example"]\n', `${F}:1: "registry" must be an array of tables ([[registry]])`],
    ['[registry]\nlocation = "a.example"\n', `${F}:1: "registry" must be an array of tables ([[registry]])`],
    ['short-name-mode = true\n', `${F}:1: "short-name-mode" must be a string`],
    // Values.
    ['unqualified-search-registries = ["quay.io", "https://x.example"]\n', `${F}:1: search registry "https://x.example": URL schemes are not supported, give host[:port]`],
    ['unqualified-search-registries = ["quay.io/ns"]\n', `${F}:1: search registry "quay.io/ns" is not a host[:port]`],
    ['unqualified-search-registries = [""]\n', `${F}:1: search registry "" is not a host[:port]`],
    ['\nshort-name-mode = "prompt"\n', `${F}:2: invalid short-name-mode "prompt": use "enforcing", "permissive" or "disabled"`],
    ['[[registry]]\ninsecure = true\n', `${F}:1: [[registry]] needs a "location" or a "prefix"`],
    ['[[registry]]\nprefix = "a.example"\n', `${F}:2: [[registry]] with prefix "a.example" needs a "location" (only a *.example.com prefix may omit it)`],
    ['[[registry]]\nprefix = "*.example.com/foo"\n', `${F}:2: wildcard prefix "*.example.com/foo" must have the form *.example.com (no port, path, tag or digest)`],
    ['[[registry]]\nprefix = "*.example.com:5000"\n', `${F}:2: wildcard prefix "*.example.com:5000" must have the form *.example.com (no port, path, tag or digest)`],
    ['[[registry]]\nprefix = "example.*.com"\nlocation = "x.example"\n', `${F}:2: prefix "example.*.com": a wildcard is only allowed as a leading "*." (e.g. *.example.com)`],
    ['[[registry]]\nlocation = "https://a.example"\n', `${F}:2: location "https://a.example": URL schemes are not supported, give host[:port][/path]`],
    ['[[registry]]\nprefix = "http://a.example"\nlocation = "a.example"\n', `${F}:2: prefix "http://a.example": URL schemes are not supported`],
    ['[[registry]]\nlocation = "bad_host.example/x"\n', `${F}:2: location "bad_host.example/x" does not start with a valid host[:port]`],
    ['[[registry]]\nlocation = "a.example"\npull-from-mirror = "all"\n', `${F}:3: "pull-from-mirror" belongs in a [[registry.mirror]] table, not in [[registry]]`],
    ['[[registry]]\nlocation = "a.example"\n\n[[registry.mirror]]\ninsecure = true\n', `${F}:4: [[registry.mirror]] needs a "location"`],
    ['[[registry]]\nlocation = "a.example"\n[[registry.mirror]]\nlocation = "m.example:port"\n', `${F}:4: location "m.example:port" does not start with a valid host[:port]`],
    ['[[registry]]\nlocation = "a.example"\n[[registry.mirror]]\nlocation = "m.example"\npull-from-mirror = "some"\n', `${F}:5: invalid pull-from-mirror "some": use "all", "digest-only" or "tag-only"`],
    [
      '[[registry]]\nlocation = "a.example"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.example"\npull-from-mirror = "tag-only"\n',
      `${F}:6: "pull-from-mirror" cannot be set on a mirror of "a.example", which sets mirror-by-digest-only`,
    ],
    [
      '[[registry]]\nprefix = "a.example"\nlocation = "l.example"\n\n[[registry]]\nprefix = "b.example"\nlocation = "l.example"\ninsecure = true\n',
      `${F}:5: registry "l.example" is defined more than once with conflicting "insecure" settings`,
    ],
    [
      '[[registry]]\nprefix = "a.example"\nlocation = "l.example"\nblocked = true\n[[registry]]\nprefix = "b.example"\nlocation = "l.example"\n',
      `${F}:5: registry "l.example" is defined more than once with conflicting "blocked" settings`,
    ],
    // Aliases.
    ['[aliases]\n"quay.io/centos" = "quay.io/centos/centos"\n', `${F}:2: alias "quay.io/centos" must be a short name, without a registry`],
    ['[aliases]\n"localhost/x" = "quay.io/x"\n', `${F}:2: alias "localhost/x" must be a short name, without a registry`],
    ['[aliases]\n"centos:8" = "quay.io/centos/centos"\n', `${F}:2: alias "centos:8" must not have a tag or digest`],
    ['[aliases]\n"centos" = "centos/centos"\n', `${F}:2: alias "centos" = "centos/centos": the value must name its registry`],
    ['[aliases]\n"centos" = "quay.io/centos/centos:8"\n', `${F}:2: alias "centos" = "quay.io/centos/centos:8": the value must not have a tag or digest`],
    ['[aliases]\n"Centos" = "quay.io/centos/centos"\n', `${F}:2: alias "Centos": invalid reference format "Centos": repository name must be lowercase`],
    ['[aliases]\n"centos" = "quay.io/Centos"\n', `${F}:2: alias "centos": invalid reference format "quay.io/Centos": repository name must be lowercase`],
    ['[aliases]\n"centos" = 1\n', `${F}:2: "centos" must be a string`],
    ['aliases = "x"\n', `${F}:1: "aliases" must be a table`],
    // The v1 format: not mixed with v2.
    ['unqualified-search-registries = ["a.example"]\n[registries.search]\nregistries = ["b.example"]\n', `${F}:1: the v1 [registries.*] tables cannot be mixed with v2 settings such as "unqualified-search-registries"`],
    ['[registries.search]\nregistries = ["b.example"]\n[[registry]]\nlocation = "a.example"\n', `${F}:3: the v1 [registries.*] tables cannot be mixed with v2 settings such as "registry"`],
    ['[registries.search]\nregistries = "b.example"\n', `${F}:2: "registries" must be an array of strings`],
    ['[registries.block]\nregistries = [""]\n', `${F}:1: empty registry name in [registries.block]`],
    ['[registries.search]\nregistries = ["http://b.example"]\n', `${F}:1: search registry "http://b.example": URL schemes are not supported, give host[:port]`],
  ];
  it.each(errors)('rejects %j', (text, message) => {
    expect(confError(text, F)).toBe(message);
  });

  it('refuses the v1 format in a drop-in', () => {
    const err = thrown(() => parseRegistriesConf('[registries.search]\nregistries = ["a.example"]\n', '/d/10.conf', { dropIn: true }));
    expect(err).toBeInstanceOf(SkiffError);
    expect(err.message).toBe(
      '/d/10.conf:1: drop-in files must use the v2 format, not [registries.search]/[registries.insecure]/[registries.block]',
    );
  });

  it('accepts empty v1 tables next to v2 settings (they set nothing)', () => {
    const file = parseRegistriesConf('unqualified-search-registries = ["a.example"]\n[registries.search]\nregistries = []\n', '/x.conf');
    expect(file.unqualifiedSearchRegistries).toEqual(['a.example']);
  });
});

// ─── Which files, and merging ───────────────────────────────────────────────

describe('registriesConfPaths', () => {
  it('uses $SKIFF_REGISTRIES_CONF alone when set', () => {
    expect(registriesConfPaths({ SKIFF_REGISTRIES_CONF: '/t/r.conf', HOME: '/nonexistent' })).toEqual({
      main: '/t/r.conf',
      mainRequired: true,
      dropInDirs: [],
    });
  });

  it('uses the system file and both drop-in directories when the user has no file', () => {
    const home = tree({ '.keep': '' });
    expect(registriesConfPaths({ HOME: home })).toEqual({
      main: SYSTEM_REGISTRIES_CONF,
      mainRequired: false,
      dropInDirs: [SYSTEM_REGISTRIES_CONF_DIR, join(home, '.config/containers/registries.conf.d')],
    });
  });

  it("lets the user's file replace the system file and its drop-ins", () => {
    const home = tree({ '.config/containers/registries.conf': '' });
    expect(registriesConfPaths({ HOME: home })).toEqual({
      main: join(home, '.config/containers/registries.conf'),
      mainRequired: false,
      dropInDirs: [join(home, '.config/containers/registries.conf.d')],
    });
  });

  it('looks under $XDG_CONFIG_HOME when it is set and absolute', () => {
    const config = tree({ 'containers/registries.conf': '' });
    expect(registriesConfPaths({ HOME: '/nonexistent', XDG_CONFIG_HOME: config }).main).toBe(
      join(config, 'containers/registries.conf'),
    );
    const home = tree({ '.keep': '' });
    // A relative XDG_CONFIG_HOME is invalid per the XDG spec and ignored.
    expect(registriesConfPaths({ HOME: home, XDG_CONFIG_HOME: 'relative' }).dropInDirs).toEqual([
      SYSTEM_REGISTRIES_CONF_DIR,
      join(home, '.config/containers/registries.conf.d'),
    ]);
  });
});

describe('loadRegistriesConf', () => {
  let dir: string;
  beforeEach(() => {
    dir = tree({
      'registries.conf': [
        'unqualified-search-registries = ["main.example"]',
        'short-name-mode = "permissive"',
        '[[registry]]',
        'prefix = "a.example"',
        'location = "a-main.example"',
        '[[registry]]',
        'location = "b.example"',
        '[aliases]',
        '"one" = "main.example/one"',
        '"two" = "main.example/two"',
      ].join('\n'),
      'system.d/20-second.conf': [
        'unqualified-search-registries = ["second.example", "third.example"]',
        '[[registry]]',
        'prefix = "a.example"',
        'location = "a-second.example"',
        '[aliases]',
        '"two" = ""',
        '"three" = "second.example/three"',
      ].join('\n'),
      'system.d/10-first.conf': 'short-name-mode = "disabled"\n[[registry]]\nlocation = "c.example"\n',
      'system.d/30-ignored.conf.bak': 'this is not TOML',
      'system.d/40-dir.conf/inner.conf': 'neither is this',
      'user.d/50-user.conf': 'unqualified-search-registries = []\n',
    });
  });

  it('reads the main file, then drop-ins in name order, skipping other files and directories', () => {
    const conf = loadRegistriesConf({
      main: join(dir, 'registries.conf'),
      mainRequired: false,
      dropInDirs: [join(dir, 'system.d'), join(dir, 'user.d')],
    });
    expect(conf.files).toEqual([
      join(dir, 'registries.conf'),
      join(dir, 'system.d/10-first.conf'),
      join(dir, 'system.d/20-second.conf'),
      join(dir, 'user.d/50-user.conf'),
    ]);
    // A drop-in's explicit empty list replaces the earlier ones.
    expect(conf.unqualifiedSearchRegistries).toEqual([]);
    expect(conf.shortNameMode).toBe('disabled');
    // Same prefix: replaced; new prefix: added; others kept.
    expect(conf.registries.map((r) => [r.prefix, r.location, r.file])).toEqual([
      ['a.example', 'a-second.example', join(dir, 'system.d/20-second.conf')],
      ['b.example', 'b.example', join(dir, 'registries.conf')],
      ['c.example', 'c.example', join(dir, 'system.d/10-first.conf')],
    ]);
    // Aliases merge; an empty value erases one.
    expect([...conf.aliases].sort()).toEqual([
      ['one', 'main.example/one'],
      ['three', 'second.example/three'],
    ]);
  });

  it('orders drop-ins by name, not by when they were written', () => {
    const names = ['z.conf', 'm2.conf', 'm10.conf', 'b.conf', 'a-1.conf', 'a.conf', '9.conf', '10.conf', '01.conf', 'A.conf'];
    const d = tree({});
    mkdirSync(join(d, 'd'));
    for (const name of names) writeFileSync(join(d, 'd', name), `unqualified-search-registries = ["${name.replace('.conf', '')}.example"]\n`);
    const conf = loadRegistriesConf({ main: join(d, 'none'), mainRequired: false, dropInDirs: [join(d, 'd')] });
    const sorted = ['01.conf', '10.conf', '9.conf', 'A.conf', 'a-1.conf', 'a.conf', 'b.conf', 'm10.conf', 'm2.conf', 'z.conf'];
    expect(conf.files).toEqual(sorted.map((name) => join(d, 'd', name)));
    // The last file in name order wins.
    expect(conf.unqualifiedSearchRegistries).toEqual(['z.example']);
  });

  it('keeps settings a drop-in does not mention', () => {
    const conf = loadRegistriesConf({
      main: join(dir, 'registries.conf'),
      mainRequired: false,
      dropInDirs: [join(dir, 'system.d')],
    });
    expect(conf.unqualifiedSearchRegistries).toEqual(['second.example', 'third.example']);
    const onlyFirst = loadRegistriesConf({
      main: join(dir, 'registries.conf'),
      mainRequired: false,
      dropInDirs: [join(dir, 'user.d-missing')],
    });
    expect(onlyFirst.unqualifiedSearchRegistries).toEqual(['main.example']);
    expect(onlyFirst.shortNameMode).toBe('permissive');
  });

  it('treats a missing main file and missing directories as empty', () => {
    const conf = loadRegistriesConf({
      main: join(dir, 'nope.conf'),
      mainRequired: false,
      dropInDirs: [join(dir, 'nope.d'), join(dir, 'registries.conf')],
    });
    expect(conf).toEqual(emptyRegistriesConf());
  });

  it('requires an override file to exist', () => {
    const err = thrown(() => loadRegistriesConf({ main: join(dir, 'nope.conf'), mainRequired: true, dropInDirs: [] }));
    expect(err).toBeInstanceOf(SkiffError);
    expect(err.message).toBe(`registries configuration ${join(dir, 'nope.conf')} does not exist`);
  });

  it('loads what $SKIFF_REGISTRIES_CONF names', () => {
    const conf = loadRegistriesConf(registriesConfPaths({ SKIFF_REGISTRIES_CONF: join(dir, 'registries.conf') }));
    expect(conf.unqualifiedSearchRegistries).toEqual(['main.example']);
    expect(conf.files).toEqual([join(dir, 'registries.conf')]);
  });

  it("reads the user's file instead of the system file, and the user's drop-ins", () => {
    const home = tree({
      '.config/containers/registries.conf': 'unqualified-search-registries = ["user.example"]\n',
      '.config/containers/registries.conf.d/1.conf': '[[registry]]\nlocation = "u.example"\n',
    });
    const conf = loadRegistriesConf(registriesConfPaths({ HOME: home }));
    expect(conf.files).toEqual([
      join(home, '.config/containers/registries.conf'),
      join(home, '.config/containers/registries.conf.d/1.conf'),
    ]);
    expect(conf.unqualifiedSearchRegistries).toEqual(['user.example']);
    expect(conf.registries.map((r) => r.prefix)).toEqual(['u.example']);
  });

  it('names the drop-in and line of a malformed drop-in', () => {
    const bad = tree({ 'd/10-bad.conf': '[[registry]]\n\nlocation = "x.example\n' });
    const err = thrown(() => loadRegistriesConf({ main: join(bad, 'none'), mainRequired: false, dropInDirs: [join(bad, 'd')] }));
    expect(err).toBeInstanceOf(SkiffError);
    expect(err.message).toBe(`${join(bad, 'd/10-bad.conf')}:3: control characters are not allowed in strings`);
  });
});

// ─── Resolving ──────────────────────────────────────────────────────────────

describe('resolveRegistry', () => {
  const conf = loadRegistriesConf({ main: join(FIXTURES, 'mirrors.conf'), mainRequired: true, dropInDirs: [] });
  const resolve = (text: string, c: RegistriesConf = conf) => {
    const resolved = resolveRegistry(c, parseReference(text));
    return {
      prefix: resolved.entry?.prefix,
      blocked: resolved.blocked,
      reference: formatReference(resolved.reference),
      endpoints: resolved.endpoints.map((e) => [formatReference(e.reference), e.insecure, e.mirror]),
    };
  };

  it('pulls from where the name says when no entry matches', () => {
    expect(resolve('quay.io/a/b:1')).toEqual({
      prefix: undefined,
      blocked: false,
      reference: 'quay.io/a/b:1',
      endpoints: [['quay.io/a/b:1', false, false]],
    });
    const ref = parseReference('quay.io/a/b:1');
    expect(resolveRegistry(emptyRegistriesConf(), ref).reference).toBe(ref);
  });

  it('tries the mirrors in order, then the rewritten primary location', () => {
    expect(resolve('example.com/foo/image:latest')).toEqual({
      prefix: 'example.com/foo',
      blocked: false,
      reference: 'internal.example.net/bar/image:latest',
      endpoints: [
        ['mirror-0.local/mirror-for-foo/image:latest', false, true],
        ['mirror-1.local/mirrors/foo/image:latest', true, true],
        ['internal.example.net/bar/image:latest', false, false],
      ],
    });
  });

  it('uses only the mirrors of the matching entry', () => {
    expect(resolve('registry.example.org/image:1').endpoints).toEqual([
      ['mirror.registry.example.org/image:1', false, true],
      ['registry.example.org/image:1', false, false],
    ]);
  });

  it('matches whole components only', () => {
    expect(resolve('example.com/foobar/x').prefix).toBeUndefined();
    expect(resolve('example.com/foo/x').prefix).toBe('example.com/foo');
    expect(resolve('registry.example.org.evil/x').prefix).toBeUndefined();
    expect(resolve('registry.example.org:5000/x').prefix).toBe('registry.example.org');
  });

  it('matches prefixes that end at a tag or digest', () => {
    const c = confFrom(
      '[[registry]]\nprefix = "a.example/app:1"\nlocation = "pinned.example/app:1"\n[[registry]]\nprefix = "a.example/app"\nlocation = "b.example/app"\n',
    );
    expect(resolve('a.example/app:1', c).reference).toBe('pinned.example/app:1');
    expect(resolve('a.example/app:10', c).reference).toBe('b.example/app:10');
    expect(resolve(`a.example/app@${SHA256}`, c).reference).toBe(`b.example/app@${SHA256}`);
  });

  it('picks the longest matching prefix', () => {
    const c = confFrom(
      [
        '[[registry]]',
        'prefix = "a.example"',
        'location = "short.example"',
        '[[registry]]',
        'prefix = "a.example/ns/deeper"',
        'location = "long.example/d"',
        '[[registry]]',
        'prefix = "a.example/ns"',
        'location = "mid.example/n"',
      ].join('\n'),
    );
    expect(resolve('a.example/ns/deeper/img', c).reference).toBe('long.example/d/img:latest');
    expect(resolve('a.example/ns/img', c).reference).toBe('mid.example/n/img:latest');
    expect(resolve('a.example/other', c).reference).toBe('short.example/other:latest');
    expect(findRegistryEntry(c, 'a.example/ns')?.location).toBe('mid.example/n');
    expect(findRegistryEntry(c, 'a.example')?.location).toBe('short.example');
  });

  it('needs "docker.io/library" in the prefix to catch official images', () => {
    expect(resolve('busybox').endpoints).toEqual([
      ['127.0.0.1:5000/hub/busybox:latest', true, true],
      ['docker.io/library/busybox:latest', false, false],
    ]);
    expect(resolve('user/app').prefix).toBeUndefined();
    const onlyHub = confFrom('[[registry]]\nprefix = "docker.io/busybox"\nlocation = "x.example/busybox"\n');
    expect(resolve('busybox', onlyHub).prefix).toBeUndefined();
    expect(resolve('docker.io/busybox/tool', onlyHub).reference).toBe('x.example/busybox/tool:latest');
  });

  it('matches *.domain wildcards against subdomains at any depth, keeping the name', () => {
    expect(resolve('a.corp.example/app:1')).toEqual({
      prefix: '*.corp.example',
      blocked: false,
      reference: 'a.corp.example/app:1',
      endpoints: [['a.corp.example/app:1', true, false]],
    });
    expect(resolve('x.y.corp.example:5000/app').prefix).toBe('*.corp.example');
    expect(resolve('corp.example/app').prefix).toBeUndefined();
    expect(resolve('evilcorp.example/app').prefix).toBeUndefined();
    expect(resolve('corp.example.evil/app').prefix).toBeUndefined();
    expect(resolve('docker.io/corp.example/app').prefix).toBeUndefined();
  });

  it('rewrites a wildcard match when a location is given, and prefers a longer exact prefix', () => {
    const c = confFrom(
      [
        '[[registry]]',
        'prefix = "*.example.com"',
        'location = "cache.example.net"',
        '[[registry]]',
        'prefix = "special.example.com"',
        'location = "special.example.net"',
      ].join('\n'),
    );
    expect(resolve('a.example.com:5000/app', c).reference).toBe('cache.example.net:5000/app:latest');
    expect(resolve('a.example.com/ns/app:2', c).reference).toBe('cache.example.net/ns/app:2');
    expect(resolve('special.example.com/app', c).reference).toBe('special.example.net/app:latest');
  });

  it('reports blocked registries', () => {
    const resolved = resolveRegistry(conf, parseReference('evil.example/x'));
    expect(resolved.blocked).toBe(true);
    expect(resolved.entry?.prefix).toBe('evil.example');
    expect(resolve('good.example/x').blocked).toBe(false);
  });

  it('uses mirrors only for digests when mirror-by-digest-only is set', () => {
    const c = confFrom(
      '[[registry]]\nlocation = "a.example"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.example"\n',
    );
    expect(resolve('a.example/x:1', c).endpoints).toEqual([['a.example/x:1', false, false]]);
    expect(resolve(`a.example/x@${SHA256}`, c).endpoints).toEqual([
      [`m.example/x@${SHA256}`, false, true],
      [`a.example/x@${SHA256}`, false, false],
    ]);
    expect(resolve(`a.example/x:1@${SHA256}`, c).endpoints).toHaveLength(2);
  });

  it('filters each mirror by its pull-from-mirror setting', () => {
    const c = confFrom(
      [
        '[[registry]]',
        'location = "a.example"',
        '[[registry.mirror]]',
        'location = "digests.example"',
        'pull-from-mirror = "digest-only"',
        '[[registry.mirror]]',
        'location = "tags.example"',
        'pull-from-mirror = "tag-only"',
        '[[registry.mirror]]',
        'location = "all.example"',
      ].join('\n'),
    );
    expect(resolve('a.example/x:1', c).endpoints.map((e) => e[0])).toEqual([
      'tags.example/x:1',
      'all.example/x:1',
      'a.example/x:1',
    ]);
    expect(resolve(`a.example/x@${SHA256}`, c).endpoints.map((e) => e[0])).toEqual([
      `digests.example/x@${SHA256}`,
      `all.example/x@${SHA256}`,
      `a.example/x@${SHA256}`,
    ]);
  });

  it('keeps a digest-only reference digest-only, and a tag-less one tag-less, when rewriting', () => {
    const digested = resolveRegistry(conf, parseReference(`example.com/foo/x@${SHA256}`));
    expect(digested.reference).toEqual({ registry: 'internal.example.net', repository: 'bar/x', digest: SHA256 });
    const bare = resolveRegistry(conf, parseReference('example.com/foo/x', { implicitLatest: false }));
    expect(bare.reference).toEqual({ registry: 'internal.example.net', repository: 'bar/x' });
  });

  it('normalises a rewrite onto Docker Hub', () => {
    const c = confFrom('[[registry]]\nprefix = "hub.example"\nlocation = "docker.io"\n');
    expect(resolve('hub.example/busybox', c).reference).toBe('docker.io/library/busybox:latest');
  });

  it('reports a location that turns the name into an invalid reference, naming the file', () => {
    const c = confFrom('[[registry]]\nprefix = "a.example/app"\nlocation = "b.example/Upper"\n');
    const err = thrown(() => resolveRegistry(c, parseReference('a.example/app:1')));
    expect(err).toBeInstanceOf(SkiffError);
    expect(err.message).toBe(
      `${c.files[0]}: [[registry]] prefix "a.example/app" with location "b.example/Upper" turns a.example/app:1 into an invalid reference: invalid reference format "b.example/Upper:1": repository name must be lowercase`,
    );
  });
});

describe('candidatesForShortName', () => {
  const names = (c: RegistriesConf, text: string) => candidatesForShortName(c, text).map(formatReference);

  it('goes to Docker Hub when no search registries are configured, as Docker does', () => {
    const c = emptyRegistriesConf();
    expect(names(c, 'busybox')).toEqual(['docker.io/library/busybox:latest']);
    expect(names(c, 'user/app:1')).toEqual(['docker.io/user/app:1']);
    expect(names(confFrom('unqualified-search-registries = []\n'), 'busybox')).toEqual(['docker.io/library/busybox:latest']);
  });

  it('tries each search registry in order, keeping tag and digest', () => {
    const c = confFrom('unqualified-search-registries = ["quay.io", "docker.io", "localhost:5000"]\n');
    expect(names(c, 'busybox')).toEqual([
      'quay.io/busybox:latest',
      'docker.io/library/busybox:latest',
      'localhost:5000/busybox:latest',
    ]);
    expect(names(c, 'user/app:2')).toEqual(['quay.io/user/app:2', 'docker.io/user/app:2', 'localhost:5000/user/app:2']);
    expect(names(c, `app@${SHA256}`)).toEqual([
      `quay.io/app@${SHA256}`,
      `docker.io/library/app@${SHA256}`,
      `localhost:5000/app@${SHA256}`,
    ]);
    expect(names(c, `app:t@${SHA256}`)[0]).toBe(`quay.io/app:t@${SHA256}`);
    // "localhost:5000" alone is a short name: the image "localhost", tag "5000".
    expect(names(c, 'localhost:5000')[0]).toBe('quay.io/localhost:5000');
  });

  it('does not search for a name that gives its registry', () => {
    const c = confFrom('unqualified-search-registries = ["quay.io"]\n');
    expect(names(c, 'docker.io/busybox')).toEqual(['docker.io/library/busybox:latest']);
    expect(names(c, 'localhost/app')).toEqual(['localhost/app:latest']);
    expect(names(c, 'ghcr.io/a/b:1')).toEqual(['ghcr.io/a/b:1']);
  });

  it('lists a registry once even if configured twice', () => {
    const c = confFrom('unqualified-search-registries = ["quay.io", "docker.io", "quay.io"]\n');
    expect(names(c, 'x')).toEqual(['quay.io/x:latest', 'docker.io/library/x:latest']);
  });

  it('uses an alias instead of the search registries, appending tag and digest', () => {
    const dir = tree({
      'main.conf': 'unqualified-search-registries = ["quay.io"]\n',
      'd/000-shortnames.conf': readFileSync(join(FIXTURES, 'shortnames.conf'), 'utf8'),
    });
    const conf = loadRegistriesConf({ main: join(dir, 'main.conf'), mainRequired: true, dropInDirs: [join(dir, 'd')] });
    expect(names(conf, 'centos')).toEqual(['quay.io/centos/centos:latest']);
    expect(names(conf, 'centos:8')).toEqual(['quay.io/centos/centos:8']);
    expect(names(conf, `busybox@${SHA256}`)).toEqual([`docker.io/library/busybox@${SHA256}`]);
    expect(names(conf, 'library/debian:12')).toEqual(['docker.io/library/debian:12']);
    expect(names(conf, 'ubi')).toEqual(['registry.example.com/ubi/ubi:latest']);
    // No alias: the search registries.
    expect(names(conf, 'debian')).toEqual(['quay.io/debian:latest']);
    // A later drop-in erases an alias with an empty value.
    writeFileSync(join(dir, 'd/100-erase.conf'), '[aliases]\n"centos" = ""\n');
    const erased = loadRegistriesConf({ main: join(dir, 'main.conf'), mainRequired: true, dropInDirs: [join(dir, 'd')] });
    expect(names(erased, 'centos')).toEqual(['quay.io/centos:latest']);
  });

  it('rejects an invalid name with the reference error', () => {
    const err = thrown(() => candidatesForShortName(emptyRegistriesConf(), 'Busybox'));
    expect(err).toBeInstanceOf(SkiffError);
    expect(err.message).toBe('invalid reference format "Busybox": repository name must be lowercase');
  });
});

describe('the cache of parsed files', () => {
  it('gives what a parse gives, parses again a file whose text changed, and never keeps one that does not parse', () => {
    const dir = tree({
      'registries.conf': 'unqualified-search-registries = ["a.io"]\n[[registry]]\nprefix = "x.io"\nlocation = "y.io"\ninsecure = true\n',
      'd/1.conf': '[aliases]\n"tool" = "a.io/team/tool"\n',
    });
    const cacheDir = join(dir, 'cache');
    mkdirSync(cacheDir, { mode: 0o700 });
    const paths = { main: join(dir, 'registries.conf'), mainRequired: true, dropInDirs: [join(dir, 'd')] };
    const parsed = loadRegistriesConf(paths, undefined);
    const first = loadRegistriesConf(paths, cacheDir);
    const cacheFile = join(cacheDir, 'registries-conf.json');
    expect(Object.keys(JSON.parse(readFileSync(cacheFile, 'utf8')).files)).toEqual([paths.main, join(dir, 'd', '1.conf')]);
    const second = loadRegistriesConf(paths, cacheDir);
    expect(first).toEqual(parsed);
    expect(second).toEqual(parsed);
    expect(second.aliases.get('tool')).toBe('a.io/team/tool');
    // One byte more: parsed again.
    writeFileSync(join(dir, 'd', '1.conf'), '[aliases]\n"tool" = "a.io/team/tool2"\n');
    expect(loadRegistriesConf(paths, cacheDir).aliases.get('tool')).toBe('a.io/team/tool2');
    // A file that does not parse fails every time, cache or not.
    writeFileSync(paths.main, 'unqualified-search-registries = [\n');
    expect(() => loadRegistriesConf(paths, cacheDir)).toThrow(SkiffError);
    expect(() => loadRegistriesConf(paths, cacheDir)).toThrow(SkiffError);
    // A damaged cache is ignored.
    writeFileSync(paths.main, 'unqualified-search-registries = ["b.io"]\n');
    writeFileSync(cacheFile, '{"version":1,"files":{"x":');
    expect(loadRegistriesConf(paths, cacheDir).unqualifiedSearchRegistries).toEqual(['b.io']);
  });
});
