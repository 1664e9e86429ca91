// A container's security settings from its flags: capabilities, the seccomp
// filter (skiff's default, none, or a profile file), no_new_privs and the
// masked and read-only paths. The parsing is pure (oci/spec/security.ts);
// this reads the profile file and, when the build did not precompile the
// filter, loads the compiler.
import { release } from 'node:os';
import path from 'node:path';
import { SkiffError, readUserFile } from '../errors.js';
import type { OciSeccomp } from '../oci/seccomp/compile.js';
import { precompiledDefaultSeccomp } from '../oci/seccomp/default.js';
import { parseSecurityOptions, resolveCapabilities, resolveSystemPaths } from '../oci/spec/security.js';
import { parseSysctls, type HostDevice } from '../oci/spec/devices.js';
import { privilegedDevices, resolveDevices } from './devices.js';
import { parseIpcMode, parsePidMode, parseUtsMode, type NamespaceChoice, type NamespaceMode } from '../oci/spec/namespaces.js';
import { containerState } from './state.js';
import { resolveContainer, type ContainerRecord } from './store.js';

export interface SecurityRequest {
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  /** --security-opt values, as given. */
  securityOpts: string[];
  /** --device HOST[:CONTAINER][:PERMISSIONS], as given. */
  devices: string[];
  /** --device-cgroup-rule 'TYPE MAJOR:MINOR ACCESS', as given. */
  deviceCgroupRules: string[];
  /** --group-add, as given. */
  groupAdd: string[];
  /** --sysctl KEY=VALUE, as given. */
  sysctls: string[];
  /** --ipc, --pid, --uts, as given ("" when not). */
  ipc: string;
  pid: string;
  uts: string;
}

export interface ContainerNamespaces {
  ipc: NamespaceChoice;
  ipcNoShm: boolean;
  pid: NamespaceChoice;
  uts: NamespaceChoice;
  userJoinPid?: number;
  /** As Docker's inspect shows them. */
  IpcMode: string;
  PidMode: string;
  UTSMode: string;
}

function choiceOf(flag: string, mode: NamespaceMode, joined: Map<string, ContainerRecord>): NamespaceChoice {
  if (mode.kind === 'host') return { kind: 'host' };
  if (mode.kind !== 'container') return { kind: 'new' };
  const record = resolveContainer(mode.ref);
  const state = containerState(record);
  if (!state.Running || !state.Pid) throw new SkiffError(`${flag} container:${mode.ref}: the container is not running`);
  joined.set(record.Id, record);
  return { kind: 'join', pid: state.Pid };
}

/** --ipc, --pid, --uts: the namespaces a container shares, with the running containers it joins found by name. */
export function resolveNamespaces(req: Pick<SecurityRequest, 'ipc' | 'pid' | 'uts'>, rootless: boolean): ContainerNamespaces {
  const ipcMode = parseIpcMode(req.ipc);
  const pidMode = parsePidMode(req.pid);
  const utsMode = parseUtsMode(req.uts);
  const joined = new Map<string, ContainerRecord>();
  const ipc = choiceOf('--ipc', ipcMode, joined);
  const pid = choiceOf('--pid', pidMode, joined);
  const out: ContainerNamespaces = {
    ipc,
    ipcNoShm: ipcMode.kind === 'none',
    pid,
    uts: utsMode.kind === 'host' ? { kind: 'host' } : { kind: 'new' },
    IpcMode: ipcMode.kind === 'container' ? `container:${[...joined.values()][0]!.Id}` : ipcMode.kind === 'host' ? 'host' : ipcMode.kind === 'none' ? 'none' : req.ipc === 'shareable' ? 'shareable' : 'private',
    PidMode: pidMode.kind === 'container' ? `container:${[...joined.values()].at(-1)!.Id}` : pidMode.kind === 'host' ? 'host' : '',
    UTSMode: utsMode.kind === 'host' ? 'host' : '',
  };
  // Rootless, another container's namespaces belong to its user namespace: only from inside it can they be joined.
  if (rootless && joined.size > 0) {
    if (joined.size > 1) throw new SkiffError(`a rootless container can join the namespaces of one other container only, not of ${[...joined.values()].map((r) => r.Name).join(' and ')}`);
    out.userJoinPid = ipc.kind === 'join' ? ipc.pid : (pid as { pid: number }).pid;
  }
  return out;
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
  const text = readUserFile(file, 'seccomp profile');
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

export async function resolveSecurity(req: SecurityRequest, ctx: { network: string; rootless: boolean; namespaces: ContainerNamespaces }): Promise<ContainerSecurity> {
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
    sysctls: Object.fromEntries(
      parseSysctls(req.sysctls, { hostNetwork: ctx.network === 'host', hostIpc: ctx.namespaces.ipc.kind !== 'new', hostUts: ctx.namespaces.uts.kind === 'host' }),
    ),
    groupAdd: checkGroupAdd(req.groupAdd),
  };
}
