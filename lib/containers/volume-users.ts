// Which containers use which volumes, read from their records: what
// `volume rm` and `volume prune` must not break, and which anonymous
// volumes `rm -v` and `run --rm` may remove. lib/volumes cannot see
// containers; the commands pass this in.
import { getVolume, removeVolumeFiles } from '../volumes/store.js';
import { containerState } from './state.js';
import { listContainerIds, readRecord, type ContainerRecord } from './store.js';

/** The volumes a container's record names. */
export function volumesOf(record: ContainerRecord): string[] {
  return (record.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!);
}

export interface VolumeUser {
  id: string;
  name: string;
  running: boolean;
}

/** Every volume in use, with the containers that use it. */
export function volumeUsers(): Map<string, VolumeUser[]> {
  const users = new Map<string, VolumeUser[]>();
  for (const id of listContainerIds()) {
    const record = readRecord(id);
    if (!record) continue;
    const names = volumesOf(record);
    if (names.length === 0) continue;
    const user = { id: record.Id, name: record.Name, running: containerState(record).Running };
    for (const name of names) users.set(name, [...(users.get(name) ?? []), user]);
  }
  return users;
}

/**
 * rm -v, run --rm: the container's anonymous volumes, unless another
 * container still uses one (--volumes-from shares them). Call after the
 * container's own files are gone.
 */
export async function removeAnonymousVolumes(record: ContainerRecord): Promise<void> {
  const names = volumesOf(record).filter((n) => getVolume(n)?.Anonymous);
  if (names.length === 0) return;
  const users = volumeUsers();
  for (const name of names) {
    if ((users.get(name) ?? []).some((u) => u.id !== record.Id)) continue;
    await removeVolumeFiles(name);
  }
}
