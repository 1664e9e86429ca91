// `container prune` and `system prune`: every container that is not running
// (and that the filters let go), removed with what it wrote.
import { parseSince } from '../humanize.js';
import { SkiffError } from '../errors.js';
import { containerSizes } from './size.js';
import { containerState } from './state.js';
import { refreshHosts } from './networks.js';
import { containerOwnFilesSize, listContainerIds, readRecord, removeContainerFiles, removeLeftovers, type ContainerRecord } from './store.js';

/** --filter until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE]. */
export interface ContainerPruneFilters {
  until?: number;
  labels: Array<{ key: string; value?: string; negate: boolean }>;
}

export function parseContainerPruneFilters(list: string[], now = Date.now()): ContainerPruneFilters {
  const f: ContainerPruneFilters = { labels: [] };
  for (const text of list) {
    const m = /^(until|label!?)=(.*)$/.exec(text);
    if (!m || m[2] === '') throw new SkiffError(`invalid filter "${text}": prune takes until=TIME, label=KEY[=VALUE] and label!=KEY[=VALUE]`);
    if (m[1] === 'until') f.until = parseSince(m[2]!, now, 'the until filter');
    else {
      const e = m[2]!.indexOf('=');
      f.labels.push({ ...(e < 0 ? { key: m[2]! } : { key: m[2]!.slice(0, e), value: m[2]!.slice(e + 1) }), negate: m[1] === 'label!' });
    }
  }
  return f;
}

function matches(record: ContainerRecord, f: ContainerPruneFilters | undefined): boolean {
  if (!f) return true;
  if (f.until !== undefined && !(Date.parse(record.Created) < f.until)) return false;
  const labels = record.Config.Labels ?? {};
  return f.labels.every((l) => {
    const has = Object.hasOwn(labels, l.key) && (l.value === undefined || labels[l.key] === l.value);
    return l.negate ? !has : has;
  });
}

export interface PruneResult {
  removed: string[];
  /** What they wrote and skiff's files of them (their logs). */
  bytes: number;
}

export async function pruneContainers(filters?: ContainerPruneFilters): Promise<PruneResult> {
  const stopped = listContainerIds()
    .map((id) => readRecord(id))
    .filter((r): r is ContainerRecord => r !== undefined && !containerState(r).Running && matches(r, filters));
  // What each wrote (its upper dir, measured by the helper) and skiff's files of it (its log).
  const sizes = await containerSizes(stopped, () => 0);
  const result: PruneResult = { removed: [], bytes: 0 };
  for (const [i, record] of stopped.entries()) {
    result.bytes += (sizes[i]?.rw ?? 0) + containerOwnFilesSize(record.Id);
    await removeContainerFiles(record);
    result.removed.push(record.Id);
  }
  // And what removals and creates killed midway left aside, which no listing shows.
  await removeLeftovers();
  // The others on their networks forget them.
  await refreshHosts(new Set(stopped.flatMap((r) => Object.values(r.Networks ?? {}).map((e) => e.NetworkID))));
  return result;
}
