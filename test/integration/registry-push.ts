// Test tooling, not a product feature: builds images (tar → compress → config
// with diffIDs → manifest) and pushes them to a test registry over the real
// distribution HTTP API (POST/PUT blob uploads, PUT manifests).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { MEDIA_TYPE, type Descriptor, type ImageConfig, type Platform } from '../../lib/oci/image-spec.js';
import { makeTar, type TarMember } from '../unit/helpers/make-tar.js';
import { expectStatus, request } from './registry-http.js';
import type { TestRegistry } from './registry-harness.js';

export type TarEntry = TarMember;
export type Compression = 'gzip' | 'zstd' | 'none';
export type ImageFormat = 'docker' | 'oci';

export interface TestLayer {
  entries: TarEntry[];
  compression: Compression;
}

export interface TestImage {
  format: ImageFormat;
  layers: TestLayer[];
  /** The container config: Cmd, Env, Entrypoint, WorkingDir, User, Labels… */
  config?: NonNullable<ImageConfig['config']>;
  /** Top-level config fields to set or override (created, history, even a wrong rootfs for negative tests). */
  imageConfig?: Partial<ImageConfig>;
  /** Default linux/amd64. */
  platform?: Platform;
}

export interface BuiltLayer {
  mediaType: string;
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** The bytes pushed (compressed as asked). */
  blob: Buffer;
  tar: Buffer;
}

export interface BuiltImage {
  format: ImageFormat;
  mediaType: string;
  layers: BuiltLayer[];
  config: ImageConfig;
  configBytes: Buffer;
  configDigest: string;
  manifestBytes: Buffer;
  manifestDigest: string;
}

export interface PushedImage extends BuiltImage {
  /** host/repo:tag */
  reference: string;
  repo: string;
  tag: string;
}

export interface PushedIndex {
  reference: string;
  mediaType: string;
  indexBytes: Buffer;
  indexDigest: string;
  images: (BuiltImage & { platform: Platform })[];
}

export const DOCKER_LAYER_ZSTD = 'application/vnd.docker.image.rootfs.diff.tar.zstd';
export const DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';

export const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

function layerMediaType(format: ImageFormat, compression: Compression): string {
  if (format === 'oci') {
    return { gzip: MEDIA_TYPE.ociLayerGzip, zstd: MEDIA_TYPE.ociLayerZstd, none: MEDIA_TYPE.ociLayer }[compression];
  }
  return { gzip: MEDIA_TYPE.dockerLayerGzip, zstd: DOCKER_LAYER_ZSTD, none: DOCKER_LAYER_TAR }[compression];
}

export function compress(tar: Buffer, compression: Compression): Buffer {
  if (compression === 'none') return tar;
  if (compression === 'gzip') return gzipSync(tar);
  const r = spawnSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 });
  if (r.error || r.status !== 0) throw new Error(`zstd failed: ${r.error?.message ?? r.stderr.toString()}`);
  return r.stdout;
}

export function buildLayer(layer: TestLayer, format: ImageFormat): BuiltLayer {
  const tar = makeTar(layer.entries.map(withLongNames));
  const blob = compress(tar, layer.compression);
  return { mediaType: layerMediaType(format, layer.compression), digest: sha256(blob), size: blob.length, diffId: sha256(tar), blob, tar };
}

/** Names and link targets over ustar's 100 bytes go in PAX records. */
function withLongNames(e: TarEntry): TarEntry {
  const pax: Record<string, string | Buffer> = { ...(e.pax ?? {}) };
  let { name, linkname } = e;
  if (Buffer.byteLength(name) > 100) {
    pax.path = name;
    name = Buffer.from(name).subarray(0, 100);
  }
  if (linkname !== undefined && Buffer.byteLength(linkname) > 100) {
    pax.linkpath = linkname;
    linkname = Buffer.from(linkname).subarray(0, 100);
  }
  return Object.keys(pax).length > 0 ? { ...e, name, linkname, pax } : e;
}

export function descriptorOf(mediaType: string, bytes: Buffer): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}

/** The whole image, built but not pushed. */
export function buildImage(image: TestImage): BuiltImage {
  const layers = image.layers.map((l) => buildLayer(l, image.format));
  const platform = image.platform ?? { os: 'linux', architecture: 'amd64' };
  const config: ImageConfig = {
    created: '2024-01-01T00:00:00Z',
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: image.config ?? {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'skiff test layer' })),
    ...(image.imageConfig ?? {}),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const docker = image.format === 'docker';
  const mediaType = docker ? MEDIA_TYPE.dockerManifest : MEDIA_TYPE.ociManifest;
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: descriptorOf(docker ? MEDIA_TYPE.dockerConfig : MEDIA_TYPE.ociConfig, configBytes),
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2));
  return { format: image.format, mediaType, layers, config, configBytes, configDigest: sha256(configBytes), manifestBytes, manifestDigest: sha256(manifestBytes) };
}

