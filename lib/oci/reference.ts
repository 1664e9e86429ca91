// Image references ("busybox", "localhost:5000/app:1", "app@sha256:…"): parsing,
// normalisation and display. The grammar and the normalisation rules are those of
// Docker's distribution/reference package, so that a name means to skiff exactly
// what it means to `docker`:
//
//   reference      := name [ ":" tag ] [ "@" digest ]
//   name           := [registry "/"] path-component ["/" path-component]*
//   registry       := host [":" port]          host: DNS-ish name, IPv4, or [IPv6]
//   path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag            := [\w][\w.-]{0,127}
//   digest         := algorithm ":" hex        (sha256: 64, sha384: 96, sha512: 128 lowercase hex)
//
// The first component is a registry only if it is "localhost", contains "." or ":",
// or contains an uppercase letter (path components are lowercase, so it cannot be
// one); otherwise the name is on Docker Hub, and a one-component Hub name lives in
// "library/". Docker's own parser treats an uppercase first component as a host;
// Podman's fork of it does not, and we follow Docker.
import { SkiffError } from '../errors.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
/** Docker Hub's old name, normalised to DEFAULT_REGISTRY. */
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_NAMESPACE = 'library/';
/** Longest repository path (everything after the registry), as in Docker. */
export const MAX_REPOSITORY_LENGTH = 255;

export interface ImageReference {
  /** host[:port]: "docker.io", "localhost:5000", "[::1]:5000". */
  registry: string;
  /** The path below the registry: "library/busybox", "user/app". */
  repository: string;
  tag?: string;
  /** algorithm:hex, e.g. "sha256:…". */
  digest?: string;
}

export interface ParseReferenceOptions {
  /** Give a reference with neither tag nor digest the tag "latest" (default true). */
  implicitLatest?: boolean;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const REGISTRY_HOST = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const TAG = /^\w[\w.-]{0,127}$/;
const IMAGE_ID = /^[a-f0-9]{64}$/;
const DIGEST_ALGORITHM = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*$/;
/** Hex length of each supported digest algorithm (those of OCI and go-digest). */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * Parses and normalises an image reference the way `docker` does:
 * "busybox" → docker.io/library/busybox:latest. Throws a SkiffError naming the
 * reference and what is wrong with it.
 */
export function parseReference(text: string, opts: ParseReferenceOptions = {}): ImageReference {
  const fail = (problem: string): SkiffError =>
    new SkiffError(`invalid reference format ${JSON.stringify(text)}: ${problem}`);

  if (text === '') throw fail('the reference is empty');
  if (IMAGE_ID.test(text)) {
    throw fail('a 64-character hexadecimal string is an image ID, not a repository name');
  }
  const { name, tag, digest } = splitReference(text);
  if (name === '') throw fail('the repository name is missing');

  const { registry, explicit, path } = splitRegistry(name);
  if (explicit && !REGISTRY_HOST.test(registry)) {
    throw fail(`registry ${JSON.stringify(registry)} is not a valid host[:port]`);
  }
  if (path === '') throw fail('the repository name is missing after the registry');
  if (path !== path.toLowerCase()) throw fail('repository name must be lowercase');
  for (const component of path.split('/')) {
    if (component === '') {
      throw fail('the repository name has an empty path component (a leading, trailing or double "/")');
    }
    if (!PATH_COMPONENT.test(component)) {
      throw fail(
        `invalid path component ${JSON.stringify(component)}: use lowercase letters and digits, ` +
          'joined by ".", "_", "__" or dashes',
      );
    }
  }
  const repository = registry === DEFAULT_REGISTRY && !path.includes('/') ? OFFICIAL_NAMESPACE + path : path;
  if (repository.length > MAX_REPOSITORY_LENGTH) {
    throw fail(`repository name must not be more than ${MAX_REPOSITORY_LENGTH} characters`);
  }

  if (tag !== undefined) {
    if (tag === '') throw fail('the tag after ":" is empty');
    if (tag.length > 128) throw fail('the tag is longer than 128 characters');
    if (!TAG.test(tag)) {
      throw fail(
        `invalid tag ${JSON.stringify(tag)}: use letters, digits, "_", "." and "-", ` +
          'not starting with "." or "-"',
      );
    }
  }
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) throw fail(problem);
  }

  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  else if (digest === undefined && opts.implicitLatest !== false) ref.tag = DEFAULT_TAG;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/**
 * Splits reference text into its name, tag and digest, without validating
 * anything: the digest follows the first "@", the tag the first ":" after the
 * last "/" of what remains (a ":" before it belongs to the registry's port).
 */
