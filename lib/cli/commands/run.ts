import path from 'node:path';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';
import { CREATE_FLAGS, CREATE_LIMIT_FLAGS, LIMIT_FLAGS, UNIT_FLAGS } from '../flags/create.js';
import type { ResourceFlags } from '../../oci/spec/resources.js';
import { SkiffError } from '../../errors.js';
import { preservedFds } from '../flags/preserve-fds.js';
import { parseUsernsMode } from '../../oci/spec/userns.js';
import type { ContainerRequest } from '../../containers/run.js';
import { parseOnFailure, resolveHealthcheck, type HealthFlags } from '../../containers/health-config.js';

export const spec: CommandSpec = {
  name: 'run',
  summary: 'Run a command in a new container',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]  |  [OPTIONS] --rootfs DIR COMMAND [ARG...]',
  positionals: 'halt',
  flags: [
    { name: 'detach', short: 'd', type: 'boolean', describe: 'Run the container in the background and print its id' },
    { name: 'rm', type: 'boolean', describe: 'Remove the container when it exits' },
    { name: 'preserve-fds', type: 'string', describe: 'Pass your file descriptors 3..3+N-1 into the container as the same numbers (Podman)', placeholder: 'N' },
    { name: 'attach', short: 'a', type: 'array', describe: "Connect only these of your streams: stdin (with -i), stdout, stderr; the others get /dev/null (the log keeps the output)", placeholder: 'STREAM' },
    ...CREATE_FLAGS,
    ...LIMIT_FLAGS,
    ...CREATE_LIMIT_FLAGS,
    ...UNIT_FLAGS,
  ],
};

/** The limit flags as typed (update takes the same names). */
export function resourceFlags(args: ParsedArgs): ResourceFlags {
  const list = (name: string) => (args.flags[name] === undefined ? undefined : flagList(args, name));
  return {
    memory: flagString(args, 'memory'),
    memoryReservation: flagString(args, 'memory-reservation'),
    memorySwap: flagString(args, 'memory-swap'),
    kernelMemory: flagString(args, 'kernel-memory'),
    cpus: flagString(args, 'cpus'),
    cpuShares: flagString(args, 'cpu-shares'),
    cpuPeriod: flagString(args, 'cpu-period'),
    cpuQuota: flagString(args, 'cpu-quota'),
    cpusetCpus: flagString(args, 'cpuset-cpus'),
    cpusetMems: flagString(args, 'cpuset-mems'),
    pidsLimit: flagString(args, 'pids-limit'),
    blkioWeight: flagString(args, 'blkio-weight'),
    deviceReadBps: list('device-read-bps'),
    deviceWriteBps: list('device-write-bps'),
    deviceReadIops: list('device-read-iops'),
    deviceWriteIops: list('device-write-iops'),
    oomScoreAdj: flagString(args, 'oom-score-adj'),
    ulimits: list('ulimit'),
  };
}

/** Podman flags skiff does not offer, each refused in one line that says why (never parsed and ignored). */
function refusedFlags(args: ParsedArgs): void {
  const why: Record<string, string> = {
    'init-path': "skiff's --init is part of its own helper, so there is no init binary to give; use --init",
  };
  for (const [flag, reason] of Object.entries(why)) {
    if (args.flags[flag] !== undefined) throw new SkiffError(`--${flag} is not supported: ${reason}`);
  }
}

/** --chrootdirs: absolute paths in the container, comma-separated or repeated; "/" is the root itself. */
function chrootDirs(values: string[]): string[] {
  const dirs: string[] = [];
  for (const value of values.flatMap((v) => v.split(','))) {
    if (!value.startsWith('/')) throw new SkiffError(`invalid --chrootdirs "${value}": a chroot directory is an absolute path in the container`);
    const dir = path.posix.normalize(value).replace(/\/+$/, '');
    if (dir !== '' && !dirs.includes(dir)) dirs.push(dir);
  }
  return dirs;
}

