// What the image commands print: Docker's sizes and ages, the rows of
// `images`, intermediate images, and the --filter grammar.
import { describe, expect, it } from 'vitest';
import { parseReference } from '../../lib/oci/reference.js';
import { globToRegExp, parseImageFilters } from '../../lib/store/image-filter.js';
import { imageRows, isIntermediate, type ImageSummary } from '../../lib/store/image-list.js';
import { goTimeString, humanDuration, humanSize, since } from '../../lib/humanize.js';
import type { StoredName } from '../../lib/store/names.js';

describe('humanize (go-units)', () => {
  it('sizes: decimal units, %g with 3 (tables) or 4 (totals) significant digits', () => {
    expect(humanSize(0, 3)).toBe('0B');
    expect(humanSize(512, 3)).toBe('512B');
    expect(humanSize(1000, 3)).toBe('1kB');
    expect(humanSize(4_261_234, 3)).toBe('4.26MB');
    expect(humanSize(4_261_234)).toBe('4.261MB');
    expect(humanSize(123_456_789, 3)).toBe('123MB');
    expect(humanSize(999_999, 3)).toBe('1e+03kB');
    expect(humanSize(1.5e12, 3)).toBe('1.5TB');
  });

  it('durations as Docker words them', () => {
    const s = 1000;
    const h = 3600 * s;
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(1 * s)).toBe('1 second');
    expect(humanDuration(42 * s)).toBe('42 seconds');
    expect(humanDuration(61 * s)).toBe('About a minute');
    expect(humanDuration(59 * 60 * s)).toBe('59 minutes');
    expect(humanDuration(h)).toBe('About an hour');
    expect(humanDuration(47 * h)).toBe('47 hours');
    expect(humanDuration(13 * 24 * h)).toBe('13 days');
    expect(humanDuration(8 * 7 * 24 * h)).toBe('8 weeks');
    expect(humanDuration(300 * 24 * h)).toBe('10 months');
    expect(humanDuration(3 * 365 * 24 * h)).toBe('3 years');
    expect(since('2024-01-01T00:00:00Z', Date.parse('2024-01-01T00:00:42Z'))).toBe('42 seconds ago');
    expect(since(undefined)).toBe('N/A');
    expect(goTimeString('2024-05-01T10:00:00.123Z')).toBe('2024-05-01 10:00:00 +0000 UTC');
  });
});

function named(text: string): StoredName {
  return { name: text, image: '', ref: parseReference(text, { implicitLatest: false }), file: '' };
}

function summary(id: string, names: string[], layers: string[] = []): ImageSummary {
  const all = names.map(named);
  return {
    record: { id: `sha256:${id.padEnd(64, '0')}`, manifest: '', manifestMediaType: '', layers, size: 1234, created: '2024-01-01T00:00:00Z', pulled: '' },
    tags: all.filter((n) => n.ref.digest === undefined),
    digests: all.filter((n) => n.ref.digest !== undefined),
  };
}

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

describe('images rows (Docker\'s formatter)', () => {
  it('one row per repository and tag; digest-only names as <none> tags; an unnamed image as <none> <none>', () => {
    const s = summary('ab', ['docker.io/library/busybox:1', 'docker.io/library/busybox:latest', `docker.io/library/busybox@${D1}`, `reg.test/x@${D2}`]);
    const rows = (digests: boolean) => imageRows(s, { digests, now: Date.parse('2024-01-15T00:00:00Z') }).map((r) => `${r.Repository} ${r.Tag} ${r.Digest} ${r.ID}`);
    expect(rows(false)).toEqual(['busybox 1 <none> ab0000000000', 'busybox latest <none> ab0000000000', 'reg.test/x <none> <none> ab0000000000']);
    expect(rows(true)).toEqual([`busybox 1 ${D1} ab0000000000`, `busybox latest ${D1} ab0000000000`, `reg.test/x <none> ${D2} ab0000000000`]);
    const none = imageRows(summary('cd', []), { noTrunc: true })[0]!;
    expect([none.Repository, none.Tag, none.ID]).toEqual(['<none>', '<none>', `sha256:cd${'0'.repeat(62)}`]);
    expect(imageRows(s, { now: Date.parse('2024-01-15T00:00:00Z') })[0]).toMatchObject({ CreatedSince: '2 weeks ago', Size: '1.23kB', VirtualSize: '1.234kB' });
  });

  it('an unnamed image whose layers another image builds on is intermediate (hidden without -a)', () => {
    const parent = summary('01', [], ['sha256:a']);
    const child = summary('02', ['reg.test/app:1'], ['sha256:a', 'sha256:b']);
    const named2 = summary('03', ['reg.test/base:1'], ['sha256:a']);
    const lonely = summary('04', [], ['sha256:c']);
    const all = [parent, child, named2, lonely];
    expect(all.map((s) => isIntermediate(s, all))).toEqual([true, false, false, false]);
  });
});

describe('--filter', () => {
  it('parses each key and refuses what it does not know, in one line', () => {
    const f = parseImageFilters(['reference=busy*', 'reference=alpine', 'dangling=true', 'label=a', 'label=b=c', 'before=x', 'since=y']);
    expect(f.reference).toHaveLength(2);
    expect(f).toMatchObject({ dangling: true, before: 'x', since: 'y', labels: [{ key: 'a' }, { key: 'b', value: 'c' }] });
    expect(() => parseImageFilters(['dangling=maybe'])).toThrow('invalid filter "dangling=maybe": dangling takes true or false');
    expect(() => parseImageFilters(['until=1h'])).toThrow('invalid filter "until=1h": supported filters are reference, dangling, before, since, label');
    expect(() => parseImageFilters(['label'])).toThrow('invalid filter "label": expected label=VALUE');
    expect(() => parseImageFilters(['reference=[a'])).toThrow(/^invalid filter "reference=\[a": bad pattern/);
  });

  it('matches references like Go\'s path.Match: * and ? stop at "/"', () => {
    expect(globToRegExp('busy*').test('busybox')).toBe(true);
    expect(globToRegExp('*').test('reg.test/app')).toBe(false);
    expect(globToRegExp('*/app').test('reg.test/app')).toBe(true);
    expect(globToRegExp('app:?').test('app:1')).toBe(true);
    expect(globToRegExp('app:[0-9]').test('app:7')).toBe(true);
    expect(globToRegExp('app:[^0-9]').test('app:7')).toBe(false);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    expect(globToRegExp('a\\*').test('a*')).toBe(true);
  });
});
