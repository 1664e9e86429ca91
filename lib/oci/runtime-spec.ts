// The subset of the OCI runtime-spec (config.json, version 1.2) that skiff writes.
import type { OciSeccomp } from './seccomp/compile.js';
import type { OciLinuxResources, OciRlimit } from './spec/resources.js';

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** linux.devices: a device node the container gets. */
export interface OciDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  /** Set on a node the runtime makes by mknod (without a bind mount at path). */
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciCapabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable: string[];
  ambient: string[];
}

export interface OciRuntimeConfig {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; username?: string; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: OciCapabilities;
    noNewPrivileges: boolean;
    /** --ulimit */
    rlimits?: OciRlimit[];
    /** --oom-score-adj */
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  annotations: Record<string, string>;
  linux: {
    /** A path: that process's namespace is joined. A type left out: the host's. */
    namespaces: { type: 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'cgroup' | 'user'; path?: string }[];
    uidMappings?: OciIdMapping[];
    gidMappings?: OciIdMapping[];
    maskedPaths: string[];
    readonlyPaths: string[];
    /** The container's own cgroup directory, when skiff makes it itself (cgroupfs). */
    cgroupsPath?: string;
    devices?: OciDevice[];
    sysctl?: Record<string, string>;
    /** The seccomp rules that apply (Docker's includes/excludes already resolved); absent: unconfined. */
    seccomp?: OciSeccomp;
    /** --memory, --cpus, --pids-limit… (lib/oci/spec/resources.ts) */
    resources?: OciLinuxResources;
    /** --personality: the execution domain (personality(2)). */
    personality?: { domain: 'LINUX' | 'LINUX32' };
  };
}
