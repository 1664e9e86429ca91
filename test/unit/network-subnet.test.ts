// IPv4 subnets of user-defined networks (lib/network/subnet.ts): parsing,
// overlap, the next free /24, the host's routes.
import { describe, expect, test } from 'vitest';
import { SkiffError } from '../../lib/errors.js';
import { formatAddress, formatSubnet, hostRoutes, isHostAddress, nextFreeAddress, nextFreeSubnet, overlaps, parseAddress, parseSubnet } from '../../lib/network/subnet.js';

describe('network subnets', () => {
  test('addresses parse and print; bad ones are refused', () => {
    expect(formatAddress(parseAddress('10.89.3.250')!)).toBe('10.89.3.250');
    for (const bad of ['10.89.3', '10.89.3.256', '1.2.3.04', 'a.b.c.d', '']) expect(parseAddress(bad)).toBeUndefined();
  });

  test('subnets: host bits, prefix range and IPv6 are refused in one line', () => {
    expect(formatSubnet(parseSubnet('192.168.7.0/24'))).toBe('192.168.7.0/24');
    expect(() => parseSubnet('10.1.2.3/24')).toThrow('invalid subnet "10.1.2.3/24": host bits are set, did you mean 10.1.2.0/24?');
    expect(() => parseSubnet('10.0.0.0/31')).toThrow(SkiffError);
    expect(() => parseSubnet('10.0.0.0')).toThrow(SkiffError);
    expect(() => parseSubnet('fd00::/64')).toThrow("skiff's networks are IPv4 only");
  });

  test('overlap is symmetric and by the shorter prefix', () => {
    const a = parseSubnet('10.89.0.0/16');
    const b = parseSubnet('10.89.7.0/24');
    const c = parseSubnet('10.90.0.0/24');
    expect(overlaps(a, b)).toBe(true);
    expect(overlaps(b, a)).toBe(true);
    expect(overlaps(a, c)).toBe(false);
  });

  test('the next free /24 of 10.89.0.0/16 skips used subnets and host routes', () => {
    expect(formatSubnet(nextFreeSubnet([]))).toBe('10.89.0.0/24');
    expect(formatSubnet(nextFreeSubnet([parseSubnet('10.89.0.0/24'), parseSubnet('10.89.1.0/25')]))).toBe('10.89.2.0/24');
    expect(() => nextFreeSubnet([parseSubnet('10.89.0.0/16')])).toThrow('no free subnet left');
  });

  test('addresses of containers: neither the network nor the broadcast address, the lowest free first', () => {
    const s = parseSubnet('10.89.0.0/30');
    expect(isHostAddress(s, parseAddress('10.89.0.0')!)).toBe(false);
    expect(isHostAddress(s, parseAddress('10.89.0.3')!)).toBe(false);
    expect(isHostAddress(s, parseAddress('10.89.0.2')!)).toBe(true);
    const taken = new Set([parseAddress('10.89.0.1')!]);
    expect(formatAddress(nextFreeAddress(s, taken)!)).toBe('10.89.0.2');
    taken.add(parseAddress('10.89.0.2')!);
    expect(nextFreeAddress(s, taken)).toBeUndefined();
  });

  test("the host's routes from /proc/net/route (little-endian hex), the default route left out", () => {
    const text = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      'eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    ].join('\n');
    expect(hostRoutes(text).map(formatSubnet)).toEqual(['192.168.0.0/24', '172.17.0.0/16']);
  });
});
