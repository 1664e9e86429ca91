import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseEnvFile, readEnvFile, resolveEnvironment } from '../../lib/oci/spec/env.js';

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
