// `skiff load`: images from a docker-archive (Docker's and Podman's `save`,
// Docker 25's with an OCI layout inside) or an oci-archive, from a file or
// stdin, the whole archive gzip- or zstd-compressed or not, several images
// per archive, their tags restored.
//
// One pass over the archive, so stdin needs no temp copy: its manifest may
// come last (Docker writes it last), so every member that may be a layer is
// unpacked under tmp/ as it streams (decompressed, hashed, tar-split
// recorded), and small documents are kept in memory. At the end the
// manifest decides: each image's config, each layer checked against its
// diffID (and, in an OCI layout, each blob against its digest), then the
// layers renamed into place, the config, the image and its names written.
// Anything wrong (an entry with ../ or an absolute name, a missing file, a
// wrong digest, a truncated archive) is one line, and every staged layer is
// removed: nothing is named. Runs as root of the store's user namespace
// (rootless), where layers get their owners.
import { PassThrough, Readable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { canCreateDevices } from '../host/privilege.js';
import { type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from '../oci/image-spec.js';
import { familiarName, parseReference, type ImageReference } from '../oci/reference.js';
import { choosePlatform, hostPlatform, normalizePlatform } from '../registry/platform.js';
import { cleanTmp } from '../store/atomic.js';
import { writeBlob } from '../store/blobs.js';
import { openFile, openStdin } from '../store/decompress.js';
import { sha256 } from '../store/digest.js';
import { storeImage } from '../store/image-write.js';
import { commitStagedLayer, discardStagedLayer, stageLayer, type StagedLayer } from '../store/layer-write.js';
import { hasLayer, type CompressedBlob } from '../store/layers.js';
import { lockStore } from '../store/lock.js';
import { writeName } from '../store/names.js';
import { openStoreForWriting, type Store } from '../store/store.js';
import { show, TarReader, type EntrySink, type TarEntry } from '../store/tar-reader.js';

export interface LoadOptions {
  /** -i FILE; undefined: stdin. */
  input?: string;
  /** Lines for stderr (progress); nothing when quiet. */
  progress?: (line: string) => void;
  store?: Store;
}

export interface LoadedImage {
  id: string;
  /** The names restored, as Docker prints them. */
  names: string[];
}

/** Members kept in memory: the documents (manifests, configs, indexes). */
const MAX_DOCUMENT = 64 << 20;
/** A member this small, or starting like JSON, is kept in memory; any other is unpacked as a layer as it streams. */
const SMALL = 64 << 10;
const DOCUMENT_NAMES = /(^|\/)(manifest\.json|index\.json|oci-layout|repositories|json|VERSION|version|[^/]*\.json)$/;

type Item =
  | { kind: 'document'; data: Buffer }
  | { kind: 'layer'; staging: Promise<StagedLayer>; size: number }
  | { kind: 'link'; target: string };

function refused(what: string, why: string): SkiffError {
  return new SkiffError(`${what}: ${why}; nothing was loaded`);
}

/** A member's name made relative and clean; refuses absolute names and any "..". */
function cleanName(name: string, archive: string): string {
  if (name.startsWith('/')) throw refused(archive, `its entry ${show(name)} has an absolute name`);
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw refused(archive, `its entry ${show(name)} leads out of the archive ("..")`);
    parts.push(part);
  }
  return parts.join('/');
}

/** Collects the archive's members as they stream (see the top of this file). */
class ArchiveCollector implements EntrySink {
  readonly items = new Map<string, Item>();
  private doc: { name: string; parts: Buffer[]; size: number } | undefined;
  private layerInput: PassThrough | undefined;
  private pending: { name: string; entry: TarEntry } | undefined;
  private blocked: PassThrough | undefined;

  constructor(
    private readonly store: Store,
    private readonly archive: string,
  ) {}

  entry(e: TarEntry): void {
    const name = cleanName(e.name, this.archive);
    if (e.type === 'symlink' || e.type === 'hardlink') {
      // Podman's docker-archive links each legacy <id>/layer.tar to ../<diffID>.tar: followed
      // only within the archive, and only to look members up (nothing is written to disk).
      const base = e.type === 'symlink' && !e.linkname.startsWith('/') ? name.split('/').slice(0, -1) : [];
      const parts = [...base];
      for (const part of e.linkname.split('/')) {
        if (part === '' || part === '.') continue;
        if (part !== '..') parts.push(part);
        else if (parts.pop() === undefined) throw refused(this.archive, `its link ${show(name)} points out of the archive (${show(e.linkname)})`);
      }
      this.items.set(name, { kind: 'link', target: parts.join('/') });
      return;
    }
    if (e.type !== 'file') return; // directories, devices: nothing an image format uses
    if (e.size === 0 || e.size <= SMALL || DOCUMENT_NAMES.test(name)) {
      if (e.size > MAX_DOCUMENT) throw refused(this.archive, `its member ${show(name)} is too large for a manifest or config (${e.size} bytes)`);
      this.doc = { name, parts: [], size: 0 };
      if (e.size === 0) this.items.set(name, { kind: 'document', data: Buffer.alloc(0) });
      return;
    }
    this.pending = { name, entry: e };
  }

  data(chunk: Buffer, start: number, end: number): void {
    if (this.pending) {
      // Decided on the first bytes: a document (JSON) in memory, anything else unpacked as a layer.
      const { name, entry } = this.pending;
      this.pending = undefined;
      if (chunk[start] === 0x7b /* { */ || chunk[start] === 0x5b /* [ */) {
        if (entry.size > MAX_DOCUMENT) throw refused(this.archive, `its member ${show(name)} is too large for a manifest or config (${entry.size} bytes)`);
        this.doc = { name, parts: [], size: 0 };
      } else {
        const input = new PassThrough({ highWaterMark: 4 << 20 });
        this.layerInput = input;
        const staging = stageLayer({ store: this.store, source: input, what: name, chown: true, hashSource: name.startsWith('blobs/'), keepSource: name.startsWith('blobs/') });
        staging.catch(() => {}); // kept for the end: a member nothing names may be anything
        this.items.set(name, { kind: 'layer', staging, size: entry.size });
      }
    }
    if (this.doc) {
      const part = Buffer.from(chunk.subarray(start, end));
      this.doc.parts.push(part);
      this.doc.size += part.length;
      return;
    }
    const input = this.layerInput;
    if (input && !input.destroyed && !input.write(chunk.subarray(start, end))) this.blocked = input;
  }

  fileEnd(): void {
    if (this.doc) {
      this.items.set(this.doc.name, { kind: 'document', data: Buffer.concat(this.doc.parts, this.doc.size) });
      this.doc = undefined;
    }
    if (this.layerInput) {
      if (!this.layerInput.destroyed) this.layerInput.end();
      this.layerInput = undefined;
    }
  }

  /** Resolves once the layer being written can take more. */
  drained(): Promise<void> {
    const blocked = this.blocked;
    this.blocked = undefined;
    if (!blocked || blocked.destroyed || !blocked.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        blocked.off('drain', done);
        blocked.off('close', done);
        resolve();
      };
      blocked.on('drain', done);
      blocked.on('close', done);
    });
  }

  /** Ends a layer still being written (a failure). */
  abort(): void {
    this.layerInput?.destroy();
  }

  /** The member at `name`, through links (a docker-archive's legacy layer.tar links). */
  resolve(name: string, what: string): Exclude<Item, { kind: 'link' }> {
    let current = cleanName(name, this.archive);
    for (let hops = 0; hops < 16; hops++) {
      const item = this.items.get(current);
      if (item === undefined) throw refused(this.archive, `${what} names ${show(name)}, which is not in the archive`);
      if (item.kind !== 'link') return item;
      current = item.target;
    }
    throw refused(this.archive, `${what} names ${show(name)} through too many links`);
  }

  document(name: string, what: string): Buffer {
    const item = this.resolve(name, what);
    if (item.kind !== 'document') throw refused(this.archive, `${what} ${show(name)} is not a JSON document`);
    return item.data;
  }

  /** Every staged layer, settled (the failures as undefined). */
  async settled(): Promise<StagedLayer[]> {
    const out: StagedLayer[] = [];
    for (const item of this.items.values()) {
      if (item.kind !== 'layer') continue;
      try {
        out.push(await item.staging);
      } catch {
        // reported if an image names it
      }
    }
    return out;
  }
}

