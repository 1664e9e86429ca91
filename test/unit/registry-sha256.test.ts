import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../lib/registry/sha256.js';
import { digestOf } from '../../lib/registry/manifest.js';

const native = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('sha256Hex (@noble/hashes, for the small documents of a pull)', () => {
  it('gives the FIPS 180-4 examples', () => {
    expect(sha256Hex(Buffer.from(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('agrees with node:crypto at every length around the block and padding edges, and on larger inputs', () => {
    for (let n = 0; n <= 300; n++) {
      const b = randomBytes(n);
      expect(sha256Hex(b), `length ${n}`).toBe(native(b));
    }
    for (const n of [4095, 4096, 65535, 65536, 200_000]) {
      const b = randomBytes(n);
      expect(sha256Hex(b), `length ${n}`).toBe(native(b));
    }
    // A view into a larger buffer (Node's pooled Buffers).
    const big = randomBytes(1000);
    expect(sha256Hex(big.subarray(17, 530))).toBe(native(big.subarray(17, 530)));
  });

  it('digestOf gives the same digest below and above the size where it hands over to node:crypto', () => {
    for (const n of [10, 64 << 10, (64 << 10) + 1, 1 << 20]) {
      const b = randomBytes(n);
      expect(digestOf(b)).toBe(`sha256:${native(b)}`);
    }
    const b = randomBytes(100);
    expect(digestOf(b, 'sha512:x')).toBe(`sha512:${createHash('sha512').update(b).digest('hex')}`);
  });
});
