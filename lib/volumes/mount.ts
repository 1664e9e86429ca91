// How a volume is mounted into a container: config.json's mount for it.
// A plain volume is a bind of its _data directory; the local driver's
// options (volume create --opt) make it a tmpfs, a bind of another host
// directory, or (root) a file system of its own.
import type { OciMount } from '../oci/runtime-spec.js';
import { mountOptionWords, type VolumeRequest } from '../oci/spec/mounts.js';
import type { Volume } from './store.js';

/** Mount flags a driver's `o=` may hold; the rest of `o` is the file system's own data. */
const O_FLAGS = new Set(['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'noatime', 'relatime', 'strictatime', 'nodiratime']);

export function volumeMount(volume: Volume, request: VolumeRequest): OciMount {
  // Podman's defaults for volumes: nosuid, nodev.
  const words = mountOptionWords(request.flags, { nosuid: true, nodev: true, noexec: false });
  const { type, device, o } = volume.Options;
  const oWords = (o ?? '').split(',').filter((w) => w !== '');
  if (type === undefined || type === 'none') {
    const source = type === 'none' ? device! : volume.Mountpoint;
    const copy = request.nocopy ? [] : ['copyup'];
    const subpath = request.subpath !== undefined ? [`subpath=${request.subpath}`] : [];
    return { destination: request.destination, type: 'bind', source, options: ['rbind', ...words, ...copy, ...subpath, request.flags.propagation ?? 'rprivate'] };
  }
  // A tmpfs (or, root, another file system) of the container's own: filled from the image like a new volume.
  const flags = oWords.filter((w) => O_FLAGS.has(w) && !words.includes(w));
  const data = oWords.filter((w) => !O_FLAGS.has(w) && w !== 'bind' && w !== 'rbind');
  const copy = type === 'tmpfs' && !request.nocopy ? ['tmpcopyup'] : [];
  return { destination: request.destination, type, source: type === 'tmpfs' ? 'tmpfs' : device!, options: [...words, ...flags, ...copy, ...data] };
}
