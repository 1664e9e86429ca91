// What pasta will configure (lib/network/plan.ts): an IPv6 default route on
// the host, read from /proc/net/ipv6_route, decides whether the helper waits
// for pasta's IPv6 route too (or pasta is told --ipv4-only).
import { describe, expect, test } from 'vitest';
import { hasIPv6DefaultRoute } from '../../lib/network/plan.js';

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
