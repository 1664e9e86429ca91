import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { composeEnvironment, expandVariables, parseEnvFile, readEnvFile, resolveEnvironment } from '../../lib/oci/spec/env.js';

const host = { FROM_HOST: 'h', EMPTY: '' };

describe('environment flags and files, Docker rules', () => {
  test('KEY=VALUE sets, bare KEY passes the host value or is dropped', () => {
    expect(resolveEnvironment(['A=1', 'FROM_HOST', 'NOT_SET', 'EMPTY', 'B='], [], host)).toEqual(['A=1', 'FROM_HOST=h', 'EMPTY=', 'B=']);
  });

  test('files: comments, blank lines, CRLF, values with = and spaces', () => {
    const text = '# comment\n\nA=1\r\n  B=x=y z\nFROM_HOST\n   # indented comment\n';
    expect(parseEnvFile(text, 'f', host)).toEqual(['A=1', 'B=x=y z', 'FROM_HOST=h']);
  });

  test('bad names name the file and line', () => {
    expect(() => parseEnvFile('A=1\n=oops\n', 'env.list', host)).toThrow('invalid environment variable "=oops" in env.list line 2: the name is empty');
    expect(() => parseEnvFile('MY VAR=1\n', 'env.list', host)).toThrow('invalid environment variable "MY VAR" in env.list line 1: the name contains whitespace');
    // -e has no such rule (Docker's ValidateEnv, Podman's): an empty name only.
    expect(resolveEnvironment(['MY VAR=1'], [], host)).toEqual(['MY VAR=1']);
    expect(() => resolveEnvironment(['=x'], [], host)).toThrow('invalid environment variable "=x": the name is empty');
  });

  test('a missing or unreadable file is one clear error', () => {
    expect(() => readEnvFile('/no/such/file', host)).toThrow('cannot read env file /no/such/file: no such file');
    expect(() => readEnvFile('/', host)).toThrow('cannot read env file /: is a directory');
  });

  test('files come first, then -e', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-env-'));
    const file = path.join(dir, 'e');
    writeFileSync(file, 'A=file\nB=file\n');
    expect(resolveEnvironment(['A=flag'], [file], host)).toEqual(['A=file', 'B=file', 'A=flag']);
  });
});

describe('--env-merge, --env-host, --http-proxy, --unsetenv (Podman\'s order)', () => {
  const base = { image: [] as string[], env: [] as string[], envFiles: [] as string[], envHost: false, httpProxy: true, envMerge: [] as string[], unsetEnv: [] as string[], unsetEnvAll: false };
  const PATH = '/usr/bin:/bin';

  test('expandVariables: $NAME, ${NAME}, ${NAME:-WORD}, ${NAME:+WORD}, \\$; an unset name is empty', () => {
    const vars = new Map([['A', 'x'], ['E', '']]);
    expect(expandVariables('$A-${A}-${B}-$B', vars)).toBe('x-x--');
    expect(expandVariables('${B:-d}${E:-e}${A:-f}|${A:+set}${B:+no}', vars)).toBe('dex|set');
    expect(expandVariables('\\$A costs $5', vars)).toBe('$A costs $5');
    expect(() => expandVariables('${A', vars)).toThrow('invalid variable reference "${A"');
  });

  test('proxies by default, the image over the caller, merge from both, unset, then -e', () => {
    const host = { http_proxy: 'p', HOME: '/root', FOO: 'h', SKIFF_ROOT: '/x' };
    expect(composeEnvironment({ ...base, image: ['FOO=i'] }, host, PATH).env).toEqual(['http_proxy=p', 'FOO=i']);
    expect(composeEnvironment({ ...base, httpProxy: false }, host, PATH).env).toEqual([]);
    expect(composeEnvironment({ ...base, envHost: true, image: ['FOO=i'] }, host, PATH).env).toEqual(['http_proxy=p', 'HOME=/root', 'FOO=i']);
    const merged = composeEnvironment({ ...base, httpProxy: false, image: ['FOO=i'], envMerge: ['PATH=${PATH}:/opt', 'FOO=${FOO}2'] }, host, PATH);
    expect(merged.env).toEqual(['FOO=i2', 'PATH=/usr/bin:/bin:/opt']);
    const unset = composeEnvironment({ ...base, image: ['FOO=i', 'BAR=b'], unsetEnv: ['FOO', 'PATH'], env: ['FOO=e'] }, host, PATH);
    expect(unset.env).toEqual(['http_proxy=p', 'BAR=b', 'FOO=e']);
    expect(unset.keepDefault('PATH')).toBe(false);
    expect(unset.keepDefault('HOSTNAME')).toBe(true);
    const all = composeEnvironment({ ...base, image: ['FOO=i'], unsetEnvAll: true, env: ['A=1'] }, host, PATH);
    expect(all.env).toEqual(['A=1']);
    expect(all.keepDefault('TERM')).toBe(false);
    expect(() => composeEnvironment({ ...base, envMerge: ['=x'] }, host, PATH)).toThrow('invalid --env-merge "=x"');
    expect(() => composeEnvironment({ ...base, unsetEnv: ['A=1'] }, host, PATH)).toThrow('invalid --unsetenv "A=1"');
  });
});