export function splitReference(text: string): { name: string; tag?: string; digest?: string } {
  let name = text;
  let digest: string | undefined;
  const at = name.indexOf('@');
  if (at !== -1) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
  }
  let tag: string | undefined;
  const colon = name.indexOf(':', name.lastIndexOf('/') + 1);
  if (colon !== -1) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  const parts: { name: string; tag?: string; digest?: string } = { name };
  if (tag !== undefined) parts.tag = tag;
  if (digest !== undefined) parts.digest = digest;
  return parts;
}

/**
 * True when the text names no registry of its own ("busybox", "user/app:1"), so
 * that unqualified-search registries apply. Note that "localhost:5000" alone is
 * the image "localhost" with tag "5000", as in Docker. Does not validate.
 */
export function isUnqualifiedName(text: string): boolean {
  return !splitRegistry(splitReference(text).name).explicit;
}

/** The full canonical form: "docker.io/library/busybox:latest", "host/app:1@sha256:…". */
export function formatReference(ref: ImageReference): string {
  return `${canonicalName(ref)}${suffix(ref)}`;
}

/** The repository's full name without tag or digest: "docker.io/library/busybox". */
export function canonicalName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/**
 * Docker's short display form: Docker Hub's registry and its "library/"
 * namespace are left out ("busybox:latest", "user/app:1"); any other registry
 * is kept ("localhost:5000/app:x").
 */
export function familiarName(ref: ImageReference): string {
  let name = canonicalName(ref);
  if (ref.registry === DEFAULT_REGISTRY) {
    name = ref.repository;
    if (name.startsWith(OFFICIAL_NAMESPACE)) {
      const rest = name.slice(OFFICIAL_NAMESPACE.length);
      // "library/a/b" keeps its namespace, as in Docker.
      if (!rest.includes('/')) name = rest;
    }
  }
  return `${name}${suffix(ref)}`;
}

/** True for a registry as a reference may name it: host[:port], "[IPv6]" hosts included. */
export function isRegistryHost(text: string): boolean {
  return REGISTRY_HOST.test(text);
}

/** True for a well-formed digest of a supported algorithm ("sha256:" + 64 lowercase hex). */
export function isValidDigest(digest: string): boolean {
  return digestProblem(digest) === undefined;
}

function suffix(ref: ImageReference): string {
  return (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** Decides, as Docker does, whether a name's first component is a registry. */
function splitRegistry(name: string): { registry: string; explicit: boolean; path: string } {
  const slash = name.indexOf('/');
  if (slash === -1) return { registry: DEFAULT_REGISTRY, explicit: false, path: name };
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  if (first === LEGACY_DEFAULT_REGISTRY) return { registry: DEFAULT_REGISTRY, explicit: true, path: rest };
  if (first === 'localhost' || /[.:]/.test(first) || first !== first.toLowerCase()) {
    return { registry: first, explicit: true, path: rest };
  }
  return { registry: DEFAULT_REGISTRY, explicit: false, path: name };
}

function digestProblem(digest: string): string | undefined {
  if (digest === '') return 'the digest after "@" is empty';
  const colon = digest.indexOf(':');
  if (colon <= 0) return `invalid digest ${JSON.stringify(digest)}: expected algorithm:hex, e.g. sha256:…`;
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = Object.hasOwn(DIGEST_HEX_LENGTH, algorithm) ? DIGEST_HEX_LENGTH[algorithm] : undefined;
  if (length === undefined) {
    return DIGEST_ALGORITHM.test(algorithm)
      ? `unsupported digest algorithm ${JSON.stringify(algorithm)} (supported: sha256, sha384, sha512)`
      : `invalid digest ${JSON.stringify(digest)}: expected algorithm:hex, e.g. sha256:…`;
  }
  if (!/^[a-f0-9]*$/.test(hex)) {
    return `invalid ${algorithm} digest: ${JSON.stringify(hex)} is not lowercase hexadecimal`;
  }
  if (hex.length !== length) {
    return `invalid ${algorithm} digest: expected ${length} hex characters, got ${hex.length}`;
  }
  return undefined;
}
