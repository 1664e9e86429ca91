import { describe, expect, it } from 'vitest';
import { SkiffError } from '../../lib/errors.js';
import type { Descriptor, Platform } from '../../lib/oci/image-spec.js';
import { choosePlatform, formatPlatform, hostPlatform, listPlatforms, normalizePlatform, parsePlatform } from '../../lib/registry/platform.js';

const entry = (n: number, platform?: Platform): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: 100 + n,
  ...(platform ? { platform } : {}),
});

describe('parsePlatform and normalizePlatform', () => {
  it('parses os/arch[/variant] with the default variants', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64', variant: 'v1' });
    expect(parsePlatform('linux/arm64')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('linux/arm')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('linux/arm/6')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' });
    expect(parsePlatform('linux/s390x')).toEqual({ os: 'linux', architecture: 's390x' });
  });

  it('normalises the architecture aliases', () => {
    expect(normalizePlatform({ os: 'Linux', architecture: 'x86_64' })).toEqual({ os: 'linux', architecture: 'amd64', variant: 'v1' });
    expect(normalizePlatform({ os: 'linux', architecture: 'aarch64' })).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(normalizePlatform({ os: 'linux', architecture: 'armhf' })).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(normalizePlatform({ os: 'linux', architecture: 'armel' })).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' });
    expect(normalizePlatform({ os: 'linux', architecture: 'i386' })).toEqual({ os: 'linux', architecture: '386' });
  });

  it('refuses what is not os/arch[/variant], in one line', () => {
    for (const bad of ['linux', 'amd64', 'linux/amd64/v1/x', 'linux//amd64', 'linux/am d64']) {
      expect(() => parsePlatform(bad)).toThrow(SkiffError);
      expect(() => parsePlatform(bad)).toThrow(`invalid platform "${bad}": expected os/architecture[/variant], e.g. linux/arm64 or linux/arm/v7`);
    }
  });

  it("knows this host's platform", () => {
    const host = hostPlatform();
    expect(host.os).toBe('linux');
    expect(host.architecture).toBe({ x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64' | 'arm64'] ?? host.architecture);
  });
});

describe('choosePlatform', () => {
  const index = [
    entry(1, { os: 'linux', architecture: 'amd64' }),
    entry(2, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    entry(3, { os: 'linux', architecture: 'arm', variant: 'v6' }),
    entry(4, { os: 'linux', architecture: 'arm', variant: 'v7' }),
    entry(5, { os: 'unknown', architecture: 'unknown' }),
    entry(6),
  ];

  it('matches with the default variants on both sides', () => {
    expect(choosePlatform(index, { os: 'linux', architecture: 'amd64' })?.digest).toBe(index[0]!.digest);
    expect(choosePlatform(index, { os: 'linux', architecture: 'amd64', variant: 'v1' })?.digest).toBe(index[0]!.digest);
    expect(choosePlatform(index, { os: 'linux', architecture: 'arm64' })?.digest).toBe(index[1]!.digest);
    expect(choosePlatform([entry(7, { os: 'linux', architecture: 'arm64' })], { os: 'linux', architecture: 'arm64', variant: 'v8' })?.size).toBe(107);
  });

  it('prefers the exact variant, then the newest older one', () => {
    expect(choosePlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest).toBe(index[3]!.digest);
    expect(choosePlatform(index, { os: 'linux', architecture: 'arm', variant: 'v8' })?.digest).toBe(index[3]!.digest);
    expect(choosePlatform(index, { os: 'linux', architecture: 'arm', variant: 'v6' })?.digest).toBe(index[2]!.digest);
    expect(choosePlatform(index, { os: 'linux', architecture: 'arm', variant: 'v5' })).toBeUndefined();
    expect(choosePlatform(index, { os: 'linux', architecture: 'amd64', variant: 'v3' })?.digest).toBe(index[0]!.digest);
  });

  it('never matches another os or architecture, or an entry without a platform', () => {
    expect(choosePlatform(index, { os: 'windows', architecture: 'amd64' })).toBeUndefined();
    expect(choosePlatform(index, { os: 'linux', architecture: 's390x' })).toBeUndefined();
    expect(choosePlatform([entry(6)], { os: 'linux', architecture: 'amd64' })).toBeUndefined();
  });

  it('lists what an index offers, without attestation entries', () => {
    expect(listPlatforms(index)).toBe('linux/amd64, linux/arm64/v8, linux/arm/v6, linux/arm/v7');
    expect(listPlatforms([entry(6)])).toBe('none');
    expect(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7');
  });
});
