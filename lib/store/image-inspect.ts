// `image inspect` and `history`: an image as Docker's API shows it, read from
// its record, its names and its config blob.
import { SkiffError } from '../errors.js';
import type { ImageConfig } from '../oci/image-spec.js';
import { readBlob } from './blobs.js';
import { shortDigest } from './digest.js';
import { humanSize, since } from '../humanize.js';
import { repoDigests, repoTags, type ImageSummary } from './image-list.js';
import { readNamesHistory, type ImageRecord } from './images.js';
import { layerDiffDir, readLayerMeta } from './layers.js';
import { listNames } from './names.js';
import type { Store } from './store.js';
import { storageDriver } from './driver.js';
import { byCodeUnit } from '../compare.js';

export function readImageConfig(store: Store, record: ImageRecord): ImageConfig {
  const blob = readBlob(store.paths, record.id);
  if (!blob) throw new SkiffError(`image ${shortDigest(record.id)} was removed meanwhile, or its config is missing from the store: pull it again`);
  return JSON.parse(blob.toString('utf8')) as ImageConfig;
}

/** The names of one image (tags and digests). */
export function summaryOf(store: Store, record: ImageRecord): ImageSummary {
  const names = listNames(store.paths).filter((n) => n.image === record.id);
  const byName = (a: { name: string }, b: { name: string }) => byCodeUnit(a.name, b.name);
  return {
    record,
    tags: names.filter((n) => n.ref.digest === undefined).sort(byName),
    digests: names.filter((n) => n.ref.digest !== undefined).sort(byName),
  };
}

/** Docker's image inspect object (Engine API ImageInspect). */
export function inspectImage(store: Store, s: ImageSummary): Record<string, unknown> {
  const config = readImageConfig(store, s.record) as ImageConfig & { comment?: string; docker_version?: string; 'os.version'?: string };
  const lower = [...s.record.layers].reverse().map((l) => layerDiffDir(store.paths, l));
  const out: Record<string, unknown> = {
    Id: s.record.id,
    // Podman's: the manifest's digest, and the config's labels at the top.
    Digest: s.record.manifest,
    RepoTags: repoTags(s),
    RepoDigests: repoDigests(s),
    Parent: '',
    Comment: config.comment ?? '',
    Created: config.created ?? '',
    DockerVersion: config.docker_version ?? '',
    Author: config.author ?? '',
    Config: { User: '', Env: null, Cmd: null, WorkingDir: '', Entrypoint: null, Labels: null, ...(config.config ?? {}) },
    Architecture: config.architecture,
  };
  if (config.variant) out['Variant'] = config.variant;
  out['Os'] = config.os;
  if (config['os.version']) out['OsVersion'] = config['os.version'];
  out['Size'] = s.record.size;
  out['GraphDriver'] = { Data: { LowerDir: [...new Set(lower)].join(':') }, Name: storageDriver(store.paths.root) };
  out['RootFS'] = { Type: config.rootfs?.type ?? 'layers', Layers: config.rootfs?.diff_ids ?? [] };
  out['Metadata'] = { LastTagTime: s.record.pulled };
  out['Labels'] = config.config?.Labels ?? null;
  // Podman's: the config's history, oldest first.
  out['History'] = config.history ?? [];
  // Podman's: every tag it has had, the latest first, untagged ones too.
  out['NamesHistory'] = readNamesHistory(store.paths, s.record.id);
  return out;
}

/** One row of `history`, with the field names of Docker's --format. */
export interface HistoryRow {
  ID: string;
  /** Podman's name for CreatedSince. */
  Created: string;
  CreatedSince: string;
  CreatedAt: string;
  CreatedBy: string;
  Size: string;
  Comment: string;
}

export interface HistoryOptions {
  noTrunc?: boolean;
  /** false: RFC 3339 times and sizes in bytes (Docker's --human=false). */
  human?: boolean;
  now?: number;
}

/** Docker's formatter.Ellipsis: at most `width` characters, the last one "…". */
function ellipsis(s: string, width: number): string {
  const chars = [...s];
  return chars.length <= width ? s : `${chars.slice(0, width - 1).join('')}…`;
}

function rfc3339(time: string | undefined): string {
  const t = time ? new Date(time) : undefined;
  return t && !Number.isNaN(t.getTime()) ? `${t.toISOString().slice(0, 19)}Z` : '';
}

/** The image's history, newest first; the top row carries the image id, the others "<missing>" as in a pulled image. */
export function imageHistory(store: Store, record: ImageRecord, opts: HistoryOptions = {}): HistoryRow[] {
  const config = readImageConfig(store, record);
  const layerSizes = record.layers.map((l) => readLayerMeta(store.paths, l)?.size ?? 0);
  const history = config.history && config.history.length > 0 ? config.history : record.layers.map(() => ({}) as NonNullable<ImageConfig['history']>[number]);
  let layer = 0;
  const rows: HistoryRow[] = history.map((h) => {
    const size = h.empty_layer ? 0 : (layerSizes[layer++] ?? 0);
    const createdBy = (h.created_by ?? '').replace(/\t/g, ' ');
    const createdSince = opts.human === false ? rfc3339(h.created) : since(h.created, opts.now);
    return {
      ID: '<missing>',
      Created: createdSince,
      CreatedSince: createdSince,
      CreatedAt: rfc3339(h.created),
      CreatedBy: opts.noTrunc ? createdBy : ellipsis(createdBy, 45),
      Size: opts.human === false ? String(size) : humanSize(size, 3),
      Comment: h.comment ?? '',
    };
  });
  rows.reverse();
  if (rows[0]) rows[0].ID = opts.noTrunc ? record.id : shortDigest(record.id);
  return rows;
}
