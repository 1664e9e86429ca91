// A SkiffError thrown by a lazily loaded bundle (its own copy of lib/errors.ts)
// must still be a SkiffError to the CLI's entry point: one line and exit 125,
// not "internal error".
import { buildSync } from 'esbuild';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SkiffError } from '../../lib/errors.js';

describe('SkiffError across bundles', () => {
  it('is recognised by instanceof in another copy of the class, and subclasses keep their own identity', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-errors-'));
    try {
      const outfile = path.join(dir, 'errors.cjs');
      buildSync({ entryPoints: [path.resolve('lib/errors.ts')], bundle: true, format: 'cjs', platform: 'node', outfile, logLevel: 'error' });
      const other = createRequire(import.meta.url)(outfile) as { SkiffError: typeof SkiffError };
      expect(other.SkiffError).not.toBe(SkiffError);
      const foreign = new other.SkiffError('from a lazy bundle', 1);
      expect(foreign instanceof SkiffError).toBe(true);
      expect(foreign.exitCode).toBe(1);
      class Narrower extends SkiffError {}
      expect(new Narrower('x') instanceof SkiffError).toBe(true);
      expect(new Narrower('x') instanceof Narrower).toBe(true);
      expect(new SkiffError('x') instanceof Narrower).toBe(false);
      expect(foreign instanceof Narrower).toBe(false);
      expect(new Error('plain') instanceof SkiffError).toBe(false);
      expect((null as unknown as object) instanceof SkiffError).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
