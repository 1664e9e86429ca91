// `update`: new limits (and restart policy) for a container. A running one
// gets them in its cgroup at once; every container keeps them in its record
// and config.json, so the next start applies them too.
import { SkiffError } from '../errors.js';
import { planContainerCgroup, updateLimits } from '../cgroups/container.js';
import { requestedLimits, type ResourceFlags } from '../oci/spec/resources.js';
import { liveCgroup, resolveResources, withResources } from './resources.js';
import { parseRestartPolicy } from './run.js';
import { containerState } from './state.js';
import { readConfig, readPidFile, updateContainerFiles, type ContainerRecord } from './store.js';
import { recordResources } from './view.js';

export async function updateContainer(record: ContainerRecord, flags: ResourceFlags, restart?: string): Promise<void> {
  const config = readConfig(record.Id);
  if (!config) throw new SkiffError(`container ${record.Id} has no config.json: remove it and create it again`);
  const { host, oci } = resolveResources(recordResources(record), flags);
  const policy = restart !== undefined ? parseRestartPolicy(restart) : record.HostConfig.RestartPolicy;
  if (restart !== undefined && policy.Name !== 'no' && record.HostConfig.AutoRemove) throw new SkiffError('conflicting options: --restart and --rm');
  if (requestedLimits(oci).length > 0 && !record.Cgroup) {
    // Says why (the same refusal as run's), or that the container predates limits.
    planContainerCgroup(record.Id, oci, { mode: record.HostConfig.Cgroups === 'disabled' ? 'disabled' : 'enabled' });
    throw new SkiffError(`container ${record.Name} has no cgroup of its own (it was created before this host gave containers cgroups): create it again to limit it`);
  }
  const state = containerState(record);
  if (state.Running) {
    const cg = liveCgroup(record, readPidFile(record.Id));
    if (cg) updateLimits(cg, oci);
  }
  updateContainerFiles(
    { ...record, HostConfig: { ...record.HostConfig, ...host, RestartPolicy: policy } },
    withResources(config, host, oci),
  );
}
