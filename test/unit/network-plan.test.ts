// What pasta will configure (lib/network/plan.ts): an IPv6 default route on
// the host, read from /proc/net/ipv6_route, decides whether the helper waits
// for pasta's IPv6 route too (or pasta is told --ipv4-only); pasta's AVX2
// build, run directly where pasta would exec it itself; which published
// ports skiff's own loopback forwarder serves instead of pasta.
import { copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { FORWARD_MAX_PORTS, hasIPv6DefaultRoute, pastaAvx2Build, spliceEntry, splicedBindings } from '../../lib/network/plan.js';
import type { PortBinding } from '../../lib/network/ports.js';

const zero = '0'.repeat(32);
const line = (dest: string, prefix: string, nexthop: string, flags: string, dev: string) =>
  `${dest} ${prefix} ${zero} 00 ${nexthop} 00000400 00000002 00000000 ${flags}     ${dev}`;

describe('the host IPv6 default route', () => {
  test('a default route through a gateway on eth0 counts', () => {
    const text = [
      line('fd000000000000000000000000000000', '40', zero, '00000001', 'eth0'),
      line(zero, '00', 'fd000000000000000000000000000001', '00000003', 'eth0'),
      line(zero, '00', zero, '00200200', 'lo'),
    ].join('\n');
    expect(hasIPv6DefaultRoute(text)).toBe(true);
  });

  test("the kernel's unreachable default on lo, other prefixes, a route that is not up, and an empty file do not", () => {
    expect(hasIPv6DefaultRoute([line(zero, '00', zero, '00200200', 'lo'), line('fe800000000000000000000000000000', '40', zero, '00000001', 'eth0')].join('\n'))).toBe(false);
    expect(hasIPv6DefaultRoute(line(zero, '00', 'fd000000000000000000000000000001', '00000002', 'eth0'))).toBe(false);
    expect(hasIPv6DefaultRoute(line(zero, '00', zero, '00000001', 'lo'))).toBe(false);
    expect(hasIPv6DefaultRoute('')).toBe(false);
  });
});

describe("pasta's AVX2 build", () => {
  test('the binary pasta resolves to, plus .avx2; not for a wrapper script, nor for the AVX2 build itself', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-avx2-'));
    // Any ELF executable stands for passt: only its first bytes are read.
    copyFileSync(realpathSync('/bin/true'), path.join(dir, 'passt'));
    copyFileSync(path.join(dir, 'passt'), path.join(dir, 'passt.avx2'));
    symlinkSync('passt', path.join(dir, 'pasta'));
    expect(pastaAvx2Build(path.join(dir, 'pasta'))).toBe(path.join(dir, 'passt.avx2'));
    expect(pastaAvx2Build(path.join(dir, 'passt.avx2'))).toBeUndefined();
    writeFileSync(path.join(dir, 'wrapper'), '#!/bin/sh\nexec true\n', { mode: 0o755 });
    copyFileSync(path.join(dir, 'passt'), path.join(dir, 'wrapper.avx2'));
    expect(pastaAvx2Build(path.join(dir, 'wrapper'))).toBeUndefined();
    copyFileSync(path.join(dir, 'passt'), path.join(dir, 'alone'));
    expect(pastaAvx2Build(path.join(dir, 'alone'))).toBeUndefined();
    rmSync(dir, { recursive: true });
  });
});

describe("the ports skiff's forwarder serves (helpers-c/src/net_forward.h)", () => {
  const port = (hostIp: string, protocol: 'tcp' | 'udp' = 'tcp'): PortBinding => ({ hostIp, hostPort: 8080, containerPort: 80, protocol });
  test('TCP on a loopback address: 127.0.0.0/8 and ::1', () => {
    const all = [port('127.0.0.1'), port('127.1.2.3'), port('::1')];
    expect(splicedBindings(all)).toEqual(all);
  });
  test('not any address (unless asked), another address, nor UDP: those stay with pasta', () => {
    expect(splicedBindings([port(''), port('0.0.0.0'), port('::'), port('192.0.2.7'), port('128.0.0.1'), port('::2'), port('127.0.0.1', 'udp')])).toEqual([]);
  });
  test('with wildcard: TCP on any address too (none given, 0.0.0.0, ::), with the container address for other clients', () => {
    const picked = splicedBindings([port(''), port('0.0.0.0'), port('::'), port('192.0.2.7'), port('', 'udp'), port('127.0.0.1')], true);
    expect(picked).toEqual([port(''), port('0.0.0.0'), port('::'), port('127.0.0.1')]);
    expect(picked.map((b) => spliceEntry(b, '10.0.2.100'))).toEqual(['*\t8080\t80\t10.0.2.100', '0.0.0.0\t8080\t80\t10.0.2.100', '::\t8080\t80\t10.0.2.100', '127.0.0.1\t8080\t80']);
  });
  test("more ports than the forwarder takes (its FWD_MAX_PORTS): all of them pasta's, not a helper that dies on the spec", () => {
    const source = readFileSync(new URL('../../helpers-c/src/net_forward.c', import.meta.url), 'utf8');
    expect(source).toMatch(new RegExp(`^#define FWD_MAX_PORTS ${FORWARD_MAX_PORTS}$`, 'm'));
    const range = (n: number) => Array.from({ length: n }, (_, i): PortBinding => ({ hostIp: '', hostPort: 20000 + i, containerPort: 20000 + i, protocol: 'tcp' }));
    expect(splicedBindings(range(FORWARD_MAX_PORTS), true)).toHaveLength(FORWARD_MAX_PORTS);
    expect(splicedBindings(range(FORWARD_MAX_PORTS + 1), true)).toEqual([]);
  });
});
