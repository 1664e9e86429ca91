// ID mappings for rootless containers, from /etc/subuid and /etc/subgid
// (subuid(5)): container 0 is the user, 1..N are the user's sub-IDs.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { SkiffError } from '../errors.js';
import type { IdMappings } from '../oci/spec/options.js';
import { keepIdMap, type UsernsMode } from '../oci/spec/userns.js';
import type { OciIdMapping } from '../oci/runtime-spec.js';

export type { IdMappings };
/** One line of a uid_map or gid_map. */
export type IdRange = OciIdMapping;

export interface SubIdRange {
  start: number;
  count: number;
}

/** Parses subuid(5)/subgid(5) text and returns the ranges of the user, by name or by uid. */
export function parseSubIds(text: string, user: string, id: number): SubIdRange[] {
  const ranges: SubIdRange[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [owner, start, count] = line.split(':');
    if (owner !== user && owner !== String(id)) continue;
    const s = Number(start);
    const c = Number(count);
    if (!Number.isSafeInteger(s) || !Number.isSafeInteger(c) || s < 0 || c <= 0) continue;
    ranges.push({ start: s, count: c });
  }
  return ranges;
}

function readSubIds(file: string, user: string, id: number): SubIdRange[] {
  try {
    return parseSubIds(readFileSync(file, 'utf8'), user, id);
  } catch {
    return [];
  }
}

/** container 0 = the user; then the sub-ID ranges, one after the other from 1. */
export function buildMappings(hostId: number, ranges: SubIdRange[]): IdRange[] {
  const out: IdRange[] = [{ containerID: 0, hostID: hostId, size: 1 }];
  let next = 1;
  for (const r of ranges) {
    out.push({ containerID: next, hostID: r.start, size: r.count });
    next += r.count;
  }
  return out;
}

export interface CurrentUser {
  name: string;
  uid: number;
  gid: number;
}

export function currentUser(): CurrentUser {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  let name = process.env['USER'] ?? '';
  try {
    name = userInfo().username;
  } catch {
    // A uid without a passwd entry: ranges can still be listed by number.
  }
  return { name, uid, gid };
}

export function subIdFiles(): { subuid: string; subgid: string } {
  return { subuid: process.env['SKIFF_SUBUID_FILE'] ?? '/etc/subuid', subgid: process.env['SKIFF_SUBGID_FILE'] ?? '/etc/subgid' };
}

/** The rootless mapping for the current user. */
export function rootlessMappings(user: CurrentUser = currentUser()): IdMappings {
  const files = subIdFiles();
  const subuids = readSubIds(files.subuid, user.name, user.uid);
  const subgids = readSubIds(files.subgid, user.name, user.uid);
  const single = subuids.length === 0 || subgids.length === 0;
  return {
    uidMappings: buildMappings(user.uid, single ? [] : subuids),
    gidMappings: buildMappings(user.gid, single ? [] : subgids),
    single,
  };
}

/**
 * The map for --userns (oci/spec/userns.ts), rootless: `host` is the user's
 * own ID alone; `keep-id` puts it at the user's own uid and gid (or uid=,
 * gid=) with the sub-IDs around it, so it needs a sub-ID range.
 */
export function usernsMappings(mode: UsernsMode, user: CurrentUser = currentUser()): IdMappings {
  if (mode.kind === 'default') return rootlessMappings(user);
  if (mode.kind === 'host') return { uidMappings: buildMappings(user.uid, []), gidMappings: buildMappings(user.gid, []), single: true };
  const files = subIdFiles();
  const subuids = readSubIds(files.subuid, user.name, user.uid);
  const subgids = readSubIds(files.subgid, user.name, user.uid);
  if (subuids.length === 0 || subgids.length === 0) {
    throw new SkiffError("--userns keep-id needs a sub-ID range in /etc/subuid and /etc/subgid: the container's root and other users are your sub-IDs (see 'skiff doctor')");
  }
  return {
    uidMappings: keepIdMap(user.uid, mode.uid ?? user.uid, subuids),
    gidMappings: keepIdMap(user.gid, mode.gid ?? user.gid, subgids),
    single: false,
  };
}
