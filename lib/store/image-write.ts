// An image made here (commit, build, import, load): its config blob, a
// manifest that names a compressed form of each layer the store knows, and
// its record. The layers must be in the store already; names are the
// caller's (names.ts). Callers hold the store lock shared.
import { SkiffError } from '../errors.js';
import { MEDIA_TYPE, type Descriptor, type ImageConfig } from '../oci/image-spec.js';
import { blobPath, writeBlob } from './blobs.js';
import { sha256 } from './digest.js';
import { writeImageRecord, type ImageRecord } from './images.js';
import { readLayerMeta } from './layers.js';
import type { Store } from './store.js';
import { existsSync } from 'node:fs';

export interface NewImage {
  /** The config, as bytes (load keeps an archive's exactly) or as an object (serialised here). */
  config: Buffer | ImageConfig;
  /** 'docker' for images that came as Docker's format (load of a docker-archive); default OCI. */
  format?: 'oci' | 'docker';
  /** The image a build step made this one from (Docker's Parent): `images` hides an untagged parent. */
  parent?: string;
}

export interface StoredImage {
  id: string;
  manifest: string;
  record: ImageRecord;
}

/** The manifest's descriptor of a layer: the compressed form the store keeps, else the first it knows. */
function layerDescriptor(store: Store, diffID: string, format: 'oci' | 'docker'): Descriptor {
  const meta = readLayerMeta(store.paths, diffID);
  if (!meta) throw new SkiffError(`layer ${diffID} is missing from the store`);
  const kept = meta.compressed.find((c) => existsSync(blobPath(store.paths, c.digest)));
  const c = kept ?? meta.compressed[0];
  if (c === undefined) return { mediaType: format === 'oci' ? MEDIA_TYPE.ociLayer : 'application/vnd.docker.image.rootfs.diff.tar', digest: diffID, size: meta.tarSize };
  let mediaType = c.mediaType;
  if (format === 'docker' && /gzip$/.test(mediaType)) mediaType = MEDIA_TYPE.dockerLayerGzip;
  if (format === 'oci' && mediaType === MEDIA_TYPE.dockerLayerGzip) mediaType = MEDIA_TYPE.ociLayerGzip;
  return { mediaType, digest: c.digest, size: c.size };
}

/** Stores the config, a manifest and the record; the image id is the config's digest. */
export async function storeImage(store: Store, image: NewImage): Promise<StoredImage> {
  const format = image.format ?? 'oci';
  const configBytes = Buffer.isBuffer(image.config) ? image.config : Buffer.from(JSON.stringify(image.config));
  const config = (Buffer.isBuffer(image.config) ? JSON.parse(image.config.toString('utf8')) : image.config) as ImageConfig;
  const layers = config.rootfs?.diff_ids ?? [];
  const id = await sha256(configBytes);
  await writeBlob(store.paths, id, configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: format === 'oci' ? MEDIA_TYPE.ociManifest : MEDIA_TYPE.dockerManifest,
    config: { mediaType: format === 'oci' ? MEDIA_TYPE.ociConfig : MEDIA_TYPE.dockerConfig, digest: id, size: configBytes.length },
    layers: layers.map((d) => layerDescriptor(store, d, format)),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = await sha256(manifestBytes);
  await writeBlob(store.paths, manifestDigest, manifestBytes);
  let size = 0;
  for (const d of new Set(layers)) size += readLayerMeta(store.paths, d)?.size ?? 0;
  const record: ImageRecord = {
    id,
    manifest: manifestDigest,
    manifestMediaType: manifest.mediaType,
    layers,
    size,
    pulled: new Date().toISOString(),
  };
  if (config.created) record.created = config.created;
  if (image.parent) record.parent = image.parent;
  writeImageRecord(store.paths, record);
  return { id, manifest: manifestDigest, record };
}
