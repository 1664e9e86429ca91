// A stored layer's uncompressed tar, given back byte for byte from its files
// and its tar-split (tar-split.ts), for push, save and the layers other
// commands copy. The stream is checked as it flows: its sha256 must be the
// diffID and its length the recorded one, or it fails instead of ending, so
// nothing downstream ever names wrong bytes. Rootless, a layer's files belong
// to sub-IDs: read it as root of the store's user namespace.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SkiffError, errnoCode } from '../errors.js';
import { layerDiffDir, layerDir, readLayerMeta } from './layers.js';
import type { StorePaths } from './paths.js';
import { decodeTarSplit, TAR_SPLIT_FILE, type TarSplitRecord } from './tar-split.js';

const CHUNK = 1 << 20;
const { O_RDONLY, O_NOFOLLOW, O_NOCTTY, O_NONBLOCK } = fs.constants;

/** Whether the store can give back this layer's tar (a layer stored before skiff kept tar-splits cannot). */
export function hasLayerTar(paths: StorePaths, diffID: string): boolean {
  return fs.existsSync(path.join(layerDir(paths, diffID), TAR_SPLIT_FILE));
}

export interface LayerTarStream extends Readable {
  /** Bytes passed on so far. */
  readonly bytesEmitted: number;
}

class LayerTar extends Readable implements LayerTarStream {
  private index = 0;
  private fd = -1;
  private left = 0;
  private file = '';
  private emitted = 0;
  private hash: import('node:crypto').Hash;
  private readonly root: Buffer;

  constructor(
    private readonly records: TarSplitRecord[],
    diffDir: string,
    private readonly diffID: string,
    private readonly tarSize: number | undefined,
    createHash: typeof import('node:crypto').createHash,
  ) {
    super({ highWaterMark: CHUNK });
    this.hash = createHash('sha256');
    this.root = Buffer.from(`${diffDir}/`);
  }

  get bytesEmitted(): number {
    return this.emitted;
  }

  private emit1(chunk: Buffer): boolean {
    this.hash.update(chunk);
    this.emitted += chunk.length;
    return this.push(chunk);
  }

  private fail(problem: string): void {
    this.destroy(new SkiffError(`layer ${this.diffID} in the store ${problem}: remove the image and pull or load it again`));
  }

  override _read(): void {
    try {
      for (;;) {
        if (this.fd >= 0) {
          if (this.left === 0) {
            fs.closeSync(this.fd);
            this.fd = -1;
            continue;
          }
          const buf = Buffer.allocUnsafe(Math.min(CHUNK, this.left));
          const n = fs.readSync(this.fd, buf, 0, buf.length, null);
          if (n === 0) return this.fail(`has lost part of ${JSON.stringify(this.file)}`);
          this.left -= n;
          if (!this.emit1(n === buf.length ? buf : buf.subarray(0, n))) return;
          continue;
        }
        const rec = this.records[this.index++];
        if (rec === undefined) {
          const digest = `sha256:${this.hash.digest('hex')}`;
          if (digest !== this.diffID || (this.tarSize !== undefined && this.emitted !== this.tarSize)) {
            return this.fail(`does not match its diffID (its content is now ${digest})`);
          }
          this.push(null);
          return;
        }
        if (rec.kind === 'raw') {
          if (!this.emit1(rec.bytes)) return;
          continue;
        }
        this.file = rec.path.toString('utf8');
        const fd = fs.openSync(Buffer.concat([this.root, rec.path]), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        const st = fs.fstatSync(fd);
        if (!st.isFile() || st.size !== rec.size) {
          fs.closeSync(fd);
          return this.fail(`has a changed file ${JSON.stringify(this.file)}`);
        }
        this.fd = fd;
        this.left = rec.size;
      }
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ELOOP') return this.fail(`has lost ${JSON.stringify(this.file)}`);
      this.destroy(err instanceof SkiffError ? err : new SkiffError(`cannot read layer ${this.diffID}: ${code ?? String(err)}`));
    }
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    cb(err);
  }
}

/**
 * Whether this process may read every file of the layer's tar (false when the
 * layer has no tar-split). Rootless, a layer's files belong to the IDs the
 * image gives them: those of the image's root are the user's own, and most
 * images hold no other files a user cannot read (mode o+r), so a command that
 * only reads them (save) need not re-execute in the store's user namespace.
 */
export function layerTarReadable(paths: StorePaths, diffID: string): boolean {
  let gz: Buffer;
  try {
    gz = fs.readFileSync(path.join(layerDir(paths, diffID), TAR_SPLIT_FILE));
  } catch {
    return false;
  }
  const root = Buffer.from(`${layerDiffDir(paths, diffID)}/`);
  for (const rec of decodeTarSplit(gz, `of layer ${diffID}`)) {
    if (rec.kind !== 'file') continue;
    try {
      fs.accessSync(Buffer.concat([root, rec.path]), fs.constants.R_OK);
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The layer's exact tar as a stream that fails (rather than ends) if what it
 * gives back does not hash to `diffID`. Throws at once when the store has no
 * record of the tar.
 */
export async function openLayerTar(paths: StorePaths, diffID: string): Promise<LayerTarStream> {
  const where = `of layer ${diffID}`;
  let gz: Buffer;
  try {
    gz = fs.readFileSync(path.join(layerDir(paths, diffID), TAR_SPLIT_FILE));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw new SkiffError(`cannot read the record ${where}: ${errnoCode(err) ?? String(err)}`);
    if (!fs.existsSync(layerDir(paths, diffID))) throw new SkiffError(`layer ${diffID} is missing from the store: pull the image again`);
    throw new SkiffError(`layer ${diffID} was stored by an older skiff, which kept no copy of its tar: remove the image and pull it again`);
  }
  const { createHash } = await import('node:crypto');
  const meta = readLayerMeta(paths, diffID);
  return new LayerTar(decodeTarSplit(gz, where), layerDiffDir(paths, diffID), diffID, meta?.tarSize, createHash);
}
