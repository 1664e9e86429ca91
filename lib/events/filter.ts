// `events --filter`, as Podman reads it: KEY=VALUE with the keys container,
// event (status), image, label, type, volume, network, since, until. Values of
// one key are alternatives (any may match); different keys must all match.
import { SkiffError } from '../errors.js';
import { parseSince } from '../humanize.js';
import type { SkiffEvent } from './log.js';

const KEYS = ['container', 'event', 'status', 'image', 'label', 'type', 'volume', 'network', 'since', 'until'] as const;
type Key = (typeof KEYS)[number];

const TYPES = new Set(['container', 'image', 'volume', 'network', 'system', 'pod']);

export interface EventFilter {
  /** Per key, the values given. */
  values: Map<Key, string[]>;
  /** Unix ms bounds from since= / until= (and --since / --until). */
  sinceMs?: number;
  untilMs?: number;
}

export function parseEventFilters(texts: readonly string[], now = Date.now()): EventFilter {
  const f: EventFilter = { values: new Map() };
  for (const text of texts) {
    const eq = text.indexOf('=');
    const key = (eq < 0 ? text : text.slice(0, eq)) as Key;
    const value = eq < 0 ? '' : text.slice(eq + 1);
    if (!KEYS.includes(key)) throw new SkiffError(`invalid filter "${text}": events takes ${KEYS.filter((k) => k !== 'status').join(', ')} (KEY=VALUE)`);
    if (value === '') throw new SkiffError(`invalid filter "${text}": give a value after ${key}=`);
    if (key === 'type' && !TYPES.has(value)) throw new SkiffError(`invalid filter "${text}": the type is one of container, image, volume, network, system, pod`);
    if (key === 'since') f.sinceMs = parseSince(value, now, 'the since filter');
    else if (key === 'until') f.untilMs = parseSince(value, now, 'the until filter');
    else {
      const k = key === 'status' ? 'event' : key;
      f.values.set(k, [...(f.values.get(k) ?? []), value]);
    }
  }
  return f;
}

/** A container given by name, full id or id prefix; an image by name, id or id prefix. */
function matchesObject(e: SkiffEvent, value: string): boolean {
  return e.Name === value || (e.ID !== undefined && value.length >= 3 && e.ID.startsWith(value.replace(/^sha256:/, '')));
}

function matchesKey(e: SkiffEvent, key: Key, value: string): boolean {
  switch (key) {
    case 'type':
      return e.Type === value;
    case 'event':
    case 'status':
      return e.Status === value;
    case 'container':
      return (e.Type === 'container' || e.Type === 'network') && matchesObject(e, value);
    case 'image':
      if (e.Type === 'image') return matchesObject(e, value);
      return e.Type === 'container' && e.Image !== undefined && (e.Image === value || e.Image.replace(/:latest$/, '') === value.replace(/:latest$/, '') || e.Image.endsWith(`/${value}`) || e.Image.endsWith(`/${value}:latest`));
    case 'label': {
      const eq = value.indexOf('=');
      const k = eq < 0 ? value : value.slice(0, eq);
      const attrs = e.Attributes ?? {};
      if (!Object.hasOwn(attrs, k)) return false;
      return eq < 0 || attrs[k] === value.slice(eq + 1);
    }
    case 'volume':
      return e.Type === 'volume' && e.Name === value;
    case 'network':
      return e.Type === 'network' && e.network === value;
    default:
      return true;
  }
}

/** The event's time in Unix ms. */
export function eventMs(e: SkiffEvent): number {
  return e.timeNano / 1e6;
}

export function eventMatches(f: EventFilter, e: SkiffEvent): boolean {
  if (f.sinceMs !== undefined && eventMs(e) < f.sinceMs) return false;
  if (f.untilMs !== undefined && eventMs(e) > f.untilMs) return false;
  for (const [key, values] of f.values) {
    if (!values.some((v) => matchesKey(e, key, v))) return false;
  }
  return true;
}
