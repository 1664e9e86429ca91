// A container's security settings from its flags: capabilities, the seccomp
// filter (skiff's default, none, or a profile file), no_new_privs and the
// masked and read-only paths. The parsing is pure (oci/spec/security.ts);
// this reads the profile file and, when the build did not precompile the
// filter, loads the compiler.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import type { OciSeccomp } from '../oci/seccomp/compile.js';
import { precompiledDefaultSeccomp } from '../oci/seccomp/default.js';
import { parseSecurityOptions, resolveCapabilities, resolveSystemPaths } from '../oci/spec/security.js';
import { parseSysctls, type HostDevice } from '../oci/spec/devices.js';
import { privilegedDevices, resolveDevices } from './devices.js';

export interface SecurityRequest {
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  /** --security-opt values, as given. */
  securityOpts: string[];
  /** --device HOST[:CONTAINER][:PERMISSIONS], as given. */
  devices: string[];
  /** --group-add, as given. */
  groupAdd: string[];
  /** --sysctl KEY=VALUE, as given. */
  sysctls: string[];
}

export interface ContainerSecurity {
  capabilities: string[];
  noNewPrivileges: boolean;
  /** Absent: no filter. */
  seccomp?: OciSeccomp;
  /** What inspect shows: "default", "unconfined" or the profile file's absolute path. */
  seccompProfile: string;
  maskedPaths: string[];
  readonlyPaths: string[];
  devices: HostDevice[];
  devMknod: boolean;
  sysctls: Record<string, string>;
  groupAdd: string[];
}

/** skiff's default profile, resolved for a container with these capabilities. */
export async function defaultSeccomp(capabilities: readonly string[]): Promise<OciSeccomp> {
  const precompiled = precompiledDefaultSeccomp(capabilities);
  if (precompiled) return precompiled;
  const { resolveDefaultSeccomp } = await import('../oci/seccomp/index.js');
  return resolveDefaultSeccomp(capabilities, release());
}

async function profileSeccomp(file: string, capabilities: readonly string[]): Promise<OciSeccomp> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code ?? err);
    throw new SkiffError(`cannot read seccomp profile ${file}: ${why}`);
  }
  const { parseSeccompProfile, resolveSeccompProfile } = await import('../oci/seccomp/index.js');
  return resolveSeccompProfile(parseSeccompProfile(text, file), { capabilities, kernelRelease: release() });
}

function checkGroupAdd(groups: string[]): string[] {
  for (const g of groups) {
    if (g === '' || /[:\s]/.test(g)) throw new SkiffError(`invalid --group-add "${g}": a group name or number`);
  }
  if (groups.includes('keep-groups') && groups.length > 1) throw new SkiffError('--group-add keep-groups cannot be combined with other groups');
  return groups;
}

export async function resolveSecurity(req: SecurityRequest, ctx: { network: string; rootless: boolean }): Promise<ContainerSecurity> {
  const options = parseSecurityOptions(req.securityOpts);
  const capabilities = resolveCapabilities(req.capAdd, req.capDrop, req.privileged);
  const { masked, readonly } = resolveSystemPaths(options, req.privileged);
  // --privileged turns the filter off, as in Docker, unless a profile is named explicitly.
  const choice = req.privileged && options.seccomp.kind === 'default' ? ({ kind: 'unconfined' } as const) : options.seccomp;
  let seccomp: OciSeccomp | undefined;
  let seccompProfile: string = choice.kind;
  if (choice.kind === 'default') seccomp = await defaultSeccomp(capabilities);
  else if (choice.kind === 'file') {
    seccompProfile = path.resolve(choice.path);
    seccomp = await profileSeccomp(choice.path, capabilities);
  }
  return {
    capabilities,
    // skiff sets no_new_privs unless asked not to; --privileged lets set-user-ID programs work, as Docker's default does.
    noNewPrivileges: options.noNewPrivileges ?? !req.privileged,
    ...(seccomp ? { seccomp } : {}),
    seccompProfile,
    maskedPaths: masked,
    readonlyPaths: readonly,
    // --privileged brings the host's devices (rootless: those the user can open); as root nodes made in /dev open too.
    devices: [...(req.privileged ? privilegedDevices() : []), ...resolveDevices(req.devices)],
    devMknod: req.privileged && !ctx.rootless,
    sysctls: Object.fromEntries(parseSysctls(req.sysctls, { hostNetwork: ctx.network === 'host', hostIpc: false, hostUts: false })),
    groupAdd: checkGroupAdd(req.groupAdd),
  };
}
