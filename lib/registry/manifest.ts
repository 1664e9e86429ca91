// Manifests, indexes and image configs as registries serve them: what kind
// of document the bytes are (the body's own mediaType first, then the
// Content-Type, then the shape, as containers/image guesses), schema 1 refused,
// and validation with zod (its tree-shakable "mini" API: the classic one
// costs ~70 ms of start-up per pull) so that everything after this trusts the types.
import { createRequire } from 'node:module';
import * as z from 'zod/mini';
import { SkiffError } from '../errors.js';
import { MEDIA_TYPE, type ImageConfig, type ImageIndex, type ImageManifest } from '../oci/image-spec.js';
import { sha256Hex } from './sha256.js';

const requireBuiltin = createRequire('/'); // for built-in modules only: the base path plays no part
/** Documents up to this size are hashed by sha256.ts (@noble/hashes: plain JavaScript, slower than node:crypto on large ones). */
const SMALL_DOCUMENT = 64 << 10;

export const MANIFEST_ACCEPT = [
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.dockerManifestList,
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.dockerManifest,
  // Asked for only so that an old image is refused clearly rather than reported missing.
  MEDIA_TYPE.dockerSchema1Signed,
  MEDIA_TYPE.dockerSchema1,
].join(', ');

const IMAGE_CONFIG_TYPES = new Set<string>([MEDIA_TYPE.ociConfig, MEDIA_TYPE.dockerConfig]);
const INDEX_TYPES = new Set<string>([MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MEDIA_TYPE.ociManifest, MEDIA_TYPE.dockerManifest]);
const SCHEMA1_TYPES = new Set<string>([MEDIA_TYPE.dockerSchema1, MEDIA_TYPE.dockerSchema1Signed]);

const Digest = z.string().check(z.regex(/^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/, 'not a sha256/sha384/sha512 digest'));
const StringMap = z.record(z.string(), z.string());
const PlatformSchema = z.looseObject({
  os: z.string(),
  architecture: z.string(),
  variant: z.optional(z.string()),
  'os.version': z.optional(z.string()),
  'os.features': z.optional(z.array(z.string())),
});
const DescriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: Digest,
  size: z.int().check(z.nonnegative()),
  urls: z.optional(z.array(z.string())),
  annotations: z.optional(StringMap),
  platform: z.optional(PlatformSchema),
});
const ManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.optional(z.string()),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
  annotations: z.optional(StringMap),
});
const IndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.optional(z.string()),
  manifests: z.array(DescriptorSchema),
  annotations: z.optional(StringMap),
});
const StringList = z.optional(z.nullable(z.array(z.string())));
const ConfigSchema = z.looseObject({
  created: z.optional(z.string()),
  author: z.optional(z.string()),
  architecture: z.string(),
  os: z.string(),
  variant: z.optional(z.string()),
  config: z.optional(
    z.nullable(
      z.looseObject({
        User: z.optional(z.string()),
        Env: StringList,
        Entrypoint: StringList,
        Cmd: StringList,
        WorkingDir: z.optional(z.string()),
        Labels: z.optional(z.nullable(StringMap)),
        StopSignal: z.optional(z.string()),
      }),
    ),
  ),
  rootfs: z.looseObject({ type: z.literal('layers'), diff_ids: z.array(Digest) }),
  history: z.optional(z.array(z.looseObject({}))),
});

export type ManifestDocument = { kind: 'manifest'; mediaType: string; manifest: ImageManifest } | { kind: 'index'; mediaType: string; index: ImageIndex };

/** "application/vnd.oci.image.manifest.v1+json; charset=utf-8" → the bare type. */
function bareType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** One line from a zod error: the first problem and where. */
function describeIssue(err: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issue = err.issues[0];
  if (issue === undefined) return 'invalid';
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'the document';
  return `${where}: ${issue.message}`;
}

export function schema1Error(what: string): SkiffError {
  return new SkiffError(
    `${what} uses Docker schema 1, which skiff does not support: rebuild or re-push the image with a current Docker/Podman/Buildah`,
  );
}

/**
 * Decides what the bytes are and validates them. `what` names the document
 * for messages ("the manifest of 127.0.0.1:5000/app:1").
 */
