// What the user asked for, validated, between the flags and config.json
// (as Podman's specgen). Everything here is plain data.
import type { OciIdMapping, OciMount } from '../runtime-spec.js';
import type { OciSeccomp } from '../seccomp/compile.js';
import type { HostDevice } from './devices.js';
import type { NamespaceChoice } from './namespaces.js';

/** A user namespace's maps (host/subids.ts reads them from /etc/subuid and /etc/subgid). */
export interface IdMappings {
  uidMappings: OciIdMapping[];
  gidMappings: OciIdMapping[];
  /** True when the user has no sub-ID range: container root is the user alone. */
  single: boolean;
}

/**
 * none: a network namespace of its own with lo only; host: the host's;
 * private: its own with a network program (networkProgram); join: an
 * existing one (networkJoin: another container's, or ns:PATH).
 */
export type NetworkMode = 'none' | 'host' | 'private' | 'join';

/** The network program the helper starts against a private network namespace (lib/network/plan.ts makes it; helpers-c/src/net.h runs it). */
export interface HelperNetworkProgram {
  /** The container's id: SKIFF_CONTAINER in the program's environment. */
  owner: string;
  pasta?: string[];
  slirp?: string[];
  log: string;
  api?: string;
  forwards?: string[];
  /**
   * TCP ports published on the host's loopback, forwarded by the helper's
   * own process (helpers-c/src/net_forward.h) instead of the network
   * program: "HOST_ADDR<TAB>HOST_PORT<TAB>GUEST_PORT".
   */
  splice?: string[];
  /**
   * pasta's interface in the container, when skiff knows what pasta will
   * configure on it (no options of the user's): the helper makes it
   * beforehand and releases the container once pasta has put the default
   * route on it (and the IPv6 one, with ipv6) instead of when pasta is ready.
   */
  pastaInterface?: { name: string; ipv6: boolean };
  /**
   * slirp4netns's tap in the container: the helper makes it beforehand as
   * a persistent tap, which slirp4netns attaches to, so that slirp4netns's
   * exit does not unregister it (helpers-c/src/net_watch.h). When
   * slirp4netns is the only program, before it starts; as pasta's
   * fallback, once pasta has failed and its interface is deleted.
   */
  slirpInterface?: string;
  /**
   * pasta's AVX2 build (passt.avx2 beside the binary pasta is), which the helper runs instead
   * when the CPU has AVX2: pasta would exec it itself first thing, one more
   * exec and dynamic link on the container's start-up path.
   */
  pastaAvx2?: string;
  /**
   * With pasta and slirp4netns (the default network): the file the helper
   * writes "slirp4netns" into when pasta failed at a start and slirp4netns
   * serves the container, and removes when pasta serves it.
   */
  fallbackFile?: string;
}

export interface RunOptions {
  id: string;
  rootfs: string;
  /** The container's argv, entrypoint already applied. */
  args: string[];
  /** KEY=VALUE, in order; later entries win. */
  env: string[];
  /** Of skiff's own defaults (PATH, HOSTNAME, TERM), those --unsetenv or --unsetenv-all drop. */
  unsetDefaults?: string[];
  workdir: string;
  /** "" for root, else user[:group] by name or number. */
  user: string;
  hostname: string;
  network: NetworkMode;
  /** What inspect calls the mode (pasta, slirp4netns, none, host, container:ID, ns:PATH); default: network. */
  networkLabel?: string;
  networkProgram?: HelperNetworkProgram;
  networkJoin?: string;
  init: boolean;
  tty: boolean;
  interactive: boolean;
  /** null: no user namespace (root's default). */
  idMappings: IdMappings | null;
  /**
   * An image's layers as an overlay root filesystem mounted onto rootfs. With
   * driver 'vfs' nothing is mounted: upperdir is the container's own full
   * copy of the image (its rootfs, bound as --rootfs is), and lowerdirs are
   * kept to tell what it changed (diff, commit, ps --size).
   */
  overlay?: { lowerdirs: string[]; upperdir: string; workdir: string; driver?: 'vfs' };
  /** Host files bound into the container (its /etc/hosts, /etc/hostname, /etc/resolv.conf). */
  binds?: { source: string; destination: string; readonly: boolean }[];
  /** The seccomp filter's rules, resolved for the container's capabilities; absent: unconfined. */
  seccomp?: OciSeccomp;
  /** For inspect: "default", "unconfined" or a profile file's path. */
  seccompProfile?: string;
  /** --privileged: besides what the fields below say, a writable /sys. */
  privileged?: boolean;
  /** The bounding set (and root's effective one); default: Docker's. */
  capabilities?: string[];
  /** Default: on. */
  noNewPrivileges?: boolean;
  /** Default: Docker's lists (defaults.ts). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** --device (and --privileged's): host nodes bound into the container. */
  devices?: HostDevice[];
  /** --privileged as root: /dev is not nodev, so nodes made there open. */
  devMknod?: boolean;
  /** --sysctl, already checked to be namespaced. */
  sysctls?: Record<string, string>;
  /** --group-add: names or numbers ("keep-groups": Podman's, the caller's own groups stay). */
  groupAdd?: string[];
  /** --ipc, --pid, --uts: default new. ipcNoShm: --ipc none. */
  ipc?: NamespaceChoice;
  ipcNoShm?: boolean;
  pid?: NamespaceChoice;
  uts?: NamespaceChoice;
  /** --cgroupns host: the caller's cgroup namespace (default: one of its own, the container's cgroup its root). */
  cgroupnsHost?: boolean;
  /** --personality: the execution domain (LINUX32: uname -m says i686). */
  personality?: 'LINUX' | 'LINUX32';
  /** --timeout: seconds each start may run before it is killed (SIGKILL). */
  timeout?: number;
  /** Rootless, joining another container's namespaces: its user namespace, instead of a new one. */
  userJoinPid?: number;
  /** Volumes, binds, tmpfs (issue 11). */
  storage?: StorageOptions;
}

// --- Storage (issue 11): mounts resolved on the host, in the order they are made.
export interface StorageOptions {
  /** -v, --mount, --tmpfs, volumes: config.json mounts, sources resolved (lib/containers/mounts.ts). */
  mounts: OciMount[];
  /** --read-only: the root filesystem is mounted read-only (after every mount target exists). */
  readonlyRootfs: boolean;
}
