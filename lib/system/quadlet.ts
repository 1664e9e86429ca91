// `skiff quadlet`: Podman Quadlet's .container files turned into systemd
// services that run skiff (docs/systemd.md). A pure translation: files in,
// unit texts out; the command file reads the directories and writes them.
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { formatUnitFile, parseUnitFile, quoteExecArg, splitWords, type UnitEntry, type UnitSection } from './unitfile.js';

/** How a [Container] key becomes run flags. */
type KeyRule =
  | { flag: string; kind: 'value' } // one flag per line, the value as it is
  | { flag: string; kind: 'words' } // one flag per word of each line (Environment=A=1 B=2)
  | { flag: string; kind: 'bool' } // the flag when true
  | { flag: string; kind: 'bool-value' } // --flag=true|false
  | { flag: string; kind: 'prefixed'; prefix: string; when?: 'true' } // --security-opt no-new-privileges
  | { kind: 'own' }; // handled by the translator itself

const KEYS: Record<string, KeyRule> = {
  Image: { kind: 'own' },
  Rootfs: { kind: 'own' },
  Exec: { kind: 'own' },
  ContainerName: { kind: 'own' },
  Notify: { kind: 'own' },
  User: { kind: 'own' },
  Group: { kind: 'own' },
  PodmanArgs: { kind: 'own' },
  GlobalArgs: { kind: 'own' },
  Entrypoint: { flag: 'entrypoint', kind: 'value' },
  Environment: { flag: 'env', kind: 'words' },
  EnvironmentFile: { flag: 'env-file', kind: 'value' },
  EnvironmentHost: { flag: 'env-host', kind: 'bool' },
  PublishPort: { flag: 'publish', kind: 'value' },
  ExposeHostPort: { flag: 'expose', kind: 'value' },
  Volume: { flag: 'volume', kind: 'value' },
  Mount: { flag: 'mount', kind: 'value' },
  Tmpfs: { flag: 'tmpfs', kind: 'value' },
  Network: { flag: 'network', kind: 'value' },
  WorkingDir: { flag: 'workdir', kind: 'value' },
  HostName: { flag: 'hostname', kind: 'value' },
  Label: { flag: 'label', kind: 'words' },
  Annotation: { flag: 'annotation', kind: 'words' },
  RunInit: { flag: 'init', kind: 'bool' },
  ReadOnly: { flag: 'read-only', kind: 'bool' },
  ReadOnlyTmpfs: { flag: 'read-only-tmpfs', kind: 'bool-value' },
  AddCapability: { flag: 'cap-add', kind: 'words' },
  DropCapability: { flag: 'cap-drop', kind: 'words' },
  NoNewPrivileges: { flag: 'security-opt', kind: 'prefixed', prefix: 'no-new-privileges', when: 'true' },
  SeccompProfile: { flag: 'security-opt', kind: 'prefixed', prefix: 'seccomp=' },
  SecurityLabelDisable: { flag: 'security-opt', kind: 'prefixed', prefix: 'label=disable', when: 'true' },
  Mask: { flag: 'security-opt', kind: 'prefixed', prefix: 'mask=' },
  Unmask: { flag: 'security-opt', kind: 'prefixed', prefix: 'unmask=' },
  Ulimit: { flag: 'ulimit', kind: 'value' },
  PidsLimit: { flag: 'pids-limit', kind: 'value' },
  Memory: { flag: 'memory', kind: 'value' },
  Sysctl: { flag: 'sysctl', kind: 'words' },
  AddDevice: { flag: 'device', kind: 'value' },
  GroupAdd: { flag: 'group-add', kind: 'value' },
  Timezone: { flag: 'tz', kind: 'value' },
  StopSignal: { flag: 'stop-signal', kind: 'value' },
  StopTimeout: { flag: 'stop-timeout', kind: 'value' },
  Pull: { flag: 'pull', kind: 'value' },
  ShmSize: { flag: 'shm-size', kind: 'value' },
  IP: { flag: 'ip', kind: 'value' },
  IP6: { flag: 'ip6', kind: 'value' },
  DNS: { flag: 'dns', kind: 'value' },
  DNSSearch: { flag: 'dns-search', kind: 'value' },
  DNSOption: { flag: 'dns-option', kind: 'value' },
  AddHost: { flag: 'add-host', kind: 'value' },
  LogDriver: { flag: 'log-driver', kind: 'value' },
  LogOpt: { flag: 'log-opt', kind: 'value' },
  UserNS: { flag: 'userns', kind: 'value' },
  UIDMap: { flag: 'uidmap', kind: 'value' },
  GIDMap: { flag: 'gidmap', kind: 'value' },
  CgroupsMode: { flag: 'cgroups', kind: 'value' },
  HealthCmd: { flag: 'health-cmd', kind: 'value' },
  HealthInterval: { flag: 'health-interval', kind: 'value' },
  HealthOnFailure: { flag: 'health-on-failure', kind: 'value' },
  HealthRetries: { flag: 'health-retries', kind: 'value' },
  HealthStartPeriod: { flag: 'health-start-period', kind: 'value' },
  HealthTimeout: { flag: 'health-timeout', kind: 'value' },
};

