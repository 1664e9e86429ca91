import { readlinkSync } from 'node:fs';
import { SkiffError } from '../../errors.js';

/** The most skiff's helper takes (helpers-c/src/protocol.h SKIFF_PRESERVED_FDS_MAX). */
const PRESERVED_FDS_MAX = 1024;

/**
 * Whether fd was given to this process by its caller. Node has opened its
 * own fds by now (and marked the inherited ones close-on-exec, so that flag
 * tells nothing); the first it opens is its event loop's epoll, then
 * eventfds, taking the lowest free numbers: a caller that passed 3..K leaves
 * Node's epoll at K+1.
 */
function passedByCaller(fd: number): boolean {
  try {
    const target = readlinkSync(`/proc/self/fd/${fd}`);
    return target !== 'anon_inode:[eventpoll]' && target !== 'anon_inode:[eventfd]';
  } catch {
    return false;
  }
}

/**
 * --preserve-fds N (Podman's, for run and exec): the number of the caller's
 * fds from 3 up the container's process gets at the same numbers. Every one
 * must have been passed, as Podman checks, before anything is pulled or made.
 */
export function preservedFds(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value) || Number(value) > PRESERVED_FDS_MAX) throw new SkiffError(`invalid --preserve-fds "${value}": a number of file descriptors, 0 to ${PRESERVED_FDS_MAX}`);
  const n = Number(value);
  for (let fd = 3; fd < 3 + n; fd++) {
    if (!passedByCaller(fd)) throw new SkiffError(`file descriptor ${fd} is not available - the preserve-fds option requires that file descriptors must be passed`);
  }
  return n;
}
