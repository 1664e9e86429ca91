// `skiff import FILE|URL|- [REF]`: a plain root filesystem tarball (what
// `export` writes, or any tar, gzip- or zstd-compressed or not) becomes a
// one-layer image. The layer is the tar exactly as given (its sha256 is the
// diffID; the store keeps its tar-split and a compressed blob), the config
// has the host's platform and what -c sets (as Docker: no command unless
// -c CMD gives one; the caller applies -c). Runs as root of the store's user namespace (rootless),
// where the files get the owners the tar names.
import { Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { canCreateDevices } from '../host/privilege.js';
import type { ImageConfig, Platform } from '../oci/image-spec.js';
import { parseReference, type ImageReference } from '../oci/reference.js';
import { hostPlatform } from '../registry/platform.js';
import { cleanTmp } from '../store/atomic.js';
import { LayerDecoder, openFile, openStdin } from '../store/decompress.js';
import { storeImage } from '../store/image-write.js';
import { storeLayerFromTar } from '../store/layer-write.js';
import { lockStore } from '../store/lock.js';
import { writeName } from '../store/names.js';
import { openStoreForWriting, type Store } from '../store/store.js';

export interface ImportOptions {
  /** FILE, an http(s) URL, or "-" for stdin. */
  source: string;
  name?: string;
  /** The container config (-c applied by the caller: build/changes.ts, above this layer). */
  config: NonNullable<ImageConfig['config']>;
  message?: string;
  platform?: Platform;
  warn: (line: string) => void;
  store?: Store;
}

/** The tarball's bytes, decompressed when gzip or zstd. */
async function openSource(source: string): Promise<{ stream: Readable; what: string }> {
  if (source === '-') {
    if (process.stdin.isTTY) throw new SkiffError('import - reads a tarball from stdin, which is a terminal: redirect it or give a file');
    return { stream: openStdin('the tarball on stdin'), what: 'the tarball on stdin' };
  }
  if (/^https?:\/\//i.test(source)) {
    let res: Response;
    try {
      res = await fetch(source, { redirect: 'follow' });
    } catch (err) {
      throw new SkiffError(`cannot download ${source}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    if (!res.ok || res.body === null) throw new SkiffError(`cannot download ${source}: HTTP ${res.status} ${res.statusText}`);
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    return { stream: body.pipe(new LayerDecoder(source, true)), what: source };
  }
  return { stream: openFile(source), what: source };
}

export async function importImage(opts: ImportOptions): Promise<{ id: string; empty: boolean }> {
  const ref: ImageReference | undefined = opts.name !== undefined ? parseReference(opts.name) : undefined;
  if (ref?.digest !== undefined) throw new SkiffError(`refusing to create a tag with a digest reference: ${opts.name}`);
  const store = opts.store ?? openStoreForWriting();
  const { stream, what } = await openSource(opts.source);
  const lock = await lockStore(store.paths, 'shared');
  try {
    cleanTmp(store.paths);
    let layer;
    try {
      layer = await storeLayerFromTar({ store, source: stream, compression: 'gzip', chown: true, canMknod: canCreateDevices(), what });
    } catch (err) {
      if (err instanceof SkiffError) throw new SkiffError(err.message.replace(/^layer is not a valid tar archive/, `${what} is not a valid tar archive`).replace(/; the layer was not unpacked$/, '; nothing was imported'));
      throw err;
    }
    for (const d of layer.materialised.skippedDevices.slice(0, 1)) {
      opts.warn(`skipped ${layer.materialised.skippedDevices.length} device node(s) of the tarball (/${d}, ...): a rootless user cannot create them`);
    }
    const platform = opts.platform ?? hostPlatform();
    const created = new Date().toISOString();
    const config: ImageConfig = {
      created,
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: opts.config,
      rootfs: { type: 'layers', diff_ids: [layer.meta.diffID] },
      history: [{ created, created_by: `skiff import ${opts.source === '-' ? '-' : opts.source}`, ...(opts.message !== undefined ? { comment: opts.message } : {}) }],
      ...(opts.message !== undefined ? { comment: opts.message } : {}),
    };
    const stored = await storeImage(store, { config });
    if (ref) await writeName(store.paths, ref, stored.id);
    return { id: stored.id, empty: layer.empty };
  } finally {
    lock.release();
  }
}
