// rm --depend (Podman's): the containers that joined another's namespaces
// (--network, --ipc, --pid container:NAME) depend on it, and go first.
import { listContainerIds, readRecord, type ContainerRecord } from './store.js';

function joined(record: ContainerRecord): string[] {
  const hc = record.HostConfig;
  return [hc.NetworkMode, hc.IpcMode, hc.PidMode].filter((m): m is string => typeof m === 'string' && m.startsWith('container:')).map((m) => m.slice('container:'.length));
}

/** `record` and every container that depends on it, directly or through others: dependents first, each once. */
export function withDependents(record: ContainerRecord): ContainerRecord[] {
  const all = listContainerIds()
    .map((id) => readRecord(id))
    .filter((r): r is ContainerRecord => r !== undefined);
  const order: ContainerRecord[] = [];
  const seen = new Set<string>();
  const visit = (r: ContainerRecord) => {
    if (seen.has(r.Id)) return;
    seen.add(r.Id);
    for (const d of all) if (joined(d).includes(r.Id)) visit(d);
    order.push(r);
  };
  visit(record);
  return order;
}
