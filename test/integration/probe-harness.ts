// The tests' static probe (probe.c, as crun's tests/init.c): built once per
// test file that needs it. Static, so that any rootfs or image can run it.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { integrationEnv } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The built probe, or why it could not be built (a test then skips, saying so). */
export function buildProbe(): { path: string } | { reason: string } {
  const out = path.join(mkdtempSync(path.join(integrationEnv().workDir, 'probe-')), 'probe');
  try {
    execFileSync('cc', ['-O2', '-static', '-o', out, path.join(here, 'probe.c')], { stdio: 'pipe' });
    chmodSync(path.dirname(out), 0o755);
    return { path: out };
  } catch (err) {
    const why = String((err as { stderr?: Buffer }).stderr ?? err).split('\n')[0];
    return { reason: `cannot build the static probe (${why}): install gcc and libc6-dev` };
  }
}
