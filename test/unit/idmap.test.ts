import { describe, expect, test } from 'vitest';
import { buildMappings, parseSubIds } from '../../lib/host/subids.js';
import { keepIdMap, layerShift, parseUsernsMode, usernsModeText } from '../../lib/oci/spec/userns.js';

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

describe('--userns (issue 11)', () => {
  test('parses the default, host and keep-id with uid= and gid=; refuses the rest in one line', () => {
    expect(parseUsernsMode('')).toEqual({ kind: 'default' });
    expect(parseUsernsMode('host')).toEqual({ kind: 'host' });
    expect(parseUsernsMode('keep-id')).toEqual({ kind: 'keep-id' });
    expect(parseUsernsMode('keep-id:uid=200,gid=210')).toEqual({ kind: 'keep-id', uid: 200, gid: 210 });
    expect(usernsModeText(parseUsernsMode('keep-id:gid=5'))).toBe('keep-id:gid=5');
    expect(() => parseUsernsMode('keep-id:size=3')).toThrow('invalid --userns "keep-id:size=3": keep-id takes uid=N and gid=N, not "size=3"');
    expect(() => parseUsernsMode('auto')).toThrow('--userns auto is not supported: use host or keep-id[:uid=N,gid=N] (or leave it out)');
    expect(() => parseUsernsMode('bogus')).toThrow('invalid --userns "bogus": use host or keep-id[:uid=N,gid=N] (or leave it out)');
  });

  test("keep-id puts the user at its own ID and the sub-IDs around it, in order, across ranges", () => {
    expect(keepIdMap(1001, 1001, [{ start: 100000, count: 65536 }])).toEqual([
      { containerID: 0, hostID: 100000, size: 1001 },
      { containerID: 1001, hostID: 1001, size: 1 },
      { containerID: 1002, hostID: 101001, size: 64535 },
    ]);
    // A first range smaller than the user's ID, and a kept ID past all sub-IDs.
    expect(keepIdMap(1001, 1001, [{ start: 100000, count: 10 }, { start: 500000, count: 2000 }])).toEqual([
      { containerID: 0, hostID: 100000, size: 10 },
      { containerID: 10, hostID: 500000, size: 991 },
      { containerID: 1001, hostID: 1001, size: 1 },
      { containerID: 1002, hostID: 500991, size: 1009 },
    ]);
    expect(keepIdMap(1001, 70000, [{ start: 100000, count: 100 }])).toEqual([
      { containerID: 0, hostID: 100000, size: 100 },
      { containerID: 70000, hostID: 1001, size: 1 },
    ]);
  });

  test('a layer shift moves each ID so the other mapping shows what the store shows, and back', () => {
    const store = buildMappings(1001, [{ start: 100000, count: 65536 }]);
    const keep = keepIdMap(1001, 1001, [{ start: 100000, count: 65536 }]);
    const shift = layerShift(store, keep);
    const apply = (ms: typeof shift, id: number) => {
      const m = ms.find((r) => id >= r.containerID && id < r.containerID + r.size);
      return m ? m.hostID + (id - m.containerID) : undefined;
    };
    // Image root (the user on the host) must lie on the first sub-ID; image 1001 on the user.
    expect(apply(shift, 0)).toBe(1);
    expect(apply(shift, 1000)).toBe(1001);
    expect(apply(shift, 1001)).toBe(0);
    expect(apply(shift, 1002)).toBe(1002);
    expect(apply(shift, 65536)).toBe(65536);
    const back = layerShift(keep, store);
    for (const id of [0, 1, 999, 1000, 1001, 1002, 65536]) expect(apply(back, apply(shift, id)!)).toBe(id);
  });
});
