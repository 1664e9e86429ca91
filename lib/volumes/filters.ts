// `volume ls --filter` and `volume prune --filter`: name=, label=, label!=,
// dangling=, driver=, as Docker's. Filters of one key match if any does;
// different keys must all match.
import { SkiffError } from '../errors.js';
import type { Volume } from './store.js';

export type VolumeFilter = (volume: Volume, inUse: boolean) => boolean;

function labelMatch(volume: Volume, value: string): boolean {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  return Object.hasOwn(volume.Labels, key) && (eq < 0 || volume.Labels[key] === value.slice(eq + 1));
}

function parseOne(key: string, value: string, allowed: readonly string[]): VolumeFilter {
  if (!allowed.includes(key)) throw new SkiffError(`invalid filter '${key}': use ${allowed.map((k) => `${k}=`).join(', ')}`);
  switch (key) {
    case 'name':
      return (v) => v.Name.includes(value);
    case 'driver':
      return (v) => v.Driver === value;
    case 'label':
      return (v) => labelMatch(v, value);
    case 'label!':
      return (v) => !labelMatch(v, value);
    case 'dangling': {
      if (!['true', 'false', '1', '0'].includes(value)) throw new SkiffError(`invalid filter 'dangling=${value}': use true or false`);
      const dangling = value === 'true' || value === '1';
      return (_v, inUse) => inUse !== dangling;
    }
  }
  throw new SkiffError(`invalid filter '${key}'`);
}

/** KEY=VALUE filters (label!=… too) as one predicate. */
export function parseVolumeFilters(texts: string[], allowed: readonly string[]): VolumeFilter {
  const byKey = new Map<string, VolumeFilter[]>();
  for (const text of texts) {
    const m = /^([a-z]+!?)=(.*)$/.exec(text);
    if (!m) throw new SkiffError(`bad format of filter "${text}": expected KEY=VALUE`);
    const key = m[1]!;
    byKey.set(key, [...(byKey.get(key) ?? []), parseOne(key, m[2]!, allowed)]);
  }
  const groups = [...byKey.entries()];
  return (volume, inUse) =>
    groups.every(([key, fs]) => (key === 'label!' ? fs.every((f) => f(volume, inUse)) : fs.some((f) => f(volume, inUse))));
}
