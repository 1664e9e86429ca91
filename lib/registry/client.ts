// The registry client (the contract is types.ts): from what the user typed to
// a verified manifest and config, and verified blob streams.
//
//   name ─► registries.conf (short names, aliases, blocked, mirrors, insecure)
//        ─► per endpoint: ping /v2/ (scheme, challenge) ─► auth ─► manifest
//        ─► index? choose the platform ─► manifest by digest ─► config blob
//
// Every document is checked against its digest (the reference's, the index
// entry's, the manifest's config descriptor); a tag pull records the digest
// of the bytes served.
import { SkiffError } from '../errors.js';
import type { Descriptor, Platform } from '../oci/image-spec.js';
import { familiarName, type ImageReference } from '../oci/reference.js';
import { AuthSession, unauthorized, UnauthorizedError } from './auth.js';
import { VerifiedBlobStream, type BlobSource } from './blob-stream.js';
import { lookupCredentials } from './credentials.js';
import { describeErrorBody, parseErrorBody } from './http-errors.js';
import { checkDescribedAs, digestOf, MANIFEST_ACCEPT, parseImageConfig, parseManifestDocument } from './manifest.js';
import { choosePlatform, formatPlatform, hostPlatform, listPlatforms, normalizePlatform } from './platform.js';
import {
  candidatesForShortName,
  findRegistryEntry,
  loadRegistriesConf,
  resolveRegistry,
  type RegistriesConf,
} from './registries-conf.js';
import { discard, readBody, type Response, Transport } from './transport.js';
import type { BlobOptions, RegistryClient, RegistryClientOptions, ResolvedImage } from './types.js';

const MAX_MANIFEST_BYTES = 4 << 20;
const MAX_CONFIG_BYTES = 8 << 20;
const MAX_ERROR_BODY_BYTES = 64 << 10;

/** The image (or the repository) is not in the registry: the next short-name candidate may have it. */
export class ImageNotFoundError extends SkiffError {}

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  return new Client(options);
}

interface Origin {
  session: AuthSession;
  /** The reference as the user knows it, for messages. */
  display: string;
}

class Client implements RegistryClient {
  private readonly transport: Transport;
  private readonly platform: Platform;
  /** The platform as asked for (or the host's), for messages. */
  private readonly platformName: string;
  private conf: RegistriesConf | undefined;
  private readonly sessions = new Map<string, AuthSession>();
  private readonly origins = new WeakMap<ResolvedImage, Origin>();

  constructor(private readonly options: RegistryClientOptions) {
    this.transport = new Transport({ tlsVerify: options.tlsVerify !== false });
    this.platform = normalizePlatform(options.platform ?? hostPlatform());
    this.platformName = formatPlatform(options.platform ?? hostPlatform());
  }

  private registriesConf(): RegistriesConf {
    this.conf ??= loadRegistriesConf();
    return this.conf;
  }

  async resolve(text: string): Promise<ResolvedImage> {
    const conf = this.registriesConf();
    const candidates = candidatesForShortName(conf, text);
    if (candidates.length > 1 && conf.shortNameMode === 'enforcing') {
      throw new SkiffError(
        `"${text}" is a short name and registries.conf enforces short-name resolution, which needs a prompt: ` +
          `name the registry (e.g. ${candidates[0]!.registry}/${text}) or add an alias in registries.conf`,
      );
    }
    if (candidates.length === 1) return this.resolveQualified(conf, candidates[0]!);
    const failures: { ref: ImageReference; err: SkiffError }[] = [];
    for (const ref of candidates) {
      try {
        return await this.resolveQualified(conf, ref);
      } catch (err) {
        if (!(err instanceof SkiffError)) throw err;
        failures.push({ ref, err });
      }
    }
    if (failures.every((f) => f.err instanceof ImageNotFoundError)) {
      const where = candidates.map((c) => c.registry).join(', ');
      throw new ImageNotFoundError(`image "${text}" not found in any unqualified-search registry (${where})`);
    }
    throw new SkiffError(`pulling "${text}": ${failures.map((f) => `${f.ref.registry}: ${f.err.message}`).join('; ')}`);
  }

  private async resolveQualified(conf: RegistriesConf, ref: ImageReference): Promise<ResolvedImage> {
    const resolved = resolveRegistry(conf, ref);
    if (resolved.blocked) {
      throw new SkiffError(`cannot pull ${familiarName(ref)}: registry "${resolved.entry!.prefix}" is blocked in ${resolved.entry!.file}`);
    }
    let mirrorError: unknown;
    for (const endpoint of resolved.endpoints) {
      try {
        return await this.fetchImage(ref, endpoint.reference, endpoint.insecure);
      } catch (err) {
        // A failing mirror falls through to the next endpoint; the primary's failure is the answer.
        if (!endpoint.mirror) throw err;
        mirrorError = err;
      }
    }
    throw mirrorError;
  }

