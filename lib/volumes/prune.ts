// `volume prune` and `system prune --volumes`: the volumes no container uses
// (anonymous ones only, unless `all`, as Docker since 23.0), measured and then
// removed by the helper, by fd. The store cannot see containers: the caller
// passes the names in use (lib/containers/volume-users.ts). What a volume
// create or rm killed midway left goes too.
import type { VolumeFilter } from './filters.js';
import { listVolumes, removeVolumeFiles, removeVolumeLeftovers, volumeBytes } from './store.js';

export interface VolumePruneResult {
  deleted: string[];
  reclaimed: number;
}

export async function pruneVolumes(inUse: ReadonlySet<string> | ReadonlyMap<string, unknown>, opts: { all: boolean; filter?: VolumeFilter }): Promise<VolumePruneResult> {
  const unused = listVolumes().filter((v) => !inUse.has(v.Name) && (opts.all || v.Anonymous) && (opts.filter?.(v, false) ?? true));
  const sizes = await volumeBytes(unused.map((v) => v.Mountpoint));
  const result: VolumePruneResult = { deleted: [], reclaimed: 0 };
  for (const [i, volume] of unused.entries()) {
    if (!(await removeVolumeFiles(volume.Name))) continue;
    result.reclaimed += sizes[i]!;
    result.deleted.push(volume.Name);
  }
  await removeVolumeLeftovers();
  return result;
}
