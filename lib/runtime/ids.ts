import { randomBytes } from 'node:crypto';

/** A Docker-style 64-hex container id. */
export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}
