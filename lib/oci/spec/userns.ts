// --userns as Podman spells it: the container's user namespace. The default
// (rootless: container root is the user, 1..N the sub-IDs), `host` (only the
// user's own ID: no sub-IDs) and `keep-id[:uid=N,gid=N]` (the user's own ID
// inside too, so what the container writes into a host directory is the
// user's). Pure: the maps themselves come from host/subids.ts.
import { SkiffError } from '../../errors.js';
import type { OciIdMapping } from '../runtime-spec.js';

export type UsernsMode = { kind: 'default' } | { kind: 'host' } | { kind: 'keep-id'; uid?: number; gid?: number };

const SUPPORTED = 'use host or keep-id[:uid=N,gid=N] (or leave it out)';

export function parseUsernsMode(text: string): UsernsMode {
  if (text === '') return { kind: 'default' };
  if (text === 'host') return { kind: 'host' };
  if (text === 'keep-id' || text.startsWith('keep-id:')) {
    const mode: UsernsMode = { kind: 'keep-id' };
    for (const option of text === 'keep-id' ? [] : text.slice('keep-id:'.length).split(',')) {
      const m = /^(uid|gid)=(\d{1,10})$/.exec(option);
      if (!m || Number(m[2]) > 0xfffffffe) throw new SkiffError(`invalid --userns "${text}": keep-id takes uid=N and gid=N, not "${option}"`);
      mode[m[1] as 'uid' | 'gid'] = Number(m[2]);
    }
    return mode;
  }
  const name = text.split(':')[0]!;
  if (['auto', 'nomap', 'container', 'ns', 'private'].includes(name)) throw new SkiffError(`--userns ${name} is not supported: ${SUPPORTED}`);
  throw new SkiffError(`invalid --userns "${text}": ${SUPPORTED}`);
}

/** How inspect shows it (Docker's HostConfig.UsernsMode). */
export function usernsModeText(mode: UsernsMode): string {
  if (mode.kind !== 'keep-id') return mode.kind === 'host' ? 'host' : '';
  const opts = [...(mode.uid !== undefined ? [`uid=${mode.uid}`] : []), ...(mode.gid !== undefined ? [`gid=${mode.gid}`] : [])];
  return opts.length ? `keep-id:${opts.join(',')}` : 'keep-id';
}

/** A sub-ID range of /etc/subuid or /etc/subgid. */
export interface IdSpan {
  start: number;
  count: number;
}

/**
 * keep-id's map: container ID `inside` is the user's own `hostId`; every
 * other container ID from 0 up takes the sub-IDs in order (Podman's layout:
 * 0..inside-1 are the first sub-IDs, inside+1.. the rest).
 */
export function keepIdMap(hostId: number, inside: number, ranges: IdSpan[]): OciIdMapping[] {
  const out: OciIdMapping[] = [];
  let next = 0;
  for (const r of ranges) {
    let start = r.start;
    let count = r.count;
    while (count > 0) {
      if (next === inside) next++;
      const size = next < inside ? Math.min(count, inside - next) : count;
      out.push({ containerID: next, hostID: start, size });
      next += size;
      start += size;
      count -= size;
    }
  }
  out.push({ containerID: inside, hostID: hostId, size: 1 });
  return out.sort((a, b) => a.containerID - b.containerID);
}

/**
 * How an image layer's owners must move for a container with map `to` to see
 * them as a container with map `from` (the store's) does: a file `from` shows
 * as ID i lies on the host at from(i); under `to` it must lie at to(i), which
 * `from` shows as from⁻¹(to(i)). Ranges of i ("containerID") → that ID
 * ("hostID"), in the store's namespace.
 */
export function layerShift(from: OciIdMapping[], to: OciIdMapping[]): OciIdMapping[] {
  const out: OciIdMapping[] = [];
  for (const t of to) {
    for (const f of from) {
      const lo = Math.max(t.hostID, f.hostID);
      const hi = Math.min(t.hostID + t.size, f.hostID + f.size);
      if (lo < hi) out.push({ containerID: t.containerID + (lo - t.hostID), hostID: f.containerID + (lo - f.hostID), size: hi - lo });
    }
  }
  return out.sort((a, b) => a.containerID - b.containerID);
}