  private session(registry: string, repository: string, insecure: boolean): AuthSession {
    const key = `${registry}|${insecure}|${repository}`;
    let session = this.sessions.get(key);
    if (session === undefined) {
      const endpoint = this.transport.endpoint(registry, insecure);
      const helpers = this.registriesConf().credentialHelpers;
      session = new AuthSession(endpoint, this.transport, () =>
        lookupCredentials(registry, repository, {
          ...(this.options.authFile !== undefined ? { authFile: this.options.authFile } : {}),
          ...(helpers !== undefined ? { helpers } : {}),
        }),
      );
      this.sessions.set(key, session);
    }
    return session;
  }

  private async fetchImage(reference: ImageReference, source: ImageReference, insecure: boolean): Promise<ResolvedImage> {
    try {
      return await this.fetchImageFrom(reference, source, insecure);
    } catch (err) {
      // The token server's refusal does not know which image it was for.
      if (err instanceof UnauthorizedError && !err.hasContext) {
        throw unauthorized(source.registry, err.problem, `pulling ${familiarName(reference)}`);
      }
      throw err;
    }
  }

  private async fetchImageFrom(reference: ImageReference, source: ImageReference, insecure: boolean): Promise<ResolvedImage> {
    const session = this.session(source.registry, source.repository, insecure);
    const display = familiarName(reference);
    const top = await this.getManifest(session, source, source.digest ?? source.tag ?? 'latest', display);
    const topDigest = source.digest ?? digestOf(top.bytes);
    if (source.digest !== undefined && digestOf(top.bytes, source.digest) !== source.digest) {
      throw new SkiffError(`the manifest of ${display} from ${source.registry} does not match the digest ${source.digest}: the registry served wrong data`);
    }
    const doc = parseManifestDocument(top.bytes, top.contentType, `the manifest of ${display}`);

    let image: Pick<ResolvedImage, 'manifestDigest' | 'manifest' | 'manifestBytes' | 'indexDigest' | 'indexBytes'>;
    if (doc.kind === 'manifest') {
      image = { manifestDigest: topDigest, manifest: doc.manifest, manifestBytes: top.bytes };
    } else {
      const chosen = choosePlatform(doc.index.manifests, this.platform);
      if (chosen === undefined) {
        throw new SkiffError(
          `image ${display} has no variant for platform ${this.platformName} ` +
            `(it offers ${listPlatforms(doc.index.manifests)}): choose one with --platform`,
        );
      }
      const child = await this.getManifest(session, source, chosen.digest, display);
      if (child.bytes.length !== chosen.size || digestOf(child.bytes, chosen.digest) !== chosen.digest) {
        throw new SkiffError(
          `the ${formatPlatform(chosen.platform!)} manifest of ${display} from ${source.registry} does not match ` +
            `the index entry ${chosen.digest}: the registry served wrong data`,
        );
      }
      const childDoc = parseManifestDocument(child.bytes, child.contentType, `the ${formatPlatform(chosen.platform!)} manifest of ${display}`);
      checkDescribedAs(childDoc, chosen.mediaType, `the ${formatPlatform(chosen.platform!)} manifest of ${display}`);
      if (childDoc.kind !== 'manifest') {
        throw new SkiffError(`the ${formatPlatform(chosen.platform!)} entry of ${display} is itself an index; nested indexes are not supported`);
      }
      image = { manifestDigest: chosen.digest, manifest: childDoc.manifest, manifestBytes: child.bytes, indexDigest: topDigest, indexBytes: top.bytes };
    }

    const configDesc = image.manifest.config;
    if (configDesc.size > MAX_CONFIG_BYTES) {
      throw new SkiffError(`the configuration of ${display} is too large (${configDesc.size} bytes, at most ${MAX_CONFIG_BYTES})`);
    }
    const configBytes = this.storedConfig(configDesc) ?? (await this.fetchConfig(session, source, configDesc, display));
    const config = parseImageConfig(configBytes, image.manifest, `the configuration of ${display}`);
    const resolved: ResolvedImage = { reference, source, ...image, config, configBytes };
    if (resolved.indexDigest === undefined) delete resolved.indexDigest;
    if (resolved.indexBytes === undefined) delete resolved.indexBytes;
    this.origins.set(resolved, { session, display });
    return resolved;
  }

  /** The config as this host holds it, when it is the one described. */
  private storedConfig(desc: Descriptor): Buffer | undefined {
    let bytes: Buffer | undefined;
    try {
      bytes = this.options.storedBlob?.(desc.digest);
    } catch {
      return undefined; // unreadable here: ask the registry
    }
    return bytes !== undefined && bytes.length === desc.size && digestOf(bytes, desc.digest) === desc.digest ? bytes : undefined;
  }

