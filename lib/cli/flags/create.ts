// Flags shared by `run` and `create` (as Podman's common/create.go).
import type { FlagSpec } from '../args.js';

export const CREATE_FLAGS: FlagSpec[] = [
  { name: 'rootfs', type: 'string', describe: 'Use DIR as the root filesystem instead of an image', placeholder: 'DIR' },
  { name: 'env', short: 'e', type: 'array', describe: 'Set an environment variable (KEY=VALUE, or KEY to pass the host value)', placeholder: 'KEY=VALUE' },
  { name: 'env-file', type: 'array', describe: 'Read environment variables from a file', placeholder: 'FILE' },
  { name: 'workdir', short: 'w', type: 'string', describe: 'Working directory inside the container (created if missing)', placeholder: 'DIR' },
  { name: 'user', short: 'u', type: 'string', describe: 'User to run as: name|uid[:group|gid]', placeholder: 'USER' },
  { name: 'hostname', short: 'h', type: 'string', describe: 'Container host name (default: the short container id)', placeholder: 'NAME' },
  {
    name: 'network',
    aliases: ['net'],
    type: 'string',
    describe: 'Network: a private one with outbound access (default: pasta, else slirp4netns), none, host, pasta[:OPTS], slirp4netns[:OPTS], container:NAME, ns:PATH',
    placeholder: 'MODE',
  },
  { name: 'publish', short: 'p', type: 'array', describe: "Publish a container's port on the host: [[IP:][HOSTPORT]:]PORT[/tcp|udp], ranges as 8000-8003:80-83", placeholder: 'SPEC' },
  { name: 'publish-all', short: 'P', type: 'boolean', describe: 'Publish every exposed port (the image\'s EXPOSE and --expose) on a free host port' },
  { name: 'expose', type: 'array', describe: 'Expose a port (or range) without publishing it: PORT[-PORT][/tcp|udp]', placeholder: 'PORT' },
  { name: 'dns', type: 'array', describe: 'A DNS server for /etc/resolv.conf (replaces the host\'s)', placeholder: 'IP' },
  { name: 'dns-search', type: 'array', describe: 'A DNS search domain for /etc/resolv.conf', placeholder: 'DOMAIN' },
  { name: 'dns-option', aliases: ['dns-opt'], type: 'array', describe: 'A DNS option for /etc/resolv.conf', placeholder: 'OPT' },
  { name: 'add-host', type: 'array', describe: 'Add a line to /etc/hosts: NAME:IP (IP may be host-gateway)', placeholder: 'NAME:IP' },
  { name: 'no-hosts', type: 'boolean', describe: 'Leave /etc/hosts as the image has it' },
  { name: 'mac-address', type: 'string', describe: "The MAC address of the container's interface (pasta, slirp4netns)", placeholder: 'MAC' },
  { name: 'network-alias', type: 'array', describe: 'Another name the containers on its user-defined networks know it by', placeholder: 'ALIAS' },
  { name: 'ip', type: 'string', describe: 'Its IPv4 address on its (first) user-defined network', placeholder: 'IP' },
  { name: 'init', type: 'boolean', describe: 'Run an init as PID 1 that forwards signals and reaps zombies' },
  { name: 'entrypoint', type: 'string', describe: 'Overwrite the default entrypoint', placeholder: 'CMD' },
  { name: 'interactive', short: 'i', type: 'boolean', describe: 'Keep stdin open' },
  { name: 'tty', short: 't', type: 'boolean', describe: 'Allocate a pseudo-TTY' },
  { name: 'name', type: 'string', describe: 'Assign a name to the container', placeholder: 'NAME' },
  { name: 'pull', type: 'string', describe: 'Pull the image: missing (default), always or never', placeholder: 'POLICY', default: 'missing' },
  { name: 'tls-verify', type: 'boolean', describe: 'When pulling: require HTTPS and verified certificates (Podman)' },
  { name: 'label', short: 'l', type: 'array', describe: 'Set metadata on the container (KEY=VALUE; over the image\'s labels)', placeholder: 'KEY=VALUE' },
  { name: 'stop-signal', type: 'string', describe: "Signal that stops the container (default: the image's StopSignal, else SIGTERM)", placeholder: 'SIGNAL' },
  { name: 'restart', type: 'string', describe: 'Restart policy for a detached container: no, always, on-failure[:N]', placeholder: 'POLICY', default: 'no' },
  // Security (how-it-works: Security).
  { name: 'cap-add', type: 'array', describe: 'Add a Linux capability (NET_ADMIN, CAP_NET_ADMIN or ALL)', placeholder: 'CAP' },
  { name: 'cap-drop', type: 'array', describe: 'Drop a Linux capability (NET_RAW, CAP_NET_RAW or ALL)', placeholder: 'CAP' },
  { name: 'privileged', type: 'boolean', describe: 'Every capability, no seccomp filter, no masked paths (rootless: all of your user namespace, never more)' },
  {
    name: 'security-opt',
    type: 'array',
    describe: 'Security options: seccomp=unconfined|FILE, no-new-privileges[=true|false], mask=PATHS, unmask=ALL|PATHS, label=disable',
    placeholder: 'OPT',
  },
  // --- Storage (issue 11)
  {
    name: 'volume',
    short: 'v',
    type: 'array',
    describe: 'Bind a host path or mount a volume: [SOURCE:]DEST[:OPTIONS], OPTIONS ro, rw, z, Z, U, O, nocopy, [no]exec, [no]suid, [no]dev, [r]bind, [r]private|[r]slave|[r]shared, idmap[=…]',
    placeholder: '[SRC:]DST[:OPTS]',
  },
  { name: 'mount', type: 'array', describe: "Attach a mount: type=bind|volume|tmpfs,source=…,target=…[,readonly][,…] (Docker's keys)", placeholder: 'SPEC' },
  { name: 'tmpfs', type: 'array', describe: 'Mount a tmpfs: DEST[:OPTIONS] (size=, mode=, ro, …)', placeholder: 'DEST[:OPTS]' },
  { name: 'read-only', type: 'boolean', describe: "Mount the container's root filesystem read-only" },
  { name: 'read-only-tmpfs', type: 'boolean', default: true, describe: 'With --read-only: writable tmpfs on /tmp, /var/tmp and /run (Podman; true unless =false)' },
  { name: 'volumes-from', type: 'array', describe: 'Mount the volumes and binds of another container: CONTAINER[:ro|rw]', placeholder: 'CONTAINER' },
  { name: 'device', type: 'array', describe: 'Give the container a host device: HOST[:CONTAINER][:rwm] (one your user can open)', placeholder: 'DEVICE' },
  { name: 'device-cgroup-rule', type: 'array', describe: "Allow devices in the container's device cgroup: 'TYPE MAJOR:MINOR ACCESS', e.g. 'c 42:* rwm' (root, cgroup v1)", placeholder: 'RULE' },
  {
    name: 'userns',
    type: 'string',
    describe: "User namespace (rootless): keep-id[:uid=N,gid=N] (your own IDs inside: what the container writes in your directories is yours) or host (only your own ID, no sub-IDs)",
    placeholder: 'MODE',
  },
  { name: 'group-add', type: 'array', describe: "Add a supplementary group (name or number; keep-groups: keep your own, rootless)", placeholder: 'GROUP' },
  { name: 'ipc', type: 'string', describe: 'IPC namespace: private (default), shareable, host, none or container:NAME', placeholder: 'MODE' },
  { name: 'pid', type: 'string', describe: 'PID namespace: private (default), host or container:NAME', placeholder: 'MODE' },
  { name: 'uts', type: 'string', describe: 'UTS namespace (host name): private (default) or host', placeholder: 'MODE' },
  { name: 'sysctl', type: 'array', describe: 'Set a namespaced kernel setting (net.*, fs.mqueue.*, kernel.shm*, kernel.msg*, kernel.sem)', placeholder: 'KEY=VALUE' },
];

