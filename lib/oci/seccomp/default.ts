// The default filter, compiled when skiff is built (scripts/build.mjs puts
// the result of precompile.ts here), so `run` neither loads the compiler nor
// compiles: the common cases cost a lookup. Anything else (--cap-add, a
// profile file) goes through the compiler, which loads on demand (index.ts).
import type { OciSeccomp } from './compile.js';

export interface PrecompiledSeccomp {
  /** The bounding set it was resolved for, sorted and joined by ','. */
  capabilities: string;
  /** JSON.stringify of the config's linux.seccomp it was compiled from. */
  key: string;
  /** struct sock_filter[], hex. */
  program: string;
}

declare const __SKIFF_SECCOMP_PRECOMPILED__: PrecompiledSeccomp[] | undefined;
const PRECOMPILED: PrecompiledSeccomp[] = typeof __SKIFF_SECCOMP_PRECOMPILED__ === 'object' ? __SKIFF_SECCOMP_PRECOMPILED__ : [];

export function capabilitiesKey(capabilities: readonly string[]): string {
  return [...capabilities].sort().join(',');
}

/** The default profile resolved for this bounding set, when the build did it already. */
export function precompiledDefaultSeccomp(capabilities: readonly string[]): OciSeccomp | undefined {
  const key = capabilitiesKey(capabilities);
  const hit = PRECOMPILED.find((p) => p.capabilities === key);
  // A copy: the config that holds it is the caller's to change.
  return hit ? (JSON.parse(hit.key) as OciSeccomp) : undefined;
}

/** The program for a config's linux.seccomp, when the build compiled exactly that. */
export function precompiledSeccompProgram(seccomp: OciSeccomp): Buffer | undefined {
  const key = JSON.stringify(seccomp);
  const hit = PRECOMPILED.find((p) => p.key === key);
  return hit ? Buffer.from(hit.program, 'hex') : undefined;
}
