// A container's limits and cgroup, between its record and lib/cgroups: the
// flags become HostConfig fields and config.json's linux.resources; at each
// start the cgroup is made (or the helper is told how); pause, top, stats,
// exec and update find it here.
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { SkiffError } from '../errors.js';
import {
  applyLimits,
  planContainerCgroup,
  prepareCgroupStart,
  startedCgroup,
  type CgroupChoice,
  type CgroupPlan,
  deviceRulesMechanism,
  type CgroupStart,
  type ContainerCgroup,
} from '../cgroups/container.js';
import type { OciRuntimeConfig } from '../oci/runtime-spec.js';
import { deviceCgroupRules, parseDeviceCgroupRule, type HostDevice, type OciDeviceCgroupRule } from '../oci/spec/devices.js';
import {
  applyResourceFlags,
  ociResources,
  ociRlimits,
  type HostResources,
  type OciLinuxResources,
  type ResourceFlags,
  type ResourceHost,
} from '../oci/spec/resources.js';
import { mayOpen } from './devices.js';
import type { ContainerRecord, PidFile } from './store.js';

function readLine(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8').trim() || fallback;
  } catch {
    return fallback;
  }
}

export function resourceHost(): ResourceHost {
  const cpus = availableParallelism();
  return {
    cpus,
    onlineCpus: readLine('/sys/devices/system/cpu/online', `0-${cpus - 1}`),
    onlineMems: readLine('/sys/devices/system/node/online', '0'),
  };
}

/** A block device's major and minor numbers (Linux's dev_t encoding). */
export function blockDevice(file: string): { major: number; minor: number } {
  let st;
  try {
    st = statSync(file, { bigint: true });
  } catch {
    throw new SkiffError(`${file}: no such device (throttling needs a block device such as /dev/sda)`);
  }
  if (!st.isBlockDevice()) throw new SkiffError(`${file} is not a block device (throttling needs one such as /dev/sda)`);
  const dev = st.rdev;
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor };
}

/** Flags over a base -> the HostConfig fields and what config.json gets. */
export function resolveResources(base: HostResources, flags: ResourceFlags): { host: HostResources; oci: OciLinuxResources } {
  const host = applyResourceFlags(base, flags, resourceHost());
  return { host, oci: ociResources(host, blockDevice) };
}

/** Puts resources, rlimits and the OOM score into a config. */
export function withResources(config: OciRuntimeConfig, host: HostResources, oci: OciLinuxResources): OciRuntimeConfig {
  const process = { ...config.process };
  delete process.rlimits;
  delete process.oomScoreAdj;
  if (host.Ulimits.length > 0) process.rlimits = ociRlimits(host.Ulimits);
  if (host.OomScoreAdj !== 0) process.oomScoreAdj = host.OomScoreAdj;
  const linux = { ...config.linux };
  delete linux.resources;
  if (Object.keys(oci).length > 0) linux.resources = oci;
  return { ...config, process, linux };
}

export function planCgroup(id: string, oci: OciLinuxResources, choice: CgroupChoice): CgroupPlan {
  return planContainerCgroup(id, oci, choice);
}

export interface DeviceCgroupRequest {
  privileged: boolean;
  /** The --device nodes (and --privileged's), resolved. */
  devices: HostDevice[];
  /** --device-cgroup-rule, as given. */
  rules: string[];
  rootless: boolean;
}

/**
 * The container's device cgroup (linux.resources.devices), where it has one:
 * as root, in the cgroup v1 devices controller, or else as an eBPF device
 * filter on its cgroup v2 directory (lib/cgroups/device-filter.ts), each
 * --device open only as its permissions say and --device-cgroup-rule added,
 * as Docker does. Elsewhere (rootless, or no cgroup) none is made: the root filesystem and /dev are nodev, so a node
 * made inside opens nowhere; a --device node then opens as the caller may
 * (a warning says so when its permissions ask for less), and
 * --device-cgroup-rule is refused in one line.
 */
export function deviceCgroupFor(req: DeviceCgroupRequest, plan: CgroupPlan): { rules?: OciDeviceCgroupRule[]; warnings: string[] } {
  const rules = req.rules.map(parseDeviceCgroupRule);
  let why: string | undefined;
  if (req.rootless) why = 'a rootless container has no device cgroup (run as root for one)';
  else if (!plan.cgroup) why = `the container has no cgroup, because ${plan.reason}`;
  else if (deviceRulesMechanism(plan.cgroup) === undefined) why = 'the container has no cgroup v1 devices directory and no cgroup v2 one to attach a device filter to';
  if (why === undefined) return { rules: deviceCgroupRules(req.devices, rules, req.privileged), warnings: [] };
  if (rules.length > 0) throw new SkiffError(`--device-cgroup-rule cannot be applied: ${why}`);
  // Worth a word only where the caller could open it for more than asked.
  const narrowed = req.devices.filter((d) => (!d.permissions.includes('r') && mayOpen(d.hostPath, 'r')) || (!d.permissions.includes('w') && mayOpen(d.hostPath, 'w')));
  return { warnings: narrowed.map((d) => `--device ${d.hostPath}:${d.permissions}: the container may open it as far as your user can, since ${why}`) };
}

/** What a start does with the container's cgroup (nothing when it has none). */
export function cgroupStart(record: ContainerRecord, config: OciRuntimeConfig): CgroupStart | undefined {
  if (!record.Cgroup) return undefined;
  return prepareCgroupStart(record.Id, record.Name, record.Cgroup, config.linux.resources ?? {});
}

/** The running (or last) start's cgroup, with its directory; undefined when it has none. */
export function liveCgroup(record: ContainerRecord, pid: Pick<PidFile, 'Cgroup'> | undefined): ContainerCgroup | undefined {
  return record.Cgroup ? startedCgroup(record.Cgroup, pid?.Cgroup) : undefined;
}

/** The directories an exec'd process joins. */
export function cgroupDirs(cg: ContainerCgroup | undefined): string[] {
  if (!cg) return [];
  return [...new Set([cg.dir, ...Object.values(cg.v1 ?? {})].filter((d): d is string => d !== undefined && d !== ''))];
}

/** update on a running container: the new limits into its cgroup, read back where the kernel keeps them exactly. */
export function applyLiveLimits(cg: ContainerCgroup, oci: OciLinuxResources): void {
  applyLimits(cg, oci);
}