/** --health-*: checked now (before any pull), resolved over the image's HEALTHCHECK at create. */
function healthFlags(args: ParsedArgs): HealthFlags {
  const opt = (name: string) => flagString(args, name);
  const flags: HealthFlags = {
    ...(opt('health-cmd') !== undefined ? { cmd: opt('health-cmd')! } : {}),
    ...(opt('health-interval') !== undefined ? { interval: opt('health-interval')! } : {}),
    ...(opt('health-timeout') !== undefined ? { timeout: opt('health-timeout')! } : {}),
    ...(opt('health-start-period') !== undefined ? { startPeriod: opt('health-start-period')! } : {}),
    ...(opt('health-start-interval') !== undefined ? { startInterval: opt('health-start-interval')! } : {}),
    ...(opt('health-retries') !== undefined ? { retries: opt('health-retries')! } : {}),
    ...(opt('health-on-failure') !== undefined ? { onFailure: opt('health-on-failure')! } : {}),
    noHealthcheck: flagBool(args, 'no-healthcheck'),
  };
  resolveHealthcheck(undefined, flags);
  parseOnFailure(flags.onFailure);
  return flags;
}

/** The flags shared with `create`, as a request; an image is found (or pulled) here. */
export async function containerRequest(args: ParsedArgs): Promise<ContainerRequest> {
  refusedFlags(args);
  const health = healthFlags(args);
  const rootfs = flagString(args, 'rootfs');
  const userns = flagString(args, 'userns') ?? '';
  parseUsernsMode(userns); // a bad one fails before any pull
  let command = args.positionals;
  let image;
  if (rootfs === undefined) {
    const [name, ...rest] = args.positionals;
    if (name === undefined) throw new SkiffError(`"skiff ${args.command ?? 'run'}" requires at least 1 argument: an image, or --rootfs DIR and a command`);
    command = rest;
    const { parsePullPolicy, resolveRunImage } = await import('../../containers/image.js');
    const tlsVerify = args.flags['tls-verify'];
    image = await resolveRunImage(name, parsePullPolicy(flagString(args, 'pull') ?? 'missing'), typeof tlsVerify === 'boolean' ? [`--tls-verify=${tlsVerify}`] : []);
  }
  return {
    ...(rootfs !== undefined ? { rootfs } : {}),
    ...(image ? { image } : {}),
    command,
    entrypoint: flagString(args, 'entrypoint'),
    env: flagList(args, 'env'),
    envFiles: flagList(args, 'env-file'),
    envHost: flagBool(args, 'env-host'),
    httpProxy: args.flags['http-proxy'] !== false,
    envMerge: flagList(args, 'env-merge'),
    unsetEnv: flagList(args, 'unsetenv'),
    unsetEnvAll: flagBool(args, 'unsetenv-all'),
    ...(flagString(args, 'tz') !== undefined ? { tz: flagString(args, 'tz')! } : {}),
    chrootDirs: chrootDirs(flagList(args, 'chrootdirs')),
    hostUsers: flagList(args, 'hostuser').flatMap((v) => v.split(',')).filter((v) => v !== ''),
    passwd: args.flags['passwd'] !== false,
    ...(flagString(args, 'passwd-entry') !== undefined ? { passwdEntry: flagString(args, 'passwd-entry')! } : {}),
    cgroupns: flagString(args, 'cgroupns') ?? '',
    log: { driver: flagString(args, 'log-driver') ?? '', opts: flagList(args, 'log-opt'), detach: flagBool(args, 'detach'), create: args.command === 'create' },
    personality: flagString(args, 'personality') ?? '',
    timeout: flagString(args, 'timeout') ?? '',
    workdir: flagString(args, 'workdir'),
    user: flagString(args, 'user'),
    hostname: flagString(args, 'hostname'),
    network: flagString(args, 'network') ?? '',
    networkFlags: {
      publish: flagList(args, 'publish'),
      publishAll: flagBool(args, 'publish-all'),
      expose: flagList(args, 'expose'),
      dns: flagList(args, 'dns'),
      dnsSearch: flagList(args, 'dns-search'),
      dnsOptions: flagList(args, 'dns-option'),
      addHosts: flagList(args, 'add-host'),
      noHosts: flagBool(args, 'no-hosts'),
      ...(flagString(args, 'mac-address') !== undefined ? { macAddress: flagString(args, 'mac-address')! } : {}),
    },
    networkAliases: flagList(args, 'network-alias'),
    ...(flagString(args, 'ip') !== undefined ? { ip: flagString(args, 'ip') } : {}),
    init: flagBool(args, 'init'),
    interactive: flagBool(args, 'interactive'),
    tty: flagBool(args, 'tty'),
    name: flagString(args, 'name'),
    restart: flagString(args, 'restart') ?? 'no',
    labels: [...(flagList(args, 'label-file').length > 0 ? (await import('../../oci/spec/label-file.js')).readLabelFiles(flagList(args, 'label-file')) : []), ...flagList(args, 'label')],
    stopSignal: flagString(args, 'stop-signal'),
    autoRemove: flagBool(args, 'rm'),
    userns,
    security: {
      capAdd: flagList(args, 'cap-add'),
      capDrop: flagList(args, 'cap-drop'),
      privileged: flagBool(args, 'privileged'),
      securityOpts: flagList(args, 'security-opt'),
      devices: flagList(args, 'device'),
      deviceCgroupRules: flagList(args, 'device-cgroup-rule'),
      groupAdd: flagList(args, 'group-add'),
      sysctls: flagList(args, 'sysctl'),
      ipc: flagString(args, 'ipc') ?? '',
      pid: flagString(args, 'pid') ?? '',
      uts: flagString(args, 'uts') ?? '',
    },
    storage: {
      volumes: flagList(args, 'volume'),
      mounts: flagList(args, 'mount'),
      tmpfs: flagList(args, 'tmpfs'),
      volumesFrom: flagList(args, 'volumes-from'),
      readOnly: flagBool(args, 'read-only'),
      readOnlyTmpfs: args.flags['read-only-tmpfs'] !== false,
    },
    limits: resourceFlags(args),
    cgroups: flagString(args, 'cgroups') ?? 'enabled',
    health,
    unit: {
      sdNotify: flagString(args, 'sdnotify') ?? 'container',
      cidFile: flagString(args, 'cidfile'),
      replace: flagBool(args, 'replace'),
      pidFile: flagString(args, 'pidfile'),
      conmonPidFile: flagString(args, 'conmon-pidfile'),
    },
  };
}

