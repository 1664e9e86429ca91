// Layers as a container with another ID mapping must see them (--userns
// keep-id). An unpacked layer's files lie on the host under the store's
// mapping (image root = the user); a keep-id container maps the user to its
// own uid, so it would see the image's root files as its own. Rootless, the
// kernel lets no one idmap the layers' file system (that needs root of the
// initial user namespace) nor an overlay, so, as Podman's storage does, the
// layer is copied once with its owners moved: layers/<diffID>/mapped/<key>/diff,
// where key names the shift. It goes with its layer (garbage collection
// removes the whole directory) and is made by one rename, so concurrent runs
// make it once each and keep one.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { errnoCode } from '../errors.js';
import type { OciIdMapping } from '../oci/runtime-spec.js';
import { copyTreeShifted, removeTrees, type WalkMappings } from '../namespaces/helper.js';
import { makeTmpDir, renameDirIntoPlace } from './atomic.js';
import { LAYER_DIFF, hasLayer, layerDiffDir, layerDir } from './layers.js';
import { lockStore } from './lock.js';
import type { StorePaths } from './paths.js';
import { SkiffError } from '../errors.js';

export interface LayerShift {
  uids: OciIdMapping[];
  gids: OciIdMapping[];
}

function shiftKey(shift: LayerShift): string {
  const text = (ms: OciIdMapping[]) => ms.map((m) => `${m.containerID}-${m.hostID}-${m.size}`).join(',');
  return createHash('sha256').update(`uids=${text(shift.uids)};gids=${text(shift.gids)}`).digest('hex').slice(0, 16);
}

function isIdentity(ms: OciIdMapping[]): boolean {
  return ms.every((m) => m.containerID === m.hostID);
}

function mappedDiffDir(paths: StorePaths, diffID: string, key: string): string {
  return path.join(layerDir(paths, diffID), 'mapped', key, LAYER_DIFF);
}

/**
 * The lower dirs (same order as `diffIDs`) of these layers for a container
 * whose mapping differs from the store's by `shift`; made where missing.
 * `storeMappings`: the store's user namespace, for a caller outside it.
 */
export async function layersForShift(paths: StorePaths, diffIDs: string[], shift: LayerShift, storeMappings: WalkMappings | undefined): Promise<string[]> {
  if (isIdentity(shift.uids) && isIdentity(shift.gids)) return diffIDs.map((d) => layerDiffDir(paths, d));
  const key = shiftKey(shift);
  const missing = diffIDs.filter((d) => !existsSync(mappedDiffDir(paths, d, key)));
  if (missing.length > 0) {
    // Shared: garbage collection (exclusive) must not remove a layer under the copy.
    const lock = await lockStore(paths, 'shared');
    try {
      for (const diffID of missing) await makeShiftedLayer(paths, diffID, key, shift, storeMappings);
    } finally {
      lock.release();
    }
  }
  return diffIDs.map((d) => mappedDiffDir(paths, d, key));
}

async function makeShiftedLayer(paths: StorePaths, diffID: string, key: string, shift: LayerShift, storeMappings: WalkMappings | undefined): Promise<void> {
  if (existsSync(mappedDiffDir(paths, diffID, key))) return;
  if (!hasLayer(paths, diffID)) throw new SkiffError(`layer ${diffID} is missing from the store: pull the image again`);
  const parent = path.join(layerDir(paths, diffID), 'mapped');
  try {
    mkdirSync(parent, { mode: 0o755 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
  const tmp = makeTmpDir(paths, 'mapped');
  try {
    await copyTreeShifted(layerDiffDir(paths, diffID), tmp, shift, storeMappings);
    chmodSync(tmp, 0o755);
  } catch (err) {
    await removeTrees([tmp], storeMappings).catch(() => undefined);
    throw err;
  }
  if (!renameDirIntoPlace(tmp, path.join(parent, key))) await removeTrees([tmp], storeMappings);
}