function authHeaders(reg: TestRegistry, repo: string): Record<string, string> {
  const auth = reg.authorization(repo);
  return auth ? { authorization: auth } : {};
}

/** Uploads a blob (POST then PUT ?digest=) unless the registry has it. `digest` may be wrong on purpose. */
export async function pushRawBlob(reg: TestRegistry, repo: string, bytes: Buffer, digest = sha256(bytes)): Promise<string> {
  const headers = authHeaders(reg, repo);
  const head = await request(`${reg.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD', headers, caFile: reg.caFile });
  if (head.status === 200) return digest;
  const start = await request(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers, caFile: reg.caFile });
  expectStatus(`starting a blob upload to ${repo}`, start, [202]);
  const location = new URL(String(start.headers.location), reg.url);
  location.searchParams.set('digest', digest);
  const put = await request(location.href, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body: bytes,
    caFile: reg.caFile,
  });
  expectStatus(`uploading blob ${digest} to ${repo}`, put, [201]);
  return digest;
}

/** PUTs manifest bytes as given under a tag or digest; returns the sha256 of the bytes. */
export async function pushRawManifest(reg: TestRegistry, repo: string, tagOrDigest: string, bytes: Buffer | string, mediaType: string): Promise<string> {
  const body = Buffer.from(bytes);
  const put = await request(`${reg.url}/v2/${repo}/manifests/${tagOrDigest}`, {
    method: 'PUT',
    headers: { ...authHeaders(reg, repo), 'content-type': mediaType },
    body,
    caFile: reg.caFile,
  });
  expectStatus(`pushing manifest ${repo}:${tagOrDigest}`, put, [201]);
  return sha256(body);
}

async function pushBuilt(reg: TestRegistry, repo: string, ref: string, built: BuiltImage): Promise<void> {
  for (const layer of built.layers) await pushRawBlob(reg, repo, layer.blob);
  await pushRawBlob(reg, repo, built.configBytes);
  await pushRawManifest(reg, repo, ref, built.manifestBytes, built.mediaType);
}

export async function pushImage(reg: TestRegistry, repo: string, tag: string, image: TestImage): Promise<PushedImage> {
  const built = buildImage(image);
  await pushBuilt(reg, repo, tag, built);
  return { ...built, reference: `${reg.host}/${repo}:${tag}`, repo, tag };
}

/** A multi-arch image: each image pushed by digest, then the index (OCI) or manifest list (Docker) under the tag. */
export async function pushIndex(
  reg: TestRegistry,
  repo: string,
  tag: string,
  images: { image: TestImage; platform: Platform }[],
  format: ImageFormat,
): Promise<PushedIndex> {
  const built: (BuiltImage & { platform: Platform })[] = [];
  for (const { image, platform } of images) {
    const b = buildImage({ ...image, platform });
    await pushBuilt(reg, repo, b.manifestDigest, b);
    built.push({ ...b, platform });
  }
  const mediaType = format === 'docker' ? MEDIA_TYPE.dockerManifestList : MEDIA_TYPE.ociIndex;
  const index = {
    schemaVersion: 2,
    mediaType,
    manifests: built.map((b) => ({ ...descriptorOf(b.mediaType, b.manifestBytes), platform: b.platform })),
  };
  const indexBytes = Buffer.from(JSON.stringify(index, null, 2));
  const indexDigest = await pushRawManifest(reg, repo, tag, indexBytes, mediaType);
  return { reference: `${reg.host}/${repo}:${tag}`, mediaType, indexBytes, indexDigest, images: built };
}

/**
 * A directory (e.g. the busybox rootfs of scripts/make-busybox-rootfs.sh) as
 * tar entries, in a stable order: owner 0:0, modes and mtimes kept, symlinks
 * as symlinks, a second name of an inode as a hard link to the first.
 */
export function busyboxLayer(rootfsDir: string): TarEntry[] {
  const entries: TarEntry[] = [];
  const inodes = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(rootfsDir, rel)).sort()) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const full = path.join(rootfsDir, relPath);
      const st = lstatSync(full);
      const common = { uid: 0, gid: 0, mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) {
        entries.push({ ...common, name: `${relPath}/`, type: '5' });
        walk(relPath);
      } else if (st.isSymbolicLink()) {
        entries.push({ ...common, name: relPath, type: '2', linkname: readlinkSync(full) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first !== undefined) {
          entries.push({ ...common, name: relPath, type: '1', linkname: first });
        } else {
          if (st.nlink > 1) inodes.set(key, relPath);
          entries.push({ ...common, name: relPath, type: '0', data: readFileSync(full) });
        }
      }
      // Sockets, fifos and devices are not part of a test rootfs.
    }
  };
  walk('');
  return entries;
}