/** An image found in the archive: its config bytes, its layers' members, its names. */
interface FoundImage {
  what: string;
  config: Buffer;
  layers: { member: string; descriptor?: Descriptor }[];
  names: ImageReference[];
  format: 'oci' | 'docker';
}

function parseJson<T>(data: Buffer, what: string, archive: string): T {
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch {
    throw refused(archive, `${what} is not valid JSON`);
  }
}

function parseName(text: string): ImageReference | undefined {
  try {
    const ref = parseReference(text);
    return ref.digest === undefined ? ref : undefined;
  } catch {
    return undefined;
  }
}

/** docker-archive: manifest.json's entries. */
function dockerImages(c: ArchiveCollector, archive: string): FoundImage[] {
  const manifest = parseJson<unknown>(c.document('manifest.json', 'manifest.json'), 'manifest.json', archive);
  if (!Array.isArray(manifest) || manifest.length === 0) throw refused(archive, 'its manifest.json lists no image');
  return manifest.map((m: { Config?: unknown; RepoTags?: unknown; Layers?: unknown }, i) => {
    const what = `image ${i + 1} of manifest.json`;
    if (typeof m.Config !== 'string' || !Array.isArray(m.Layers) || !m.Layers.every((l) => typeof l === 'string')) {
      throw refused(archive, `${what} has no Config or Layers`);
    }
    const names = (Array.isArray(m.RepoTags) ? m.RepoTags : []).flatMap((t: unknown) => {
      const ref = typeof t === 'string' ? parseName(t) : undefined;
      return ref ? [ref] : [];
    });
    return { what, config: c.document(m.Config, `the config of ${what}`), layers: (m.Layers as string[]).map((member) => ({ member })), names, format: 'docker' as const };
  });
}

