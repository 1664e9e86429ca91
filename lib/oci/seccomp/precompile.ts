// Run by scripts/build.mjs: the default profile, resolved and compiled for the
// bounding sets most containers have (Docker's default set, and none for
// --cap-drop ALL). The default profile has no minKernel rule, so the result
// holds on every kernel.
import { DEFAULT_CAPABILITIES } from '../spec/defaults.js';
import { compileSeccomp } from './compile.js';
import { capabilitiesKey, type PrecompiledSeccomp } from './default.js';
import { resolveDefaultSeccomp } from './index.js';

export function precompileDefaultSeccomp(): PrecompiledSeccomp[] {
  return [[...DEFAULT_CAPABILITIES], []].map((caps) => {
    const seccomp = resolveDefaultSeccomp(caps, '0.0');
    return { capabilities: capabilitiesKey(caps), key: JSON.stringify(seccomp), program: compileSeccomp(seccomp).toString('hex') };
  });
}
