// What the registry-client suites (040, 042) share: a hermetic environment
// (no credentials, CAs or registries.conf of the machine), registries that are
// stopped after each test, and small helpers for images and streams.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createRegistryClient } from '../../lib/registry/client.js';
import type { RegistryClient, RegistryClientOptions } from '../../lib/registry/types.js';
import { startRegistry, type StartRegistryOptions, type TestImage, type TestLayer, type TestRegistry } from './registry-harness.js';

export const layer = (text: string, compression: TestLayer['compression'] = 'gzip'): TestLayer => ({
  entries: [{ name: 'etc/', type: '5' }, { name: 'etc/hello', data: `${text}\n` }],
  compression,
});
export const simple = (format: 'docker' | 'oci', text = 'hello'): TestImage => ({ format, layers: [layer(text)], config: { Cmd: ['/bin/sh'] } });
export const client = (opts: RegistryClientOptions = {}): RegistryClient => createRegistryClient(opts);

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The error a stream fails with; fails the test if the stream ends instead. */
export function streamError(stream: Readable): Promise<Error> {
  return new Promise((resolve, reject) => {
    stream.on('data', () => {});
    stream.on('end', () => reject(new Error('the stream ended although its data was wrong')));
    stream.on('error', resolve);
  });
}

/** Runs `fn` with an environment variable set, restoring it after. */
export async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}

/** Registers the suite's hooks; call once at the top of a test file. */
export function registryClientSuite() {
  let work = '';
  const saved: Record<string, string | undefined> = {};
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'skiff-registry-client-'));
    const conf = path.join(work, 'registries.conf');
    writeFileSync(conf, '');
    for (const [k, v] of Object.entries({
      SKIFF_AUTH_FILE: path.join(work, 'no-auth.json'),
      SKIFF_CERTS_DIR: path.join(work, 'no-certs'),
      SKIFF_REGISTRIES_CONF: conf,
    })) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(work, { recursive: true, force: true });
  });
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });
  return {
    /** The suite's temp directory. */
    work: () => work,
    /** Run after the current test. */
    cleanups,
    /** A registry stopped after the current test. */
    async registry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
      const reg = await startRegistry(opts);
      cleanups.push(() => reg.stop());
      return reg;
    },
    /** An auth.json with these host → [user, password] entries. */
    authFile(entries: Record<string, [string, string]>): string {
      const file = path.join(mkdtempSync(path.join(work, 'auth-')), 'auth.json');
      const auths = Object.fromEntries(Object.entries(entries).map(([h, [u, p]]) => [h, { auth: Buffer.from(`${u}:${p}`).toString('base64') }]));
      writeFileSync(file, JSON.stringify({ auths }));
      return file;
    },
  };
}
