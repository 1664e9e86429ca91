import { closeSync, openSync, readSync } from 'node:fs';

/**
 * A Docker-style 64-hex container id. Read from /dev/urandom rather than
 * node:crypto, whose loading alone costs several ms on every `run`.
 */
export function newContainerId(): string {
  const bytes = Buffer.alloc(32);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, bytes, 0, 32, null);
  } finally {
    closeSync(fd);
  }
  return bytes.toString('hex');
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}
