// COPY --chown=user:group and WORKDIR under USER by name: the ids from the
// image's own /etc/passwd and /etc/group (never the host's), read from its
// layers top down without following a symlink on the way. Numbers need no
// lookup.
import { SkiffError } from '../errors.js';
import { readImageFile } from '../store/image-files.js';
import type { Store } from '../store/store.js';

/** The file as the image's top layer that has it shows it; undefined when no layer has it (or one deletes it). */
function readFromLayers(store: Store, layers: string[], file: string, what: string): string | undefined {
  const found = readImageFile(store.paths, layers, file);
  if (found.kind === 'symlink') throw new SkiffError(`${found.path} in the image is a symlink: give ${what} as numbers`);
  return found.kind === 'file' ? found.text : undefined;
}

function findId(text: string | undefined, name: string, field: 2 | 3 = 2): number | undefined {
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[field] !== undefined && /^\d+$/.test(f[field]!)) return Number(f[field]);
  }
  return undefined;
}

/** `what`: how the user gave `spec`, for messages ("--chown=app", "USER app"). */
export function lookupUser(store: Store, layers: string[], spec: string, what = `--chown=${spec}`): { uid: number; gid: number } {
  const [user, group] = spec.split(':', 2) as [string, string | undefined];
  let passwd: string | undefined;
  const passwdFile = () => (passwd ??= readFromLayers(store, layers, 'etc/passwd', what));
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(user)) uid = Number(user);
  else {
    const found = findId(passwdFile(), user);
    if (found === undefined) throw new SkiffError(`${what}: no user "${user}" in the image's /etc/passwd`);
    uid = found;
  }
  if (group === undefined) {
    // Docker: the user's own group when it is a name; the same number otherwise.
    gid = /^\d+$/.test(user) ? uid : (findId(passwdFile(), user, 3) ?? uid);
  } else if (/^\d+$/.test(group)) gid = Number(group);
  else {
    const found = findId(readFromLayers(store, layers, 'etc/group', what), group);
    if (found === undefined) throw new SkiffError(`${what}: no group "${group}" in the image's /etc/group`);
    gid = found;
  }
  return { uid, gid };
}