/** -a/--attach: which of stdin, stdout and stderr a foreground run connects (Docker's names, any case). */
export function parseAttach(values: string[]): { stdin: boolean; stdout: boolean; stderr: boolean } | undefined {
  if (values.length === 0) return undefined;
  const streams = { stdin: false, stdout: false, stderr: false };
  for (const v of values) {
    const name = v.toLowerCase();
    if (name !== 'stdin' && name !== 'stdout' && name !== 'stderr') throw new SkiffError(`invalid --attach "${v}": use stdin, stdout or stderr`);
    streams[name] = true;
  }
  return streams;
}

export async function run(args: ParsedArgs): Promise<number> {
  const attach = parseAttach(flagList(args, 'attach'));
  if (attach && flagBool(args, 'detach')) throw new SkiffError('conflicting options: -a/--attach and -d/--detach');
  const preserveFds = preservedFds(flagString(args, 'preserve-fds'));
  const req = { ...(await containerRequest({ ...args, command: 'run' })), ...(attach ? { attach } : {}), ...(preserveFds ? { preserveFds } : {}) };
  if (flagBool(args, 'detach')) {
    const { createContainerFromRequest } = await import('../../containers/run.js');
    const { startContainer } = await import('../../containers/lifecycle.js');
    const record = await createContainerFromRequest(req);
    // createContainerFromRequest has just checked the published ports free.
    await startContainer(record, { portsChecked: true, ...(preserveFds ? { preserveFds } : {}) });
    process.stdout.write(`${record.Id}\n`);
    return 0;
  }
  if (req.restart !== 'no') throw new SkiffError('--restart applies to detached containers: add -d');
  const { runContainer } = await import('../../containers/run.js');
  return runContainer(req);
}
