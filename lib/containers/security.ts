// The container's security settings that need more than the pure builder:
// the seccomp rules for its capabilities (precompiled by the build for the
// usual sets; otherwise the compiler loads on demand).
import { release } from 'node:os';
import type { OciSeccomp } from '../oci/seccomp/compile.js';
import { precompiledDefaultSeccomp } from '../oci/seccomp/default.js';

/** skiff's default profile, resolved for a container with these capabilities. */
export async function defaultSeccomp(capabilities: readonly string[]): Promise<OciSeccomp> {
  const precompiled = precompiledDefaultSeccomp(capabilities);
  if (precompiled) return precompiled;
  const { resolveDefaultSeccomp } = await import('../oci/seccomp/index.js');
  return resolveDefaultSeccomp(capabilities, release());
}
