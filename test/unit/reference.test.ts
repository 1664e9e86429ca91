import { describe, expect, it } from 'vitest';
import { SkiffError } from '../../lib/errors.js';
import {
  canonicalName,
  familiarName,
  formatReference,
  type ImageReference,
  isRegistryHost,
  isUnqualifiedName,
  isValidDigest,
  parseReference,
  splitReference,
} from '../../lib/oci/reference.js';

const HEX64 = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const SHA256 = `sha256:${HEX64}`;
const SHA512 = `sha512:${HEX64}${HEX64}`;
const SHA384 = `sha384:${HEX64}${HEX64.slice(0, 32)}`;

/** The SkiffError a parse throws, so a test can check its exact line and exit code. */
function parseError(text: string): SkiffError {
  try {
    parseReference(text);
  } catch (err) {
    if (err instanceof SkiffError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parseReference: normalisation as in Docker', () => {
  const cases: Array<[string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['user/app', 'docker.io/user/app:latest'],
    ['user/app:1', 'docker.io/user/app:1'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['library/foo/bar', 'docker.io/library/foo/bar:latest'],
    ['store/foo/bar', 'docker.io/store/foo/bar:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/user/app:2', 'docker.io/user/app:2'],
    ['index.docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/user/app', 'docker.io/user/app:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag'],
    ['127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag'],
    ['192.168.0.1:8/debian', '192.168.0.1:8/debian:latest'],
    ['[::1]:5000/app', '[::1]:5000/app:latest'],
    ['[fc00::1]:5000/docker/docker', '[fc00::1]:5000/docker/docker:latest'],
    ['[fc00:1:2:3:4:5:6:7]:5000/library/debian', '[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest'],
    ['[::1]/app', '[::1]/app:latest'],
    ['host.example/app:1.2', 'host.example/app:1.2'],
    ['example.com/privatebase', 'example.com/privatebase:latest'],
    ['test-com:8080/foo', 'test-com:8080/foo:latest'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080/foo:latest'],
    // Only a first component that looks like a host is a registry.
    ['test_com/foo', 'docker.io/test_com/foo:latest'],
    ['docker/migrator', 'docker.io/docker/migrator:latest'],
    // A name without "/" is always on Docker Hub, even if it looks like a host:
    // "localhost:5000" is the image "localhost" with the tag "5000".
    ['localhost', 'docker.io/library/localhost:latest'],
    ['localhost:5000', 'docker.io/library/localhost:5000'],
    ['example.com', 'docker.io/library/example.com:latest'],
    // Separators: ".", "_", "__", and any number of "-".
    ['docker-rules/docker', 'docker.io/docker-rules/docker:latest'],
    ['docker---rules/docker', 'docker.io/docker---rules/docker:latest'],
    ['dock__er/docker', 'docker.io/dock__er/docker:latest'],
    ['a.b_c', 'docker.io/library/a.b_c:latest'],
    ['x/a.b_c', 'docker.io/x/a.b_c:latest'],
    ['d/docker', 'docker.io/d/docker:latest'],
    ['jess/t', 'docker.io/jess/t:latest'],
    ['ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base:latest'],
    // 63 hex characters is a name, not an image ID; so is a hex name under a registry.
    [HEX64.slice(0, 63), `docker.io/library/${HEX64.slice(0, 63)}:latest`],
    [`docker.io/${HEX64}`, `docker.io/library/${HEX64}:latest`],
    // Tags: word characters, ".", "-", up to 128, may be uppercase.
    ['app:TAG_1.0-rc', 'docker.io/library/app:TAG_1.0-rc'],
    ['app:_x', 'docker.io/library/app:_x'],
    [`app:${'a'.repeat(128)}`, `docker.io/library/app:${'a'.repeat(128)}`],
    // Digests: no implicit :latest; a tag and a digest are both kept.
    [`app@${SHA256}`, `docker.io/library/app@${SHA256}`],
    [`app:tag@${SHA256}`, `docker.io/library/app:tag@${SHA256}`],
    [`busybox:latest@${SHA256}`, `docker.io/library/busybox:latest@${SHA256}`],
    [`localhost:5000/app@${SHA512}`, `localhost:5000/app@${SHA512}`],
    [`quay.io/a/b@${SHA384}`, `quay.io/a/b@${SHA384}`],
    // Docker's rule: an uppercase first component is a registry host (path
    // components are lowercase, so it cannot be one). Podman differs here.
    ['Foo/bar', 'Foo/bar:latest'],
    ['FOO/bar:1', 'FOO/bar:1'],
    ['DOCKER/docker', 'DOCKER/docker:latest'],
  ];
  it.each(cases)('%s → %s', (text, canonical) => {
    expect(formatReference(parseReference(text))).toBe(canonical);
  });

  it('splits registry, repository, tag and digest into fields', () => {
    expect(parseReference('busybox')).toEqual({ registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
    expect(parseReference('[::1]:5000/a/b:t')).toEqual({ registry: '[::1]:5000', repository: 'a/b', tag: 't' });
    expect(parseReference('Foo/bar')).toEqual({ registry: 'Foo', repository: 'bar', tag: 'latest' });
    const digested = parseReference(`app@${SHA256}`);
    expect(digested).toEqual({ registry: 'docker.io', repository: 'library/app', digest: SHA256 });
    expect('tag' in digested).toBe(false);
    expect(parseReference(`a/b:t@${SHA256}`)).toEqual({
      registry: 'docker.io',
      repository: 'a/b',
      tag: 't',
      digest: SHA256,
    });
  });

  it('leaves the tag out when asked to (implicitLatest: false)', () => {
    const ref = parseReference('busybox', { implicitLatest: false });
    expect(ref).toEqual({ registry: 'docker.io', repository: 'library/busybox' });
    expect('tag' in ref).toBe(false);
    expect(formatReference(ref)).toBe('docker.io/library/busybox');
    // An explicit tag is still kept.
    expect(parseReference('busybox:1', { implicitLatest: false }).tag).toBe('1');
  });

  it('accepts a repository path of exactly 255 characters (counting "library/")', () => {
    const name = 'a'.repeat(255 - 'library/'.length);
    expect(parseReference(name).repository).toHaveLength(255);
    const path = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
    expect(parseReference(`example.com/${path}`).repository).toBe(path);
  });

  it('does not count the registry towards the 255 characters', () => {
    const host = `${'h'.repeat(60)}.example.com`;
    const path = 'p'.repeat(255);
    expect(parseReference(`${host}/${path}`).registry).toBe(host);
  });
});

describe('parseReference: invalid references', () => {
  const cases: Array<[string, string]> = [
    ['', 'the reference is empty'],
    [':', 'the repository name is missing'],
    [':tag', 'the repository name is missing'],
    [`@${SHA256}`, 'the repository name is missing'],
    [HEX64, 'a 64-character hexadecimal string is an image ID, not a repository name'],
    // Uppercase in the repository path.
    ['Busybox', 'repository name must be lowercase'],
    ['foo/Bar', 'repository name must be lowercase'],
    ['docker/Docker', 'repository name must be lowercase'],
    ['docker.io/docker/Docker', 'repository name must be lowercase'],
    ['example.com/Foo:1', 'repository name must be lowercase'],
    ['Foo/Bar', 'repository name must be lowercase'],
    // Empty components.
    ['app/', 'the repository name has an empty path component (a leading, trailing or double "/")'],
    ['app/:tag', 'the repository name has an empty path component (a leading, trailing or double "/")'],
    ['/app', 'the repository name has an empty path component (a leading, trailing or double "/")'],
    ['docker///docker', 'the repository name has an empty path component (a leading, trailing or double "/")'],
    ['docker.io/docker///docker', 'the repository name has an empty path component (a leading, trailing or double "/")'],
    ['example.com/a//b', 'the repository name has an empty path component (a leading, trailing or double "/")'],
    ['localhost:5000/', 'the repository name is missing after the registry'],
    ['docker.io/', 'the repository name is missing after the registry'],
    ['example.com/', 'the repository name is missing after the registry'],
    // Bad path components.
    ['-docker', 'invalid path component "-docker": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    ['-docker/docker', 'invalid path component "-docker": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    ['docker-/docker', 'invalid path component "docker-": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    ['____/____', 'invalid path component "____": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    ['_docker/_docker', 'invalid path component "_docker": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    ['dock___er/docker', 'invalid path component "dock___er": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    ['docker/dock..er', 'invalid path component "dock..er": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    ['docker/dock_.er', 'invalid path component "dock_.er": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    ['docker/dock-.er', 'invalid path component "dock-.er": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    ['dock..er', 'invalid path component "dock..er": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    // With a "." the first component is a registry, so these fail as hosts (as in Docker).
    ['dock..er/docker', 'registry "dock..er" is not a valid host[:port]'],
    ['dock_.er/docker', 'registry "dock_.er" is not a valid host[:port]'],
    ['dock-.er/docker', 'registry "dock-.er" is not a valid host[:port]'],
    ['a.b_c/d', 'registry "a.b_c" is not a valid host[:port]'],
    ['a b', 'invalid path component "a b": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    ['app.', 'invalid path component "app.": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    // Bad registries.
    ['https://github.com/docker/docker', 'registry "https:" is not a valid host[:port]'],
    ['-docker.io/docker/docker', 'registry "-docker.io" is not a valid host[:port]'],
    ['fc00::1:5000/debian', 'registry "fc00::1:5000" is not a valid host[:port]'],
    ['[fe80::1%eth0]:5000/debian', 'registry "[fe80::1%eth0]:5000" is not a valid host[:port]'],
    ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'registry "[2001:db8:3:4::192.0.2.33]:5000" is not a valid host[:port]'],
    ['localhost:port/app', 'registry "localhost:port" is not a valid host[:port]'],
    ['example.com:/app', 'registry "example.com:" is not a valid host[:port]'],
    ['exa_mple.com/app', 'registry "exa_mple.com" is not a valid host[:port]'],
    ['app:foo/bar', 'registry "app:foo" is not a valid host[:port]'],
    // A registry alone is not an image: without "/" the text is a Hub name,
    // whose tag starts at the first ":", leaving "[fc00" (Docker rejects these too).
    ['[fc00::1]', 'invalid path component "[fc00": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    ['[fc00::1]:5000', 'invalid path component "[fc00": use lowercase letters and digits, joined by ".", "_", "__" or dashes'],
    // Tags.
    ['app:', 'the tag after ":" is empty'],
    ['app:-x', 'invalid tag "-x": use letters, digits, "_", "." and "-", not starting with "." or "-"'],
    ['app:.x', 'invalid tag ".x": use letters, digits, "_", "." and "-", not starting with "." or "-"'],
    ['app:a:b', 'invalid tag "a:b": use letters, digits, "_", "." and "-", not starting with "." or "-"'],
    ['app:a+b', 'invalid tag "a+b": use letters, digits, "_", "." and "-", not starting with "." or "-"'],
    [`app:${'a'.repeat(129)}`, 'the tag is longer than 128 characters'],
    // Digests.
    ['app@', 'the digest after "@" is empty'],
    ['app@sha256', 'invalid digest "sha256": expected algorithm:hex, e.g. sha256:…'],
    [`app@:${HEX64}`, `invalid digest ":${HEX64}": expected algorithm:hex, e.g. sha256:…`],
    ['app@sha256:abc', 'invalid sha256 digest: expected 64 hex characters, got 3'],
    ['app@sha256:', 'invalid sha256 digest: expected 64 hex characters, got 0'],
    [`app@sha256:${HEX64}0`, 'invalid sha256 digest: expected 64 hex characters, got 65'],
    [`app@sha256:${HEX64.toUpperCase()}`, `invalid sha256 digest: "${HEX64.toUpperCase()}" is not lowercase hexadecimal`],
    [`app@sha256:${HEX64.slice(0, 63)}g`, `invalid sha256 digest: "${HEX64.slice(0, 63)}g" is not lowercase hexadecimal`],
    [`app@sha512:${HEX64}`, 'invalid sha512 digest: expected 128 hex characters, got 64'],
    [`app@md5:${HEX64.slice(0, 32)}`, 'unsupported digest algorithm "md5" (supported: sha256, sha384, sha512)'],
    [`app@SHA256:${HEX64}`, 'unsupported digest algorithm "SHA256" (supported: sha256, sha384, sha512)'],
    [`app@1sha:${HEX64}`, `invalid digest "1sha:${HEX64}": expected algorithm:hex, e.g. sha256:…`],
    [`app@${SHA256}@${SHA256}`, `invalid sha256 digest: "${HEX64}@${SHA256}" is not lowercase hexadecimal`],
    // Too long.
    ['a'.repeat(256 - 'library/'.length), 'repository name must not be more than 255 characters'],
    [
      'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker',
      'repository name must not be more than 255 characters',
    ],
  ];

  it.each(cases)('%j: %s', (text, problem) => {
    const err = parseError(text);
    expect(err.message).toBe(`invalid reference format ${JSON.stringify(text)}: ${problem}`);
    expect(err.exitCode).toBe(125);
  });

  it('reports the example from the brief as one line naming the reference', () => {
    expect(() => parseReference('foo/Bar')).toThrowError(
      new SkiffError('invalid reference format "foo/Bar": repository name must be lowercase'),
    );
  });

  it('keeps the message on one line even for a reference with a newline', () => {
    const err = parseError('app\nrm -rf');
    expect(err.message).not.toContain('\n');
    expect(err.message).toBe('invalid reference format "app\\nrm -rf": invalid path component "app\\nrm -rf": use lowercase letters and digits, joined by ".", "_", "__" or dashes');
  });
});

describe('formatReference and familiarName', () => {
  const cases: Array<[string, string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1', 'docker.io/library/busybox:1', 'busybox:1'],
    ['user/app:1', 'docker.io/user/app:1', 'user/app:1'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/user/app', 'docker.io/user/app:latest', 'user/app:latest'],
    // "library/" is dropped only for a one-component official name.
    ['library/foo/bar', 'docker.io/library/foo/bar:latest', 'library/foo/bar:latest'],
    ['localhost:5000/app:x', 'localhost:5000/app:x', 'localhost:5000/app:x'],
    ['localhost/library/app', 'localhost/library/app:latest', 'localhost/library/app:latest'],
    ['quay.io/library/app', 'quay.io/library/app:latest', 'quay.io/library/app:latest'],
    ['127.0.0.1:8000/private/moonbase', '127.0.0.1:8000/private/moonbase:latest', '127.0.0.1:8000/private/moonbase:latest'],
    ['[::1]:5000/app', '[::1]:5000/app:latest', '[::1]:5000/app:latest'],
    ['Foo/bar', 'Foo/bar:latest', 'Foo/bar:latest'],
    [`busybox@${SHA256}`, `docker.io/library/busybox@${SHA256}`, `busybox@${SHA256}`],
    [`busybox:latest@${SHA256}`, `docker.io/library/busybox:latest@${SHA256}`, `busybox:latest@${SHA256}`],
  ];
  it.each(cases)('%s → %s, shown as %s', (text, full, familiar) => {
    const ref = parseReference(text);
    expect(formatReference(ref)).toBe(full);
    expect(familiarName(ref)).toBe(familiar);
  });

  it('round-trips: parsing the full or the familiar form gives the same reference', () => {
    for (const [text] of cases) {
      const ref = parseReference(text);
      expect(parseReference(formatReference(ref))).toEqual(ref);
      expect(parseReference(familiarName(ref))).toEqual(ref);
    }
  });

  it('formats a reference built by hand, with neither tag nor digest', () => {
    const ref: ImageReference = { registry: 'docker.io', repository: 'library/alpine' };
    expect(formatReference(ref)).toBe('docker.io/library/alpine');
    expect(familiarName(ref)).toBe('alpine');
    expect(canonicalName({ ...ref, tag: '3', digest: SHA256 })).toBe('docker.io/library/alpine');
  });
});

describe('isUnqualifiedName', () => {
  it.each([
    'busybox',
    'busybox:1',
    `busybox@${SHA256}`,
    'user/app',
    'user/app:1',
    'library/busybox',
    'a/b/c',
    // A name without "/" names no registry, whatever it looks like.
    'localhost',
    'localhost:5000',
    'example.com',
  ])('%s names no registry', (text) => {
    expect(isUnqualifiedName(text)).toBe(true);
  });

  it.each([
    'docker.io/busybox',
    'docker.io/library/busybox',
    'index.docker.io/busybox',
    'localhost/app',
    'localhost:5000/app',
    'quay.io/a/b:1',
    '127.0.0.1:5000/a',
    '[::1]:5000/app',
    'host:5000/app',
    'Foo/bar',
  ])('%s names its registry', (text) => {
    expect(isUnqualifiedName(text)).toBe(false);
  });
});

describe('splitReference', () => {
  it.each([
    ['busybox', { name: 'busybox' }],
    ['busybox:1', { name: 'busybox', tag: '1' }],
    ['localhost:5000/app', { name: 'localhost:5000/app' }],
    ['localhost:5000/app:2', { name: 'localhost:5000/app', tag: '2' }],
    ['[::1]:5000/app:2', { name: '[::1]:5000/app', tag: '2' }],
    [`a/b@${SHA256}`, { name: 'a/b', digest: SHA256 }],
    [`a/b:t@${SHA256}`, { name: 'a/b', tag: 't', digest: SHA256 }],
    ['app:', { name: 'app', tag: '' }],
  ] as const)('%s', (text, parts) => {
    expect(splitReference(text)).toEqual(parts);
  });
});

describe('isValidDigest', () => {
  it('accepts sha256, sha384 and sha512 digests of the right length', () => {
    expect(isValidDigest(SHA256)).toBe(true);
    expect(isValidDigest(SHA384)).toBe(true);
    expect(isValidDigest(SHA512)).toBe(true);
  });
  it('rejects the wrong length, uppercase hex, unknown algorithms and junk', () => {
    expect(isValidDigest(`sha256:${HEX64.slice(1)}`)).toBe(false);
    expect(isValidDigest(`sha512:${HEX64}`)).toBe(false);
    expect(isValidDigest(`sha256:${HEX64.toUpperCase()}`)).toBe(false);
    expect(isValidDigest(`md5:${HEX64}`)).toBe(false);
    expect(isValidDigest(HEX64)).toBe(false);
    expect(isValidDigest('')).toBe(false);
    expect(isValidDigest('toString:abc')).toBe(false);
  });
});

describe('isRegistryHost', () => {
  it.each(['docker.io', 'localhost', 'localhost:5000', '127.0.0.1:5000', '[::1]', '[fc00::1]:5000', 'Foo', 'xn--n3h.com', 'a-b.c'])(
    '%s is a host[:port]',
    (text) => expect(isRegistryHost(text)).toBe(true),
  );
  it.each(['', 'a_b.com', '-a.com', 'a-.com', 'a..com', 'host:', 'host:port', 'fc00::1', '[fe80::1%eth0]', 'a.com/x', 'https://a.com'])(
    '%j is not',
    (text) => expect(isRegistryHost(text)).toBe(false),
  );
});
