import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Random bytes from /dev/urandom rather than node:crypto, whose loading
 * alone costs several ms on every `run`.
 */
export function urandomBytes(count: number): Buffer {
  const bytes = Buffer.alloc(count);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, bytes, 0, count, null);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** A Docker-style 64-hex container id. */
export function newContainerId(): string {
  return urandomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}