// Resource limits (docs/limits.md), shared with `update` where Docker shares them.
export const LIMIT_FLAGS: FlagSpec[] = [
  { name: 'memory', short: 'm', type: 'string', describe: 'Memory limit (e.g. 64m, 1g)', placeholder: 'BYTES' },
  { name: 'memory-reservation', type: 'string', describe: 'Memory soft limit, below --memory', placeholder: 'BYTES' },
  { name: 'memory-swap', type: 'string', describe: 'Memory plus swap limit; -1 for unlimited swap (default: twice --memory)', placeholder: 'BYTES' },
  { name: 'cpus', type: 'string', describe: 'Number of CPUs (e.g. 0.5)', placeholder: 'N' },
  { name: 'cpu-shares', short: 'c', type: 'string', describe: 'CPU shares, a relative weight (1024 is the default)', placeholder: 'N' },
  { name: 'cpu-period', type: 'string', describe: 'CFS period in microseconds', placeholder: 'US' },
  { name: 'cpu-quota', type: 'string', describe: 'CFS quota in microseconds per period', placeholder: 'US' },
  { name: 'cpuset-cpus', type: 'string', describe: 'CPUs the container may use (e.g. 0-2,4)', placeholder: 'LIST' },
  { name: 'cpuset-mems', type: 'string', describe: 'Memory nodes the container may use (e.g. 0)', placeholder: 'LIST' },
  { name: 'pids-limit', type: 'string', describe: 'Maximum number of processes (0 or -1: unlimited)', placeholder: 'N' },
  { name: 'blkio-weight', type: 'string', describe: 'Block I/O weight, 10 to 1000 (needs the BFQ scheduler)', placeholder: 'N' },
];

