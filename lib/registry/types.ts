// The contract between the registry client (lib/registry) and its users
// (lib/store's pull). lib/registry/client.ts implements createRegistryClient.
import type { Readable } from 'node:stream';
import type { Descriptor, ImageConfig, ImageManifest, Platform } from '../oci/image-spec.js';
import type { ImageReference } from '../oci/reference.js';

export interface RegistryClientOptions {
  /** --tls-verify=false: allow plain HTTP and unverified TLS for every registry. */
  tlsVerify?: boolean;
  /** --platform; default: the host's (linux/amd64 here). */
  platform?: Platform;
  /** Overrides the credential files (tests); default: skiff's, containers', Docker's. */
  authFile?: string;
  /**
   * A blob this host already holds (the store's), by digest, or undefined:
   * the image's config is taken from there instead of asked for again (a
   * pull of a stored image makes one request less). Checked against its
   * digest like a served one; one that does not match is fetched.
   */
  storedBlob?: (digest: string) => Buffer | undefined;
}

export interface ResolvedImage {
  /** The fully qualified reference the user asked for (after short-name resolution). */
  reference: ImageReference;
  /** The reference actually fetched from (a mirror or a rewritten location may differ). */
  source: ImageReference;
  /** sha256 digest of the image manifest's bytes, after choosing from an index. */
  manifestDigest: string;
  manifest: ImageManifest;
  /** Exactly as served; verified against manifestDigest. */
  manifestBytes: Buffer;
  /** When the reference named an index / manifest list: its digest and bytes. */
  indexDigest?: string;
  indexBytes?: Buffer;
  config: ImageConfig;
  /** Exactly as served; verified against manifest.config.digest. */
  configBytes: Buffer;
}

export interface BlobOptions {
  /** Called as bytes arrive (for progress). */
  onBytes?: (n: number) => void;
}

export interface RegistryClient {
  /**
   * Resolves what the user typed ("busybox", "ghcr.io/a/b:1", "x@sha256:…")
   * through registries.conf (short names, mirrors, insecure, blocked), auth,
   * the manifest (schema 1 refused clearly), an index (platform), and the
   * config. Throws SkiffError with one clear line on any failure.
   */
  resolve(text: string): Promise<ResolvedImage>;
  /**
   * The blob's bytes as served (still compressed). The stream checks size and
   * digest as it flows and fails with a SkiffError instead of ending when they
   * do not match; an interrupted transfer is resumed with Range internally.
   */
  openBlob(image: ResolvedImage, blob: Descriptor, opts?: BlobOptions): Promise<Readable>;
}