export function parseManifestDocument(bytes: Buffer, contentType: string | null | undefined, what: string): ManifestDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new SkiffError(`${what} is not valid JSON`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new SkiffError(`${what} is not a JSON object`);
  const body = doc as { schemaVersion?: unknown; mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
  const header = bareType(contentType);
  if (body.schemaVersion === 1 || (SCHEMA1_TYPES.has(header) && body.schemaVersion !== 2)) {
    throw schema1Error(what);
  }
  // CVE-2021-41190: a document that reads as a manifest to one tool and as an
  // index to another is refused, whichever this one would have taken.
  const hasManifests = body.manifests !== undefined;
  const hasImageFields = body.layers !== undefined || body.config !== undefined;
  if (hasManifests && hasImageFields) {
    throw new SkiffError(`${what} is ambiguous: it has both an index's "manifests" and a manifest's ${body.layers !== undefined ? '"layers"' : '"config"'} (CVE-2021-41190)`);
  }
  const declared = typeof body.mediaType === 'string' ? body.mediaType : '';
  const known = (t: string) => INDEX_TYPES.has(t) || MANIFEST_TYPES.has(t);
  if (declared !== '' && known(header) && declared !== header) {
    throw new SkiffError(`${what} is ambiguous: its mediaType ${declared} disagrees with the registry's Content-Type ${header} (CVE-2021-41190)`);
  }
  let mediaType = declared;
  if (mediaType === '' && known(header)) mediaType = header;
  if (INDEX_TYPES.has(mediaType) && hasImageFields) {
    throw new SkiffError(`${what} is ambiguous: it is an index (${mediaType}) but has a manifest's ${body.layers !== undefined ? '"layers"' : '"config"'} (CVE-2021-41190)`);
  }
  if (MANIFEST_TYPES.has(mediaType) && hasManifests) {
    throw new SkiffError(`${what} is ambiguous: it is an image manifest (${mediaType}) but has an index's "manifests" (CVE-2021-41190)`);
  }
  if (mediaType === '') {
    // Neither says: an OCI document without the optional field.
    if (Array.isArray(body.manifests)) mediaType = MEDIA_TYPE.ociIndex;
    else if (body.config !== undefined && Array.isArray(body.layers)) mediaType = MEDIA_TYPE.ociManifest;
    else throw new SkiffError(`${what} is neither an image manifest nor an index (no mediaType, Content-Type ${JSON.stringify(header)})`);
  }
  if (SCHEMA1_TYPES.has(mediaType)) throw schema1Error(what);
  if (INDEX_TYPES.has(mediaType)) {
    const r = IndexSchema.safeParse(doc);
    if (!r.success) throw new SkiffError(`${what} is not a valid image index: ${describeIssue(r.error)}`);
    return { kind: 'index', mediaType, index: r.data as ImageIndex };
  }
  if (MANIFEST_TYPES.has(mediaType)) {
    const r = ManifestSchema.safeParse(doc);
    if (!r.success) throw new SkiffError(`${what} is not a valid image manifest: ${describeIssue(r.error)}`);
    const manifest = r.data as ImageManifest;
    if (!IMAGE_CONFIG_TYPES.has(manifest.config.mediaType)) {
      throw new SkiffError(`${what} is not a container image: its config is ${manifest.config.mediaType}`);
    }
    return { kind: 'manifest', mediaType, manifest };
  }
  throw new SkiffError(`${what} has the unsupported media type ${mediaType}`);
}

/**
 * CVE-2021-41190: the document an index entry names must be what the entry
 * says it is (a manifest named as an index, or the other way round, is refused).
 */
export function checkDescribedAs(doc: ManifestDocument, descriptorType: string | undefined, what: string): void {
  if (descriptorType === undefined || !(INDEX_TYPES.has(descriptorType) || MANIFEST_TYPES.has(descriptorType))) return;
  if (doc.mediaType !== descriptorType) {
    throw new SkiffError(`${what} is ambiguous: the index names it ${descriptorType} but it is ${doc.mediaType} (CVE-2021-41190)`);
  }
}

/** Validates an image config; its layer count must match the manifest's. */
export function parseImageConfig(bytes: Buffer, manifest: ImageManifest, what: string): ImageConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new SkiffError(`${what} is not valid JSON`);
  }
  const r = ConfigSchema.safeParse(doc);
  if (!r.success) throw new SkiffError(`${what} is not a valid image configuration: ${describeIssue(r.error)}`);
  const config = r.data as ImageConfig;
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new SkiffError(
      `${what} lists ${config.rootfs.diff_ids.length} layer diffIDs but the manifest has ${manifest.layers.length} layers`,
    );
  }
  return config;
}

/** The digest of `bytes` with the algorithm of `like` (sha256 by default). */
export function digestOf(bytes: Buffer, like = 'sha256:'): string {
  const algorithm = like.slice(0, like.indexOf(':'));
  // A manifest or config of a few KiB is hashed here; node:crypto (~3 ms to load) only for large ones or other algorithms.
  if (algorithm === 'sha256' && bytes.length <= SMALL_DOCUMENT) return `sha256:${sha256Hex(bytes)}`;
  const { createHash } = requireBuiltin('node:crypto') as typeof import('node:crypto');
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
