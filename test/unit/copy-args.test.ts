// Docker's reading of `cp` arguments: which side is CONTAINER:PATH.
import { describe, expect, test } from 'vitest';
import { splitCopyArg } from '../../lib/containers/copy.js';

describe('splitCopyArg', () => {
  test('CONTAINER:PATH, with the path optional', () => {
    expect(splitCopyArg('web:/etc/hosts')).toEqual({ container: 'web', path: '/etc/hosts' });
    expect(splitCopyArg('web:tmp/x')).toEqual({ container: 'web', path: 'tmp/x' });
    expect(splitCopyArg('web:')).toEqual({ container: 'web', path: '' });
    expect(splitCopyArg('web:/a:b')).toEqual({ container: 'web', path: '/a:b' });
  });

  test('host paths: absolute, relative starting with ".", without ":", and "-"', () => {
    expect(splitCopyArg('/tmp/a:b')).toEqual({ path: '/tmp/a:b' });
    expect(splitCopyArg('./a:b')).toEqual({ path: './a:b' });
    expect(splitCopyArg('../x:y')).toEqual({ path: '../x:y' });
    expect(splitCopyArg('file')).toEqual({ path: 'file' });
    expect(splitCopyArg('-')).toEqual({ path: '-' });
  });

  test('an empty container name is refused', () => {
    expect(() => splitCopyArg(':/x')).toThrow(/container name/);
  });
});
