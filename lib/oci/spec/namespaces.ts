// --ipc, --pid and --uts as Docker and Podman spell them: the container's own
// namespace (the default), the host's, or another container's.
import { SkiffError } from '../../errors.js';

export type NamespaceMode = { kind: 'private' } | { kind: 'host' } | { kind: 'none' } | { kind: 'container'; ref: string };

function parse(flag: string, text: string, allowed: string[]): NamespaceMode {
  if (text === '' || text === 'private' || (text === 'shareable' && allowed.includes('shareable'))) return { kind: 'private' };
  if (text === 'host' && allowed.includes('host')) return { kind: 'host' };
  if (text === 'none' && allowed.includes('none')) return { kind: 'none' };
  if (text.startsWith('container:') && allowed.includes('container:')) {
    const ref = text.slice('container:'.length);
    if (ref === '') throw new SkiffError(`invalid ${flag} "${text}": name the container after "container:"`);
    return { kind: 'container', ref };
  }
  throw new SkiffError(`invalid ${flag} "${text}": use ${allowed.map((a) => (a === 'container:' ? 'container:NAME' : a)).join(', ')}`);
}

/** private and shareable are the same here: any container may join a running one's namespace. */
export const parseIpcMode = (text: string) => parse('--ipc', text, ['private', 'shareable', 'host', 'none', 'container:']);
export const parsePidMode = (text: string) => parse('--pid', text, ['private', 'host', 'container:']);
export const parseUtsMode = (text: string) => parse('--uts', text, ['private', 'host']);

/** How the config and the helper see one namespace: made, the host's, or joined by a process's pid. */
export type NamespaceChoice = { kind: 'new' } | { kind: 'host' } | { kind: 'join'; pid: number };