/** Podman Quadlet keys skiff cannot honour, with why: refused by name, never dropped. */
const REFUSED: Record<string, string> = {
  Pod: 'skiff has no pods',
  AutoUpdate: 'skiff has no auto-update',
  Secret: 'skiff run has no --secret',
  HealthStartupCmd: 'skiff has no startup healthchecks',
  HealthStartupInterval: 'skiff has no startup healthchecks',
  HealthStartupRetries: 'skiff has no startup healthchecks',
  HealthStartupSuccess: 'skiff has no startup healthchecks',
  HealthStartupTimeout: 'skiff has no startup healthchecks',
  HealthLogDestination: "skiff keeps a healthcheck's results in the container's state only",
  HealthMaxLogCount: 'skiff keeps the last five results, as Docker does',
  HealthMaxLogSize: "skiff keeps each result's first 4096 bytes, as Docker does",
  SecurityLabelFileType: 'skiff has no SELinux labels',
  SecurityLabelLevel: 'skiff has no SELinux labels',
  SecurityLabelNested: 'skiff has no SELinux labels',
  SecurityLabelType: 'skiff has no SELinux labels',
  ContainersConfModule: 'skiff reads no containers.conf modules',
  SubUIDMap: 'skiff has no named subuid maps',
  SubGIDMap: 'skiff has no named subgid maps',
  ReloadCmd: 'skiff quadlet does not write ExecReload',
  ReloadSignal: 'skiff quadlet does not write ExecReload',
  Retry: 'skiff pull has no --retry',
  RetryDelay: 'skiff pull has no --retry-delay',
  StartWithPod: 'skiff has no pods',
  ServiceName: 'skiff quadlet names each service after its file',
  DefaultDependencies: 'skiff quadlet writes no dependencies on other quadlet units',
};

export interface QuadletContext {
  /** The flags `skiff run` takes (long names): a key whose flag is missing is refused. */
  runFlags: ReadonlySet<string>;
  /** The command line that starts skiff in ExecStart=, e.g. [node, /opt/skiff/bin/skiff]. */
  skiff: string[];
}

export interface GeneratedUnit {
  /** NAME.service */
  name: string;
  text: string;
}

function boolOf(value: string, key: string, file: string): boolean {
  if (/^(1|yes|true|on)$/i.test(value)) return true;
  if (/^(0|no|false|off)$/i.test(value)) return false;
  throw new SkiffError(`${file}: ${key}=${value}: expected true or false`);
}

function last(entries: UnitEntry[], key: string): string | undefined {
  return entries.filter((e) => e.key === key).at(-1)?.value;
}

