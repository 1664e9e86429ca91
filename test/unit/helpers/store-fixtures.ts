// Store tests without a network: images built in memory (the same builder the
// registry harness pushes with) served by a RegistryClient that behaves like
// lib/registry's at its contract (types.ts): verified blob streams that fail
// instead of ending when the digest or size is wrong.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SkiffError } from '../../../lib/errors.js';
import type { Descriptor, ImageManifest } from '../../../lib/oci/image-spec.js';
import { parseReference } from '../../../lib/oci/reference.js';
import type { BlobOptions, RegistryClient, ResolvedImage } from '../../../lib/registry/types.js';
import { openStoreForWriting, type Store } from '../../../lib/store/store.js';
import { QuietReporter, type PullReporter } from '../../../lib/images/pull-progress.js';
import { pullImage } from '../../../lib/images/pull.js';
import { buildImage, type BuiltImage, type TestImage } from '../../integration/registry-push.js';

export { buildImage, type BuiltImage, type TestImage };

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The built C helper, for applyFsOps (whiteouts, opaque dirs, devices). */
export function useBuiltHelper(): void {
  process.env['SKIFF_HELPER'] = path.join(repoRoot, 'helpers-c/skiff-helper');
}

export function tempStore(): Store {
  const root = fs.mkdtempSync(path.join(tmpdir(), 'skiff-store-'));
  return openStoreForWriting(path.join(root, 'store'));
}

export function removeStore(store: Store): void {
  fs.rmSync(path.dirname(store.paths.root), { recursive: true, force: true });
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface FakeBlobOptions {
  /** Flip a byte of these blobs (by digest) as they are served. */
  corrupt?: Set<string>;
  /** Milliseconds between chunks of these blobs (to be slow on purpose). */
  slow?: Map<string, number>;
  /** Chunk size served. */
  chunk?: number;
}

/** A stream of `data` that, like the real client's, fails at the end on a wrong digest or size. */
function verifiedStream(data: Buffer, blob: Descriptor, opts: FakeBlobOptions, onBytes?: (n: number) => void): Readable {
  const served = Buffer.from(data);
  if (opts.corrupt?.has(blob.digest) && served.length > 0) served[Math.min(100, served.length - 1)]! ^= 0xff;
  const delay = opts.slow?.get(blob.digest) ?? 0;
  const chunk = opts.chunk ?? 16384;
  async function* gen() {
    const hash = createHash('sha256');
    for (let off = 0; off < served.length; off += chunk) {
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const part = served.subarray(off, off + chunk);
      hash.update(part);
      onBytes?.(part.length);
      yield part;
    }
    const got = `sha256:${hash.digest('hex')}`;
    if (served.length !== blob.size) throw new SkiffError(`blob ${blob.digest}: expected ${blob.size} bytes, got ${served.length}`);
    if (got !== blob.digest) throw new SkiffError(`blob ${blob.digest} failed verification: the registry served content with digest ${got}`);
  }
  return Readable.from(gen(), { objectMode: false });
}

/** A registry client serving the given images by name ("reg.test/app:1"). */
export function fakeClient(images: Record<string, BuiltImage>, opts: FakeBlobOptions = {}): RegistryClient & { opened: string[] } {
  const blobs = new Map<string, Buffer>();
  for (const img of Object.values(images)) for (const l of img.layers) blobs.set(l.digest, l.blob);
  const opened: string[] = [];
  return {
    opened,
    async resolve(text: string): Promise<ResolvedImage> {
      const img = images[text];
      if (!img) throw new SkiffError(`${text}: not found in the fake registry`);
      const reference = parseReference(text);
      return {
        reference,
        source: reference,
        manifestDigest: img.manifestDigest,
        manifest: JSON.parse(img.manifestBytes.toString('utf8')) as ImageManifest,
        manifestBytes: img.manifestBytes,
        config: img.config,
        configBytes: img.configBytes,
      };
    },
    async openBlob(_image: ResolvedImage, blob: Descriptor, o?: BlobOptions): Promise<Readable> {
      const data = blobs.get(blob.digest);
      if (!data) throw new SkiffError(`blob ${blob.digest} not found in the fake registry`);
      opened.push(blob.digest);
      return verifiedStream(data, blob, opts, o?.onBytes);
    },
  };
}

export async function pullInto(store: Store, client: RegistryClient, text: string, reporter: PullReporter = new QuietReporter()) {
  return pullImage(text, { store, client, reporter });
}

/** What a store holds, for before/after comparisons. */
export function storeListing(store: Store): Record<string, string[]> {
  const ls = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d).sort() : []);
  const p = store.paths;
  return { blobs: ls(p.blobs), layers: ls(p.layers), images: ls(p.images), names: ls(p.names), tmp: ls(p.tmp) };
}

export { sha256 };