/** Limits only run and create take. */
export const CREATE_LIMIT_FLAGS: FlagSpec[] = [
  { name: 'kernel-memory', type: 'string', describe: 'Obsolete: refused (the kernel no longer limits kernel memory on its own)', placeholder: 'BYTES', hidden: true },
  { name: 'device-read-bps', type: 'array', describe: 'Limit reads from a block device (e.g. /dev/sda:1mb)', placeholder: 'DEV:RATE' },
  { name: 'device-write-bps', type: 'array', describe: 'Limit writes to a block device (e.g. /dev/sda:1mb)', placeholder: 'DEV:RATE' },
  { name: 'device-read-iops', type: 'array', describe: 'Limit read operations per second from a block device', placeholder: 'DEV:N' },
  { name: 'device-write-iops', type: 'array', describe: 'Limit write operations per second to a block device', placeholder: 'DEV:N' },
  { name: 'oom-score-adj', type: 'string', describe: "Tune the OOM killer's preference for the container (-1000 to 1000)", placeholder: 'N' },
  { name: 'ulimit', type: 'array', describe: 'An rlimit: NAME=SOFT[:HARD] (e.g. nofile=1024:2048)', placeholder: 'NAME=LIMIT' },
  { name: 'cgroups', type: 'string', describe: 'enabled, disabled (no cgroup, no limits), no-conmon, or split (a sub-cgroup of the caller\'s, for systemd units)', placeholder: 'MODE', default: 'enabled' },
];

// For systemd units (docs/systemd.md): run and create.
export const UNIT_FLAGS: FlagSpec[] = [
  { name: 'sdnotify', type: 'string', describe: "With a unit's NOTIFY_SOCKET: container (the container sends READY=1; default), conmon (READY=1 once started) or ignore", placeholder: 'MODE', default: 'container' },
  { name: 'cidfile', type: 'string', describe: "Write the container's id to FILE (which must not exist)", placeholder: 'FILE' },
  { name: 'replace', type: 'boolean', describe: 'Remove a container of the same --name first (forcibly)' },
  { name: 'pidfile', type: 'string', describe: "Write the container's first process's host pid to FILE at each start", placeholder: 'FILE' },
  { name: 'conmon-pidfile', type: 'string', describe: "Write the pid of the container's monitor to FILE (foreground: the helper's)", placeholder: 'FILE' },
];