const blobName = (digest: string) => `blobs/${digest.replace(':', '/')}`;

async function verifiedBlob(c: ArchiveCollector, d: Descriptor, what: string, archive: string): Promise<Buffer> {
  const data = c.document(blobName(d.digest), what);
  if (data.length !== d.size || (await sha256(data)) !== d.digest) throw refused(archive, `${what} (${blobName(d.digest)}) does not match its digest`);
  return data;
}

/** oci-archive (or Docker 25's layout): index.json's manifests, an index within chosen by platform. */
async function ociImages(c: ArchiveCollector, archive: string, platform: Platform): Promise<FoundImage[]> {
  const index = parseJson<ImageIndex>(c.document('index.json', 'index.json'), 'index.json', archive);
  if (!Array.isArray(index.manifests) || index.manifests.length === 0) throw refused(archive, 'its index.json lists no image');
  const out: FoundImage[] = [];
  for (const [i, top] of index.manifests.entries()) {
    const what = `image ${i + 1} of index.json`;
    let desc = top;
    let doc = parseJson<ImageManifest & ImageIndex>(await verifiedBlob(c, desc, `the manifest of ${what}`, archive), `the manifest of ${what}`, archive);
    if (Array.isArray(doc.manifests)) {
      const chosen = choosePlatform(doc.manifests, platform);
      if (!chosen) throw refused(archive, `${what} is an index with no manifest for this platform`);
      desc = chosen;
      doc = parseJson(await verifiedBlob(c, desc, `the manifest of ${what}`, archive), `the manifest of ${what}`, archive);
    }
    if (!doc.config || !Array.isArray(doc.layers)) throw refused(archive, `the manifest of ${what} has no config or layers`);
    const config = await verifiedBlob(c, doc.config, `the config of ${what}`, archive);
    const annotations = top.annotations ?? {};
    const refName = annotations['org.opencontainers.image.ref.name'];
    const full = annotations['io.containerd.image.name'];
    // Docker's layout names the image in io.containerd.image.name (ref.name is its bare tag); Podman and skopeo write the whole name in ref.name.
    const named = full ?? (refName !== undefined && /[/:]/.test(refName) ? refName : undefined);
    const name = named !== undefined ? parseName(named) : undefined;
    out.push({ what, config, layers: doc.layers.map((l) => ({ member: blobName(l.digest), descriptor: l })), names: name ? [name] : [], format: 'oci' });
  }
  return out;
}

/** The whole archive, decompressed if it is gzip or zstd. */
function openArchive(input: string | undefined): { stream: Readable; name: string } {
  if (input === undefined) {
    if (process.stdin.isTTY) throw new SkiffError('requested load from stdin, but stdin is a terminal: use -i FILE or redirect');
    return { stream: openStdin('the archive on stdin'), name: 'the archive on stdin' };
  }
  return { stream: openFile(input), name: input };
}

