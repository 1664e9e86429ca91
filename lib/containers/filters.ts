// `ps --filter`: name=, id=, status=, exited=, ancestor=, label=, before=,
// since=, network=, volume=, publish=, expose=, as Docker's. (Image filters
// are the store's: store/image-filter.ts.)
import { SkiffError } from '../errors.js';
import { containerState, type ContainerState } from './state.js';
import { listContainerIds, readRecord, resolveContainer, type ContainerRecord } from './store.js';
import { psRow, type PsRow } from './view.js';
import { healthWord } from './health-state.js';
import { parseExpose } from '../network/ports.js';

const STATUSES = new Set(['created', 'running', 'exited', 'paused', 'restarting', 'removing', 'dead']);
const HEALTH = new Set(['starting', 'healthy', 'unhealthy', 'none']);

/** Whether `ps` shows a container. */
export type ContainerFilter = (record: ContainerRecord, row: PsRow, state: ContainerState) => boolean;

/** The container named by a before=/since= filter: by name, id or prefix, as everywhere. */
function createdOf(ref: string, key: string): string {
  try {
    return resolveContainer(ref).Created;
  } catch {
    throw new SkiffError(`invalid filter '${key}=${ref}': no such container: ${ref}`);
  }
}

/** publish=/expose=: PORT[-PORT][/tcp|udp] (tcp when not said), as the set of PORT/PROTO keys. */
function portsOf(value: string, key: string): Set<string> {
  try {
    return new Set(parseExpose(value));
  } catch {
    throw new SkiffError(`invalid filter '${key}=${value}': use PORT[-PORT][/tcp|udp]`);
  }
}

/** Whether one of the container's published ports is a PORT/PROTO of `wanted` (by its container port). */
function publishesOneOf(r: ContainerRecord, wanted: Set<string>): boolean {
  return (r.Network?.Ports ?? []).some((b) => wanted.has(`${b.containerPort}/${b.protocol}`));
}

function parseFilter(key: string, value: string): ContainerFilter {
  switch (key) {
    case 'name':
      return (r) => r.Name.includes(value);
    case 'id':
      return (r) => r.Id.startsWith(value);
    case 'status':
      if (!STATUSES.has(value)) throw new SkiffError(`invalid filter 'status=${value}'`);
      return (_r, row) => row.State === value;
    case 'exited': {
      if (!/^\d+$/.test(value)) throw new SkiffError(`invalid filter 'exited=${value}': expected an exit code`);
      const code = Number(value);
      return (_r, _row, state) => state.Status === 'exited' && state.ExitCode === code;
    }
    case 'ancestor':
      return (r) => r.Image === value || r.Rootfs === value;
    case 'label': {
      const [k, v] = value.split('=', 2) as [string, string | undefined];
      return (r) => k in r.Config.Labels && (v === undefined || r.Config.Labels[k] === v);
    }
    case 'before': {
      const created = createdOf(value, key);
      return (r) => r.Created < created;
    }
    case 'since': {
      const created = createdOf(value, key);
      return (r) => r.Created > created;
    }
    case 'network':
      // A user network by name or ID (prefix), or the mode ps shows (pasta, slirp4netns, none, host…).
      return (r, row) =>
        r.Networks ? Object.entries(r.Networks).some(([name, e]) => name === value || e.NetworkID.startsWith(value)) : row.Networks === value;
    case 'volume':
      // A volume by name, or any mount by its destination in the container (Docker's), or its source.
      return (r) => (r.Mounts ?? []).some((m) => m.Name === value || m.Destination === value || m.Source === value);
    case 'publish': {
      const wanted = portsOf(value, key);
      return (r) => publishesOneOf(r, wanted);
    }
    case 'expose': {
      const wanted = portsOf(value, key);
      return (r) => Object.keys(r.Config.ExposedPorts ?? {}).some((p) => wanted.has(p.includes('/') ? p : `${p}/tcp`)) || publishesOneOf(r, wanted);
    }
    case 'health':
      if (!HEALTH.has(value)) throw new SkiffError(`invalid filter 'health=${value}': use starting, healthy, unhealthy or none`);
      return (r, _row, state) => healthWord(r, state) === value;
    default:
      throw new SkiffError(`invalid filter '${key}': use name, id, status, exited, health, ancestor, label, before, since, network, volume, publish or expose`);
  }
}

/** `--filter KEY=VALUE`s. Docker's rule: filters of one key match if any does; different keys must all match. */
export function parseContainerFilters(specs: string[]): ContainerFilter {
  const byKey = new Map<string, ContainerFilter[]>();
  for (const f of specs) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new SkiffError(`bad filter "${f}": expected KEY=VALUE`);
    const key = f.slice(0, eq);
    byKey.set(key, [...(byKey.get(key) ?? []), parseFilter(key, f.slice(eq + 1))]);
  }
  const groups = [...byKey.values()];
  return (record, row, state) => groups.every((group) => group.some((f) => f(record, row, state)));
}

/**
 * The containers that `start`, `stop`, `kill` and `restart --all` act on
 * (Podman's --all, with --filter): every one in `states` that the filters
 * let through, oldest first, by id.
 */
export function containersWhere(states: ReadonlySet<string>, filters: string[]): string[] {
  const matches = parseContainerFilters(filters);
  const out: { id: string; created: string }[] = [];
  for (const id of listContainerIds()) {
    const record = readRecord(id);
    if (!record) continue;
    const state = containerState(record);
    const row = psRow(record, state, true);
    if (states.has(row.State) && matches(record, row, state)) out.push({ id, created: record.Created });
  }
  return out.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0)).map((c) => c.id);
}
