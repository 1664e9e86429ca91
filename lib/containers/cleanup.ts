// `container cleanup` (Podman's; Podman runs it when a container exits): what
// a stopped container still holds outside its directory, released. skiff's
// monitor does this itself at the end; cleanup is for a container whose
// monitor was killed: its runtime directory (the attach socket) and its
// cgroup. With --rm the container goes too.
import { rmSync } from 'node:fs';
import { SkiffError } from '../errors.js';
import { removeCgroup, startedCgroup } from '../cgroups/container.js';
import { containerEvent } from './events.js';
import { containerState } from './state.js';
import { readPidFile, removeContainerFiles, runDir, type ContainerRecord } from './store.js';
import { removeAnonymousVolumes } from './volume-users.js';

export async function cleanupContainer(record: ContainerRecord, opts: { remove: boolean }): Promise<void> {
  const state = containerState(record);
  if (state.Running) throw new SkiffError(`cannot clean up ${record.Name}: it is running`);
  rmSync(runDir(record.Id), { recursive: true, force: true });
  if (record.Cgroup) {
    const cg = startedCgroup(record.Cgroup, readPidFile(record.Id)?.Cgroup);
    if (cg) removeCgroup(cg);
  }
  containerEvent(record, 'cleanup');
  if (opts.remove) {
    await removeContainerFiles(record);
    await removeAnonymousVolumes(record);
  }
}
