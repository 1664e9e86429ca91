// layers/<diffID-hex>/: one unpacked layer (diff/) and its metadata
// (layer.json), shared by every image and container that uses the diffID.
// A layer directory is complete the moment it exists: it is built under tmp/
// and renamed into place whole.
import { chmodSync, lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { removeTree, renameDirIntoPlace, writeFileAtomic } from './atomic.js';
import { digestHex } from './digest.js';
import type { StorePaths } from './paths.js';

export const LAYER_META = 'layer.json';
export const LAYER_DIFF = 'diff';

/** One compressed form the layer was fetched as (a registry blob). */
export interface CompressedBlob {
  digest: string;
  size: number;
  mediaType: string;
}

export interface LayerMeta {
  /** sha256 of the uncompressed tar stream. */
  diffID: string;
  /** Bytes of file content unpacked (what Docker calls the layer's size). */
  size: number;
  /** Bytes of the uncompressed tar stream. */
  tarSize: number;
  /** Tar members unpacked. */
  entries: number;
  compressed: CompressedBlob[];
  /** When it was unpacked (RFC 3339). */
  created: string;
  /**
   * The mode its root entry ("./") sets on the image's root directory; null when
   * the layer has none (the layers below decide). Absent in layers stored before
   * it was recorded: their diff dir's own mode tells (see imageRootMode).
   */
  rootMode?: number | null;
}

export function layerDir(paths: StorePaths, diffID: string): string {
  return path.join(paths.layers, digestHex(diffID));
}

/** The unpacked root filesystem of a layer: what overlayfs takes as a lower dir. */
export function layerDiffDir(paths: StorePaths, diffID: string): string {
  return path.join(layerDir(paths, diffID), LAYER_DIFF);
}

export function hasLayer(paths: StorePaths, diffID: string): boolean {
  try {
    return lstatSync(layerDir(paths, diffID)).isDirectory();
  } catch {
    return false;
  }
}

export function readLayerMeta(paths: StorePaths, diffID: string): LayerMeta | undefined {
  try {
    return JSON.parse(readFileSync(path.join(layerDir(paths, diffID), LAYER_META), 'utf8')) as LayerMeta;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** What a root directory is when no layer gives it a mode: Docker's 0755 (Podman 4.3 makes it 0555). */
export const DEFAULT_ROOT_MODE = 0o755;

/**
 * The mode of the root directory of an image made of `diffIDs` (lowest first):
 * the uppermost layer with a root entry sets it, as applying the layers in
 * order would; DEFAULT_ROOT_MODE when none has one. A layer stored before its
 * layer.json recorded this is judged by its diff dir, which the unpack gave the
 * root entry's mode, or DEFAULT_ROOT_MODE without one.
 */
export function imageRootMode(paths: StorePaths, diffIDs: readonly string[]): number {
  for (let i = diffIDs.length - 1; i >= 0; i--) {
    const meta = readLayerMeta(paths, diffIDs[i]!);
    if (meta?.rootMode !== undefined) {
      if (meta.rootMode !== null) return meta.rootMode;
      continue;
    }
    try {
      const mode = lstatSync(layerDiffDir(paths, diffIDs[i]!)).mode & 0o7777;
      if (mode !== DEFAULT_ROOT_MODE) return mode;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  return DEFAULT_ROOT_MODE;
}

/** Writes layer.json into a layer directory still under tmp/ (before commitLayer). */
export function writeLayerMetaInto(dir: string, meta: LayerMeta): void {
  writeFileSync(path.join(dir, LAYER_META), `${JSON.stringify(meta)}\n`, { mode: 0o644 });
}

/**
 * Renames a finished layer directory (diff/ + layer.json, built under tmp/) to
 * layers/<diffID>. False when another process put the same layer there first:
 * the caller removes its own copy.
 */
export function commitLayer(paths: StorePaths, tmpDir: string, diffID: string): boolean {
  chmodSync(tmpDir, 0o755);
  return renameDirIntoPlace(tmpDir, layerDir(paths, diffID));
}

/**
 * Records another compressed form of a layer already present. A lost update
 * between two concurrent writers only loses this hint, never the layer.
 */
export function addCompressedBlob(paths: StorePaths, diffID: string, blob: CompressedBlob): void {
  const meta = readLayerMeta(paths, diffID);
  if (!meta || meta.compressed.some((c) => c.digest === blob.digest)) return;
  meta.compressed.push(blob);
  writeFileAtomic(paths, path.join(layerDir(paths, diffID), LAYER_META), `${JSON.stringify(meta)}\n`);
}

/** Every layer present, as diffIDs. */
export function listLayers(paths: StorePaths): string[] {
  try {
    return readdirSync(paths.layers)
      .filter((n) => /^[a-f0-9]{64}$/.test(n))
      .map((n) => `sha256:${n}`);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** How many copies of the layer with other owners (--userns keep-id: mapped-layers.ts) it has. */
export function layerCopies(paths: StorePaths, diffID: string): number {
  try {
    return readdirSync(path.join(layerDir(paths, diffID), 'mapped')).length;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
}

/**
 * Bytes of file content the layer's directory holds: its unpacked files and
 * each keep-id copy of them (the compressed blobs it keeps are in blobs/).
 */
export function layerContentBytes(paths: StorePaths, diffID: string): number {
  return (readLayerMeta(paths, diffID)?.size ?? 0) * (1 + layerCopies(paths, diffID));
}

/** Removes a layer (renamed out of sight first, then deleted). Returns its size, keep-id copies included. */
export function removeLayer(paths: StorePaths, diffID: string): number {
  const size = layerContentBytes(paths, diffID);
  removeTree(paths, layerDir(paths, diffID));
  return size;
}