/** One .container file into its NAME.service. Errors name the file and the key. */
export function containerToService(file: string, text: string, ctx: QuadletContext): GeneratedUnit {
  const base = path.basename(file, '.container');
  const sections = parseUnitFile(text, file);
  const container = sections.find((s) => s.name === 'Container');
  if (!container) throw new SkiffError(`${file}: no [Container] section`);
  const entries = container.entries;

  const args: string[] = [];
  const flag = (name: string, value?: string) => {
    if (!ctx.runFlags.has(name)) throw new SkiffError(`${file}: key ${currentKey} is not supported: skiff run has no --${name}`);
    args.push(value === undefined ? `--${name}` : `--${name}=${value}`);
  };
  let currentKey = '';
  for (const { key, value } of entries) {
    currentKey = key;
    if (Object.hasOwn(REFUSED, key)) throw new SkiffError(`${file}: key ${key} is not supported: ${REFUSED[key]}`);
    const rule = Object.hasOwn(KEYS, key) ? KEYS[key]! : undefined;
    if (!rule) throw new SkiffError(`${file}: unsupported key '${key}' in group 'Container'`);
    switch (rule.kind) {
      case 'own':
        break;
      case 'value':
        if (value !== '') flag(rule.flag, value);
        break;
      case 'words':
        for (const word of splitWords(value, `${file}: ${key}`)) flag(rule.flag, word);
        break;
      case 'bool':
        if (boolOf(value, key, file)) flag(rule.flag);
        break;
      case 'bool-value':
        flag(rule.flag, String(boolOf(value, key, file)));
        break;
      case 'prefixed':
        if (rule.when === 'true') {
          if (boolOf(value, key, file)) flag(rule.flag, rule.prefix);
        } else if (value !== '') flag(rule.flag, `${rule.prefix}${value}`);
        break;
    }
  }

  const image = last(entries, 'Image');
  const rootfs = last(entries, 'Rootfs');
  if ((image === undefined) === (rootfs === undefined)) throw new SkiffError(`${file}: give exactly one of Image= and Rootfs=`);
  currentKey = 'User';
  const user = last(entries, 'User');
  const group = last(entries, 'Group');
  if (group !== undefined && user === undefined) throw new SkiffError(`${file}: Group= needs User=`);
  if (user !== undefined) flag('user', group !== undefined ? `${user}:${group}` : user);
  const notify = last(entries, 'Notify');
  if (notify === 'healthy') throw new SkiffError(`${file}: Notify=healthy is not supported: skiff sends no READY=1 at the first healthy check`);
  const notifyContainer = notify !== undefined && boolOf(notify, 'Notify', file);
  for (const e of entries.filter((x) => x.key === 'PodmanArgs')) args.push(...splitWords(e.value, `${file}: PodmanArgs`));
  const globalArgs = entries.filter((x) => x.key === 'GlobalArgs').flatMap((e) => splitWords(e.value, `${file}: GlobalArgs`));
  const exec = last(entries, 'Exec');
  const command = exec !== undefined ? splitWords(exec, `${file}: Exec`) : [];

  const name = last(entries, 'ContainerName') ?? 'systemd-%N';
  const skiff = ctx.skiff.map((a) => quoteExecArg(a)).join(' ');
  const quoted = (list: string[]) => list.map((a) => quoteExecArg(a, true));
  const global = globalArgs.length > 0 ? ` ${quoted(globalArgs).join(' ')}` : '';
  const runLine = [
    `${skiff}${global} run`,
    quoteExecArg(`--name=${name}`, true),
    '--cidfile=%t/%N.cid --replace --rm --cgroups=split',
    `--sdnotify=${notifyContainer ? 'container' : 'conmon'}`,
    '-d',
    ...quoted(args),
    ...(rootfs !== undefined ? [quoteExecArg(`--rootfs=${rootfs}`, true)] : [quoteExecArg(image!, true)]),
    ...quoted(command),
  ].join(' ');
  const rm = `${skiff}${global} rm -v -f -i -t 10 --cidfile=%t/%N.cid`;

  const kept = (s: string) => sections.find((x) => x.name === s)?.entries ?? [];
  const service: UnitSection = {
    name: 'Service',
    entries: [
      ...kept('Service'),
      { key: 'Environment', value: 'PODMAN_SYSTEMD_UNIT=%n' },
      { key: 'KillMode', value: 'mixed' },
      { key: 'ExecStop', value: rm },
      { key: 'ExecStopPost', value: `-${rm}` },
      { key: 'Delegate', value: 'yes' },
      { key: 'Type', value: 'notify' },
      { key: 'NotifyAccess', value: 'all' },
      { key: 'SyslogIdentifier', value: '%N' },
      { key: 'ExecStart', value: runLine },
    ],
  };
  const out: UnitSection[] = [
    { name: 'X-Container', entries },
    service,
    ...sections.filter((s) => !['Container', 'Service', 'Unit'].includes(s.name)),
    { name: 'Unit', entries: [...kept('Unit'), { key: 'SourcePath', value: file }, { key: 'RequiresMountsFor', value: '%t/skiff' }] },
  ];
  return { name: `${base}.service`, text: formatUnitFile([`Automatically generated by skiff quadlet`, `from ${file}`], out) };
}

/**
 * Where .container files are read from, first wins for a name (Podman's
 * order): QUADLET_UNIT_DIRS when set, else for -user
 * $XDG_CONFIG_HOME/containers/systemd, /etc/containers/systemd/users/UID and
 * /etc/containers/systemd/users; for the system /etc/containers/systemd and
 * /usr/share/containers/systemd.
 */
export function unitDirectories(user: boolean, env: NodeJS.ProcessEnv, uid: number, home: string): string[] {
  const fromEnv = env['QUADLET_UNIT_DIRS'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv.split(':').filter((d) => d !== '');
  if (user) {
    const config = env['XDG_CONFIG_HOME'] || path.join(home, '.config');
    return [path.join(config, 'containers/systemd'), `/etc/containers/systemd/users/${uid}`, '/etc/containers/systemd/users'];
  }
  return ['/etc/containers/systemd', '/usr/share/containers/systemd'];
}

/** Unit types Podman's quadlet reads that skiff's does not (yet): named, not silently skipped. */
export const OTHER_QUADLET_TYPES = ['.volume', '.network', '.kube', '.pod', '.image', '.build'];
