import { describe, expect, test } from 'vitest';
import { buildMappings, parseSubIds } from '../../lib/host/subids.js';

describe('sub-ID ranges (subuid(5))', () => {
  const text = '# comment\nalice:100000:65536\nbob:165536:65536\n1000:300000:10\nalice:500000:1000\nbroken:x:1\nalice:1:0\n';

  test('by name and by uid, in file order, skipping malformed lines', () => {
    expect(parseSubIds(text, 'alice', 1001)).toEqual([
      { start: 100000, count: 65536 },
      { start: 500000, count: 1000 },
    ]);
    expect(parseSubIds(text, 'carol', 1000)).toEqual([{ start: 300000, count: 10 }]);
    expect(parseSubIds(text, 'nobody', 4242)).toEqual([]);
  });

  test('container 0 is the user, the ranges follow from 1', () => {
    expect(buildMappings(1001, [{ start: 100000, count: 65536 }, { start: 500000, count: 1000 }])).toEqual([
      { containerID: 0, hostID: 1001, size: 1 },
      { containerID: 1, hostID: 100000, size: 65536 },
      { containerID: 65537, hostID: 500000, size: 1000 },
    ]);
    expect(buildMappings(1001, [])).toEqual([{ containerID: 0, hostID: 1001, size: 1 }]);
  });
});
