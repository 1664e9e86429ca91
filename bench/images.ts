// The images the transfer benchmarks (pull, imagesout) build and push to
// the test registry:
//  (a) "big": one ~300 MiB layer, mostly random bytes with some text;
//  (b) "debian": one ~120 MB layer of many small files taken from this
//      machine's /usr (a debootstrap-sized tree).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { busyboxLayer, type TarEntry } from '../test/integration/registry-harness.js';

const MTIME = 1_700_000_000;

/** ~300 MiB: 12 files of 25 MiB, each 1 MiB block 900 KiB of random bytes and 124 KiB of log-like text. */
export function bigLayer(): TarEntry[] {
  const text = Buffer.from('2024-01-01T00:00:00Z INFO request served path=/api/v1/items status=200 bytes=1234 duration=12ms\n'.repeat(1400)).subarray(0, 124 * 1024);
  const entries: TarEntry[] = [
    { name: 'opt/', type: '5', mode: 0o755, mtime: MTIME },
    { name: 'opt/data/', type: '5', mode: 0o755, mtime: MTIME },
  ];
  for (let f = 0; f < 12; f++) {
    const parts: Buffer[] = [];
    for (let i = 0; i < 25; i++) parts.push(randomBytes(900 * 1024), text);
    entries.push({ name: `opt/data/blob-${String(f).padStart(2, '0')}.bin`, type: '0', mode: 0o644, mtime: MTIME, data: Buffer.concat(parts) });
  }
  return entries;
}

/**
 * Subtrees of this machine's /usr, in this order: about the size, file count
 * and mix (binaries, libraries, scripts, data) of a debootstrap'd Debian
 * (121 MB tar, 6,655 entries). On the machine the bench was written on: 6,909
 * entries (5,766 regular files), 121.8 MB tar, 42.1 MB gzip.
 */
const DEBIAN_LIKE_DIRS = [
  'usr/sbin',
  'usr/share/perl',
  'usr/share/zoneinfo',
  'usr/share/mime',
  'usr/share/common-licenses',
  'usr/lib/x86_64-linux-gnu/perl',
  'usr/lib/x86_64-linux-gnu/perl-base',
  'usr/lib/x86_64-linux-gnu/gconv',
  'usr/lib/postgresql',
  'usr/lib/systemd',
];

export function debianLikeLayer(): { entries: TarEntry[]; dirs: string[] } {
  const entries: TarEntry[] = [];
  const made = new Set<string>();
  const dirs: string[] = [];
  for (const rel of DEBIAN_LIKE_DIRS) {
    if (!existsSync(`/${rel}`)) continue;
    dirs.push(`/${rel}`);
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (made.has(d)) continue;
      made.add(d);
      entries.push({ name: `${d}/`, type: '5', mode: 0o755, uid: 0, gid: 0, mtime: MTIME });
    }
    for (const e of busyboxLayer(`/${rel}`)) {
      const name = `${rel}/${String(e.name)}`;
      // Hard links name their first path relative to the subtree too.
      entries.push(e.type === '1' ? { ...e, name, linkname: `${rel}/${String(e.linkname)}` } : { ...e, name });
    }
  }
  return { entries, dirs };
}

