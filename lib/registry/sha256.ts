// SHA-256 of the small documents of a pull (manifests, indexes, configs: a
// few KiB), by @noble/hashes (audited, no dependencies, no install script).
// Loading node:crypto costs ~3 ms, a tenth of what a pull of a stored image
// spends on its own work, and hashing 1 KiB here takes microseconds. Large
// inputs and streams use node:crypto (manifest.ts digestOf, blob-stream.ts).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** The SHA-256 of `bytes` in lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}