export async function loadImages(opts: LoadOptions): Promise<LoadedImage[]> {
  const store = opts.store ?? openStoreForWriting();
  const { stream, name: archive } = openArchive(opts.input);
  const lock = await lockStore(store.paths, 'shared');
  const collector = new ArchiveCollector(store, archive);
  let staged: StagedLayer[] = [];
  try {
    cleanTmp(store.paths);
    const reader = new TarReader(collector);
    try {
      for await (const chunk of stream) {
        reader.push(chunk as Buffer);
        await collector.drained();
      }
      reader.finish();
    } catch (err) {
      collector.abort();
      if (err instanceof SkiffError) throw new SkiffError(err.message.replace(/^layer is not a valid tar archive/, `${archive} is not a valid tar archive`));
      throw err;
    } finally {
      collector.fileEnd();
      staged = await collector.settled();
    }
    const images = collector.items.has('manifest.json')
      ? dockerImages(collector, archive)
      : collector.items.has('index.json')
        ? await ociImages(collector, archive, normalizePlatform(hostPlatform()))
        : (() => {
            throw refused(archive, 'it has neither a manifest.json (docker-archive) nor an index.json (oci-archive)');
          })();

    // Every image checked before anything is named.
    const plans: { image: FoundImage; layers: StagedLayer[]; compressed: (CompressedBlob | undefined)[] }[] = [];
    for (const image of images) {
      const config = parseJson<ImageConfig>(image.config, `the config of ${image.what}`, archive);
      const diffIDs = config.rootfs?.diff_ids;
      if (!Array.isArray(diffIDs) || diffIDs.length !== image.layers.length) {
        throw refused(archive, `${image.what} lists ${image.layers.length} layers but its config has ${Array.isArray(diffIDs) ? diffIDs.length : 'no'} diff_ids`);
      }
      const layers: StagedLayer[] = [];
      const compressed: (CompressedBlob | undefined)[] = [];
      for (const [i, l] of image.layers.entries()) {
        const what = `layer ${i + 1} of ${image.what} (${l.member})`;
        const item = collector.resolve(l.member, what);
        let layer: StagedLayer;
        try {
          if (item.kind === 'document') {
            // A small layer kept in memory: unpacked now.
            layer = await stageLayer({ store, source: Readable.from([item.data], { objectMode: false }), what: l.member, chown: true, hashSource: true, keepSource: true });
            staged.push(layer);
          } else {
            layer = await item.staging;
          }
        } catch (err) {
          throw refused(archive, `${what} is not a layer: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (l.descriptor && (layer.sourceDigest !== l.descriptor.digest || layer.sourceSize !== l.descriptor.size)) {
          throw refused(archive, `${what} does not match its digest ${l.descriptor.digest}`);
        }
        // A blob named by its digest (Docker 25's docker-archive) must have it.
        const named = /^blobs\/(sha256)\/([a-f0-9]{64})$/.exec(l.member);
        if (!l.descriptor && named && layer.sourceDigest !== `${named[1]}:${named[2]}`) {
          throw refused(archive, `${what} does not match its digest ${named[1]}:${named[2]}`);
        }
        if (layer.diffID !== diffIDs[i]) {
          throw refused(archive, `${what} does not match its diffID: its content is ${layer.diffID}, the config says ${diffIDs[i]}`);
        }
        layers.push(layer);
        compressed.push(l.descriptor && layer.compression !== 'none' ? { digest: l.descriptor.digest, size: l.descriptor.size, mediaType: l.descriptor.mediaType } : undefined);
      }
      plans.push({ image, layers, compressed });
    }

    const canMknod = canCreateDevices();
    const done = new Set<string>();
    const loaded: LoadedImage[] = [];
    for (const plan of plans) {
      for (const [i, layer] of plan.layers.entries()) {
        if (done.has(layer.diffID)) continue;
        done.add(layer.diffID);
        const c = plan.compressed[i];
        if (hasLayer(store.paths, layer.diffID)) continue;
        // A compressed blob is kept as it came (checked against its descriptor above): a push sends it as is.
        await commitStagedLayer(store, layer, { chown: true, canMknod, compressed: c ? [c] : [], ...(c ? { keep: c } : {}) });
        opts.progress?.(`Copying blob ${layer.diffID} done`);
      }
      const id = await sha256(plan.image.config);
      await writeBlob(store.paths, id, plan.image.config);
      await storeImage(store, { config: plan.image.config, format: plan.image.format });
      opts.progress?.(`Copying config ${id} done`);
      for (const ref of plan.image.names) await writeName(store.paths, ref, id);
      loaded.push({ id, names: plan.image.names.map((r) => familiarName(r)) });
    }
    return loaded;
  } finally {
    // Whatever was staged and not named: gone (a committed layer's directory was renamed away).
    for (const s of staged) discardStagedLayer(s);
    lock.release();
  }
}

