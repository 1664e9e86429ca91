// The seccomp compiler as one module that loads on demand (dist/lazy/seccomp.cjs):
// only a run that needs a filter the build did not precompile pays for it.
import { compileSeccomp, resolveSeccompProfile, type OciSeccomp } from './compile.js';
import { DEFAULT_SECCOMP_PROFILE } from './default-profile.js';
import { parseSeccompProfile, validateSeccompProfile, type SeccompProfile } from './profile.js';

export { compileSeccomp, parseSeccompProfile, resolveSeccompProfile };
export type { OciSeccomp, SeccompProfile };

export function defaultSeccompProfile(): SeccompProfile {
  return validateSeccompProfile(DEFAULT_SECCOMP_PROFILE, 'default');
}

/** skiff's default profile as config.json holds it for a container with these capabilities. */
export function resolveDefaultSeccomp(capabilities: readonly string[], kernelRelease: string): OciSeccomp {
  return resolveSeccompProfile(defaultSeccompProfile(), { capabilities, kernelRelease });
}
