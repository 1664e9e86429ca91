import { describe, expect, it } from 'vitest';
import { parseChallenges, preferredChallenge } from '../../lib/registry/challenge.js';

describe('parseChallenges', () => {
  it("reads Docker Hub's Bearer challenge", () => {
    const header =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"';
    expect(parseChallenges(header)).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
      },
    ]);
  });

  it('reads several challenges in one header, with spaces and token values', () => {
    expect(parseChallenges('Basic realm="Registry Realm", Bearer realm="https://a/token", service=reg ,error=insufficient_scope')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
      { scheme: 'bearer', params: { realm: 'https://a/token', service: 'reg', error: 'insufficient_scope' } },
    ]);
  });

  it('keeps commas and escaped quotes inside quoted strings, and lowercases names only', () => {
    expect(parseChallenges('BEARER Realm="https://x/t?a=1,b=2", Scope="repository:a/b:pull,push", x="q\\"uote"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://x/t?a=1,b=2', scope: 'repository:a/b:pull,push', x: 'q"uote' } },
    ]);
  });

  it('reads a bare scheme and a token68', () => {
    expect(parseChallenges('Negotiate, Basic')).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: {} },
    ]);
    expect(parseChallenges('Custom abc123==')).toEqual([{ scheme: 'custom', params: { '': 'abc123==' } }]);
  });

  it('survives garbage without looping', () => {
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('"=,')).toEqual([]);
    expect(parseChallenges('Bearer realm="unterminated')).toEqual([{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
  });
});

describe('preferredChallenge', () => {
  it('prefers Bearer, then Basic, and ignores the rest', () => {
    const both = parseChallenges('Basic realm="r", Bearer realm="https://t"');
    expect(preferredChallenge(both)?.scheme).toBe('bearer');
    expect(preferredChallenge(parseChallenges('Negotiate, Basic realm="r"'))?.scheme).toBe('basic');
    expect(preferredChallenge(parseChallenges('Negotiate'))).toBeUndefined();
  });
});