  private async fetchConfig(session: AuthSession, source: ImageReference, desc: Descriptor, display: string): Promise<Buffer> {
    const res = await this.getBlob(session, source, desc, 0, display);
    const bytes = await readBody(res, MAX_CONFIG_BYTES, `the configuration of ${display}`);
    if (bytes.length !== desc.size || digestOf(bytes, desc.digest) !== desc.digest) {
      throw new SkiffError(`blob ${desc.digest} from ${source.registry} does not match its digest: the registry served wrong data`);
    }
    return bytes;
  }

  async openBlob(image: ResolvedImage, blob: Descriptor, opts: BlobOptions = {}): Promise<VerifiedBlobStream> {
    const origin = this.origins.get(image) ?? this.originFor(image);
    const source: BlobSource = {
      registry: image.source.registry,
      open: (offset) => this.getBlob(origin.session, image.source, blob, offset, origin.display),
    };
    // The first request is made here, so that a refused or missing blob rejects this promise.
    const first = await source.open(0);
    try {
      return new VerifiedBlobStream(source, blob, { first, ...(opts.onBytes ? { onBytes: opts.onBytes } : {}) });
    } catch (err) {
      discard(first);
      throw err;
    }
  }

  /** For an image object this client did not produce (a copy): the session its source calls for. */
  private originFor(image: ResolvedImage): Origin {
    const conf = this.registriesConf();
    const entry = findRegistryEntry(conf, image.source.registry);
    const mirror = entry?.mirrors.find((m) => m.location.split('/')[0] === image.source.registry);
    const insecure = mirror ? mirror.insecure : (entry?.insecure ?? false);
    return { session: this.session(image.source.registry, image.source.repository, insecure), display: familiarName(image.reference) };
  }

  private async getManifest(session: AuthSession, source: ImageReference, tagOrDigest: string, display: string): Promise<{ bytes: Buffer; contentType: string | null }> {
    const res = await session.request(`/v2/${source.repository}/manifests/${tagOrDigest}`, [pullScope(source)], {
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (res.status !== 200) throw await this.failure(session, res, source, display, tagOrDigest.includes(':') ? `manifest ${tagOrDigest}` : undefined);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, `the manifest of ${display}`);
    return { bytes, contentType: res.headers.get('content-type') };
  }

  private async getBlob(session: AuthSession, source: ImageReference, blob: Descriptor, offset: number, display: string): Promise<Response> {
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const res = await session.request(`/v2/${source.repository}/blobs/${blob.digest}`, [pullScope(source)], { headers });
    if (res.status === 200 || (res.status === 206 && offset > 0)) return res;
    throw await this.failure(session, res, source, display, `blob ${blob.digest}`);
  }

  /** One line for a registry's refusal; `part` names a blob or manifest within the image. */
  private async failure(session: AuthSession, res: Response, source: ImageReference, display: string, part?: string): Promise<SkiffError> {
    const body = await readBody(res, MAX_ERROR_BODY_BYTES, 'an error response').catch(() => Buffer.alloc(0));
    const registry = source.registry;
    const codes = parseErrorBody(body).map((e) => e.code);
    const detail = describeErrorBody(res.status, res.statusText, body);
    if (res.status === 404 || codes.includes('MANIFEST_UNKNOWN') || codes.includes('NAME_UNKNOWN') || codes.includes('BLOB_UNKNOWN')) {
      if (part !== undefined) return new ImageNotFoundError(`${part} of image ${display} not found in registry ${registry}`);
      return new ImageNotFoundError(`image "${display}" not found in registry ${registry}`);
    }
    if (res.status === 401) {
      const creds = await session.credentials();
      const basic = (await session.currentChallenge())?.scheme === 'basic';
      const problem = !creds
        ? `${registry} requires authentication`
        : basic
          ? `${registry} refused the credentials from ${creds.source}`
          : `the credentials from ${creds.source} give no access to ${source.repository}`;
      return unauthorized(registry, problem, `pulling ${display}`);
    }
    if (res.status === 403) return new SkiffError(`pulling ${display}: access denied by registry ${registry}: ${detail}`);
    if (res.status === 429) {
      const after = res.headers.get('retry-after');
      return new SkiffError(`pulling ${display}: registry ${registry} is limiting requests (HTTP 429)${after ? `: retry after ${after} s` : ''}`);
    }
    return new SkiffError(`pulling ${display}: registry ${registry} answered ${detail}`);
  }
}

function pullScope(ref: ImageReference): string {
  return `repository:${ref.repository}:pull`;
}
