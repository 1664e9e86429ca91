// Digests as the store names things: "sha256:<64 hex>". Only sha256 is stored
// (image ids and diffIDs are sha256 in every image format skiff reads).
// node:crypto costs ~13 ms to load, so read-only commands never import it:
// sha256() loads it on first use.
import { SkiffError } from '../errors.js';

const SHA256 = /^sha256:([a-f0-9]{64})$/;

export function isSha256Digest(digest: string): boolean {
  return SHA256.test(digest);
}

/** The hex part of a sha256 digest; throws on anything else (a digest names a file: it must be exact). */
export function digestHex(digest: string): string {
  const m = SHA256.exec(digest);
  if (!m) throw new SkiffError(`unsupported or malformed digest ${JSON.stringify(digest)}: the store keeps sha256 digests only`);
  return m[1]!;
}

/** "sha256:0123456789ab" (12 hex), as Docker shortens ids. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** sha256 of bytes as "sha256:<hex>". */
export async function sha256(data: Buffer | string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
