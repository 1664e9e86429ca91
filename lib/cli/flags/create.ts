// Flags shared by `run` and `create` (as Podman's common/create.go).
import type { FlagSpec } from '../args.js';

export const CREATE_FLAGS: FlagSpec[] = [
  { name: 'rootfs', type: 'string', describe: 'Use DIR as the root filesystem instead of an image', placeholder: 'DIR' },
  { name: 'env', short: 'e', type: 'array', describe: 'Set an environment variable (KEY=VALUE, or KEY to pass the host value)', placeholder: 'KEY=VALUE' },
  { name: 'env-file', type: 'array', describe: 'Read environment variables from a file', placeholder: 'FILE' },
  { name: 'workdir', short: 'w', type: 'string', describe: 'Working directory inside the container (created if missing)', placeholder: 'DIR' },
  { name: 'user', short: 'u', type: 'string', describe: 'User to run as: name|uid[:group|gid]', placeholder: 'USER' },
  { name: 'hostname', short: 'h', type: 'string', describe: 'Container host name (default: the short container id)', placeholder: 'NAME' },
  { name: 'network', aliases: ['net'], type: 'string', describe: "Network mode: 'none' (only lo) or 'host'", placeholder: 'MODE', default: 'none' },
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
  { name: 'group-add', type: 'array', describe: "Add a supplementary group (name or number; keep-groups: keep your own, rootless)", placeholder: 'GROUP' },
  { name: 'sysctl', type: 'array', describe: 'Set a namespaced kernel setting (net.*, fs.mqueue.*, kernel.shm*, kernel.msg*, kernel.sem)', placeholder: 'KEY=VALUE' },
];
