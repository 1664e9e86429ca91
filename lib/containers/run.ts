// `skiff run` in the foreground: flags -> RunOptions -> config.json -> helper.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { isatty } from 'node:tty';
import { debug } from '../log.js';
import { checkOciRuntimeRun, ociRuntime, runWithOciRuntime, type OciRuntime } from './oci-runtime.js';
import { SkiffError, errnoCode } from '../errors.js';
import { currentUser, rootlessMappings, usernsMappings } from '../host/subids.js';
import { layerShift, parseUsernsMode, usernsModeText, type UsernsMode } from '../oci/spec/userns.js';
import { runForeground, type RunResult } from '../namespaces/helper.js';
import { composeEnvironment } from '../oci/spec/env.js';
import { DEFAULT_PATH } from '../oci/spec/defaults.js';
import type { RunOptions } from '../oci/spec/options.js';
import { NO_NETWORK_FLAGS, resolveContainerNetwork, type NetworkFlags } from './network.js';
import { portBindingsConfig } from '../network/ports.js';
import { buildRuntimeConfig } from '../oci/spec/runtime.js';
import { newContainerId, shortId } from '../ids.js';
import { NameInUseError, helperRemovableTrees, containerDir, containerLogFile, containerLogMax, createContainer, logPath, pidFilePath, readPidFile, readRecord, removeContainerFiles, resolveContainer, writeExitFile, type ContainerRecord } from './store.js';
import type { OciIdMapping, OciRuntimeConfig } from '../oci/runtime-spec.js';
import { parseCgroupManager, parseCgroupsMode } from '../cgroups/container.js';
import { emptyResources, type ResourceFlags } from '../oci/spec/resources.js';
import { cgroupStart, deviceCgroupFor, planCgroup, resolveResources, withResources } from './resources.js';
import { NAME_PATTERN, randomName } from './names.js';
import { containerState } from './state.js';
import { parseSignal } from './signals.js';
import type { RunImage } from './image.js';
import { byCodeUnit } from '../compare.js';
import { removeVolumes, resolveStorage, type ResolvedStorage, type StorageFlags } from './mounts.js';
import { removeAnonymousVolumes } from './volume-users.js';
import { resolveNamespaces, resolveSecurity, type SecurityRequest } from './security.js';
import { devicesMadeByMknod, parseDevice, sysctlKey } from '../oci/spec/devices.js';
import { containerEvent, foregroundStartedEvents } from './events.js';
import { parseLogConfig } from './log-driver.js';
import { checkUnitFlags, replaceNamed, unitStart, withNotifySocket, writeCidFile, type UnitFlags } from './unit.js';
import { claimNetworks, leaveNetworks, networkStart, refreshHosts } from './networks.js';
import { claimStorageDriver } from '../store/driver.js';
import { tmpPath } from '../store/atomic.js';
import { storePaths } from '../store/paths.js';
import { currentStoreLocations } from '../locations.js';
import { parseOnFailure, resolveHealthcheck, type HealthFlags } from './health-config.js';
import { healthTimer } from './health-state.js';

export interface RunRequest {
  /** --rootfs DIR, or else… */
  rootfs?: string;
  /** …an image from the store (already resolved, see image.ts). */
  image?: RunImage;
  command: string[];
  entrypoint?: string;
  env: string[];
  envFiles: string[];
  /** --env-host, --http-proxy (default on), --env-merge, --unsetenv, --unsetenv-all (Podman's). */
  envHost?: boolean;
  httpProxy?: boolean;
  envMerge?: string[];
  unsetEnv?: string[];
  unsetEnvAll?: boolean;
  /** --tz: a zone under /usr/share/zoneinfo, or local (the host's). */
  tz?: string;
  /** --hostuser: host users (names or UIDs) whose /etc/passwd entries the container gets. */
  hostUsers?: string[];
  /** --passwd (default true): an /etc/passwd (and /etc/group) entry for a numeric -u the image lacks; --passwd-entry shapes it. */
  passwd?: boolean;
  passwdEntry?: string;
  /** --chrootdirs: absolute, normalised directories in the container (not "/"). */
  chrootDirs?: string[];
  /** --cgroupns, --personality, --timeout as given ("" or absent: the default). */
  cgroupns?: string;
  personality?: string;
  timeout?: string;
  workdir?: string;
  user?: string;
  hostname?: string;
  /** --network and the flags that go with it (-p, -P, --dns, --add-host…). */
  network: string;
  networkFlags?: Omit<NetworkFlags, 'network'>;
  init: boolean;
  interactive: boolean;
  tty: boolean;
  /** --cap-add, --cap-drop, --privileged, --security-opt (absent: none given). */
  security?: SecurityRequest;
  /** --userns as given ("" or absent: the default). */
  userns?: string;
}

const NO_SECURITY_FLAGS: SecurityRequest = { capAdd: [], capDrop: [], privileged: false, securityOpts: [], devices: [], deviceCgroupRules: [], groupAdd: [], sysctls: [], ipc: '', pid: '', uts: '' };

function checkRootfs(rootfs: string): string {
  const abs = path.resolve(rootfs);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new SkiffError(`root filesystem ${rootfs} does not exist`);
  }
  if (!st.isDirectory()) throw new SkiffError(`root filesystem ${rootfs} is not a directory`);
  return abs;
}

/**
 * --entrypoint's words. Podman's rule: a JSON array of strings
 * (`--entrypoint '["/bin/sh","-c"]'`) is the entrypoint; anything else is
 * one word, the program, as Docker takes it ('' clears it).
 */
export function entrypointWords(value: string): string[] {
  if (value === '') return [];
  if (value.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (Array.isArray(parsed) && parsed.every((w) => typeof w === 'string')) return parsed as string[];
    } catch {
      // not JSON: the program's name, as given
    }
  }
  return [value];
}

/**
 * Docker's rule: --entrypoint replaces the image's Entrypoint and drops its
 * Cmd; arguments after the image replace its Cmd.
 */
function containerArgs(req: RunRequest): string[] {
  const image = req.image?.config.config;
  const entrypoint = req.entrypoint !== undefined ? entrypointWords(req.entrypoint) : (image?.Entrypoint ?? []);
  const cmd = req.command.length > 0 || req.entrypoint !== undefined ? req.command : (image?.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new SkiffError(req.image ? `no command specified: the image ${req.image.name} has none, give one after it` : 'no command given: skiff run --rootfs DIR COMMAND [ARG...]');
  return args;
}

/**
 * --userns: rootless, the map it names; as root the container's IDs are the
 * host's (no user namespace), which `host` asks for and keep-id cannot improve.
 */
function userNamespace(mode: UsernsMode, rootless: boolean): RunOptions['idMappings'] {
  if (rootless) return usernsMappings(mode);
  if (mode.kind === 'keep-id') throw new SkiffError("--userns keep-id is for rootless use: as root the container's IDs are the host's already (use -u UID:GID to run as your user)");
  return null;
}

/** --cgroupns: private (the default, as Podman's on cgroup v2) or host; joining another is not offered. */
function parseCgroupns(text: string): boolean {
  if (text === '' || text === 'private') return false;
  if (text === 'host') return true;
  if (text.startsWith('container:') || text.startsWith('ns:')) throw new SkiffError(`--cgroupns ${text}: joining another cgroup namespace is not supported; use private or host`);
  throw new SkiffError(`invalid --cgroupns "${text}": use private or host`);
}

/** --personality: the two domains Docker's seccomp profile lets a container choose. */
function parsePersonality(text: string): 'LINUX' | 'LINUX32' | undefined {
  if (text === '') return undefined;
  const upper = text.toUpperCase();
  if (upper === 'LINUX' || upper === 'LINUX32') return upper;
  throw new SkiffError(`invalid --personality "${text}": use LINUX or LINUX32 (the execution domains the container's seccomp filter allows)`);
}

/** --timeout: whole seconds, 0 for none (Podman's). */
function parseTimeout(text: string): number {
  if (text === '') return 0;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new SkiffError(`invalid --timeout "${text}": give whole seconds (0: no limit)`);
  return Number(text);
}

/** keep-id runs as the kept ID unless -u says otherwise, as in Podman. */
function keepIdUser(mode: UsernsMode): string | undefined {
  if (mode.kind !== 'keep-id') return undefined;
  return `${mode.uid ?? process.getuid?.() ?? 0}:${mode.gid ?? process.getgid?.() ?? 0}`;
}

export function resolveRunOptions(req: RunRequest): RunOptions {
  const userns = parseUsernsMode(req.userns ?? '');
  const id = newContainerId();
  const imageConfig = req.image?.config.config;
  const workdir = req.workdir ?? (imageConfig?.WorkingDir || '/');
  if (!workdir.startsWith('/')) throw new SkiffError(`the working directory "${workdir}" is invalid: it needs to be an absolute path`);
  if (req.tty && req.interactive && !isatty(0)) throw new SkiffError('the input device is not a TTY: drop -t, or run from a terminal');
  // --uts host: the host's name, which the container cannot change anyway.
  const utsHost = req.security?.uts === 'host';
  if (utsHost && req.hostname !== undefined) throw new SkiffError('conflicting options: --hostname and --uts host');
  const hostname = utsHost ? osHostname() : (req.hostname ?? shortId(id));
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(hostname)) throw new SkiffError(`invalid hostname "${hostname}"`);
  const rootless = (process.geteuid?.() ?? 0) !== 0;
  const environment = composeEnvironment(
    {
      image: imageConfig?.Env ?? [],
      env: req.env,
      envFiles: req.envFiles,
      envHost: req.envHost ?? false,
      httpProxy: req.httpProxy ?? true,
      envMerge: req.envMerge ?? [],
      unsetEnv: req.unsetEnv ?? [],
      unsetEnvAll: req.unsetEnvAll ?? false,
    },
    process.env,
    DEFAULT_PATH,
  );
  const unsetDefaults = ['PATH', 'HOSTNAME', 'TERM'].filter((n) => !environment.keepDefault(n));
  return {
    id,
    rootfs: req.image ? path.join(containerDir(id), 'merged') : checkRootfs(req.rootfs ?? ''),
    args: containerArgs(req),
    env: environment.env,
    ...(unsetDefaults.length > 0 ? { unsetDefaults } : {}),
    workdir,
    user: req.user ?? keepIdUser(userns) ?? imageConfig?.User ?? '',
    hostname,
    // Decided with the ports in prepareContainer (lib/containers/network.ts).
    network: 'none',
    init: req.init,
    tty: req.tty,
    interactive: req.interactive,
    idMappings: userNamespace(userns, rootless),
    ...(parseCgroupns(req.cgroupns ?? '') ? { cgroupnsHost: true } : {}),
    ...(parsePersonality(req.personality ?? '') ? { personality: parsePersonality(req.personality ?? '')! } : {}),
    ...(parseTimeout(req.timeout ?? '') > 0 ? { timeout: parseTimeout(req.timeout ?? '') } : {}),
  };
}

function warnSingleMapping(options: RunOptions, userns: UsernsMode): void {
  if (options.idMappings?.single && userns.kind !== 'host') {
    process.stderr.write(
      'skiff: warning: your user has no range in /etc/subuid or /etc/subgid: only root exists in the container, images that need other users may fail (see \'skiff doctor\')\n',
    );
  }
}

export interface ContainerRequest extends RunRequest {
  /** run --preserve-fds N: the caller's fds 3..3+N-1 reach the container as the same numbers (validated by the CLI). */
  preserveFds?: number;
  name?: string;
  restart: string;
  autoRemove: boolean;
  /** --label KEY=VALUE (KEY alone: an empty value). */
  labels: string[];
  stopSignal?: string;
  /** -v, --mount, --tmpfs, --volumes-from, --read-only (issue 11). */
  storage?: StorageFlags;
  /** --memory, --cpus, --pids-limit, --ulimit… as typed. */
  limits?: ResourceFlags;
  /** --cgroups: enabled (default), disabled, no-conmon, split. */
  cgroups?: string;
  /** --sdnotify, --cidfile, --replace, --pidfile, --conmon-pidfile (unit.ts). */
  unit?: UnitFlags;
  /** run -a/--attach: the streams a foreground run connects (absent: all). */
  attach?: { stdin: boolean; stdout: boolean; stderr: boolean };
  /** --log-driver, --log-opt, and how the container will run (passthrough needs a foreground run). */
  log?: { driver: string; opts: string[]; detach: boolean; create: boolean };
  /** --network-alias and --ip, on user-defined networks (networks.ts). */
  networkAliases?: string[];
  ip?: string;
  /** --health-cmd, --health-interval…, --no-healthcheck, --health-on-failure (health-config.ts). */
  health?: HealthFlags;
}

/** --cgroup-manager (a global flag, as Podman's; it reaches here as SKIFF_CGROUP_MANAGER). */
function cgroupManagerChoice(): 'systemd' | 'cgroupfs' | undefined {
  const text = process.env['SKIFF_CGROUP_MANAGER'];
  return text ? parseCgroupManager(text) : undefined;
}

/** The image's labels, then --label's, as Docker merges them. */
function containerLabels(image: Record<string, string> | undefined, flags: string[]): Record<string, string> {
  const labels: Record<string, string> = { ...image };
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const key = eq < 0 ? flag : flag.slice(0, eq);
    if (key === '') throw new SkiffError(`invalid label "${flag}": the key is empty`);
    labels[key] = eq < 0 ? '' : flag.slice(eq + 1);
  }
  // Sorted, as Go prints a map (inspect's {{json .Config.Labels}}).
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => byCodeUnit(a, b)));
}

/** --restart: no | always | on-failure[:N], as Docker spells it. */
export function parseRestartPolicy(text: string): { Name: string; MaximumRetryCount: number } {
  const m = /^(no|always|on-failure)(?::(\d+))?$/.exec(text);
  if (!m || (m[2] !== undefined && m[1] !== 'on-failure')) {
    throw new SkiffError(`invalid restart policy "${text}": use no, always or on-failure[:N]`);
  }
  return { Name: m[1]!, MaximumRetryCount: m[2] === undefined ? 0 : Number(m[2]) };
}

// --- Storage (issue 11)

/** --rm: the container and its anonymous volumes, as Docker removes them; `treesRemoved`: its helper removed its trees already. */
async function removeWithVolumes(record: ContainerRecord, treesRemoved = false): Promise<void> {
  await removeContainerFiles(record, treesRemoved);
  await leaveNetworks(record);
  await removeAnonymousVolumes(record);
}

function resolveContainerStorage(req: ContainerRequest, options: RunOptions): ResolvedStorage {
  const flags = req.storage ?? { volumes: [], mounts: [], tmpfs: [], volumesFrom: [], readOnly: false, readOnlyTmpfs: true };
  return resolveStorage(flags, {
    imageVolumes: Object.keys(req.image?.config.config?.Volumes ?? {}),
    rootless: options.idMappings !== null,
    userns: options.idMappings !== null,
    subIds: options.idMappings !== null && !options.idMappings.single,
    cwd: process.cwd(),
    mountsOf: (ref) => resolveContainer(ref).Mounts ?? [],
  });
}

/** The storage flags as Docker's inspect shows them (HostConfig). */
function storageHostConfig(flags: StorageFlags | undefined): Partial<ContainerRecord['HostConfig']> {
  if (!flags) return {};
  const tmpfs = Object.fromEntries(flags.tmpfs.map((t) => [t.split(':')[0]!, t.includes(':') ? t.slice(t.indexOf(':') + 1) : '']));
  return {
    ...(flags.volumes.length ? { Binds: flags.volumes } : {}),
    ...(flags.tmpfs.length ? { Tmpfs: tmpfs } : {}),
    ...(flags.readOnly ? { ReadonlyRootfs: true } : {}),
    ...(flags.volumesFrom.length ? { VolumesFrom: flags.volumesFrom } : {}),
  };
}

/** create (and run -d): the container's record and config.json, stored; not started. */
export async function createContainerFromRequest(req: ContainerRequest): Promise<ContainerRecord> {
  return (await prepareContainer(req)).record;
}

/**
 * A --rm container that has exited but is still stored was left by a skiff
 * that died before it could remove it (SIGKILL, a closed terminal): it is
 * what --rm promised to delete, so it gives its name up. Resolves to true
 * when it was removed.
 */
async function reclaimLeftoverName(ownerId: string | undefined): Promise<boolean> {
  const owner = ownerId ? readRecord(ownerId) : undefined;
  if (!owner?.HostConfig.AutoRemove || containerState(owner).Status !== 'exited') return false;
  await removeWithVolumes(owner);
  return true;
}

/**
 * The image's layers as overlay lower dirs. With --userns keep-id the store's
 * copies of them with the owners moved (store/mapped-layers.ts), so the
 * container sees the image's root files as root's; loaded only then.
 */
async function lowerdirsFor(image: RunImage, userns: UsernsMode, options: RunOptions): Promise<string[]> {
  if (userns.kind !== 'keep-id' || !options.idMappings) return image.lowerdirs;
  const store = rootlessMappings();
  const shift = { uids: layerShift(store.uidMappings, options.idMappings.uidMappings), gids: layerShift(store.gidMappings, options.idMappings.gidMappings) };
  const { openStore, layersForShift } = await import('../store/index.js');
  return layersForShift(openStore().paths, [...image.layers].reverse(), shift, store);
}

/**
 * keep-id running as the kept ID (no -u): an /etc/passwd and /etc/group with
 * an entry for it when the image has none, bound over the image's as Podman
 * does, so `whoami`, `id` and HOME work. Your name, and your HOME's path.
 */
type AccountFile = { name: string; content: string; destination: string };

async function keepIdAccounts(image: RunImage, userns: UsernsMode, req: RunRequest): Promise<AccountFile[]> {
  if (userns.kind !== 'keep-id' || req.user !== undefined) return [];
  const { openStore, readImageFile } = await import('../store/index.js');
  const paths = openStore().paths;
  const user = currentUser();
  const uid = userns.uid ?? user.uid;
  const gid = userns.gid ?? user.gid;
  const name = user.name || `user${uid}`;
  const out: { name: string; content: string; destination: string }[] = [];
  const add = (file: 'passwd' | 'group', idField: number, line: string) => {
    const found = readImageFile(paths, image.layers, `etc/${file}`);
    // A link (or FIFO, device) the image put there is not followed: that image keeps its own file.
    if (found.kind === 'symlink' || found.kind === 'special') return;
    const text = found.kind === 'file' ? found.text : '';
    const rows = text.split('\n').map((l) => l.split(':'));
    if (rows.some((f) => f[idField] === String(file === 'passwd' ? uid : gid) || f[0] === name)) return;
    out.push({ name: file, content: `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`, destination: `/etc/${file}` });
  };
  const home = process.env['HOME']?.startsWith('/') ? process.env['HOME'] : '/';
  add('passwd', 2, `${name}:*:${uid}:${gid}:${name}:${home}:/bin/sh`);
  add('group', 2, `${name}:x:${gid}:`);
  return out;
}

/** A file of the image's /etc, or of the account files made already (keep-id's); a link the image put there: undefined. */
async function accountsText(image: RunImage, files: AccountFile[], file: 'passwd' | 'group'): Promise<string | undefined> {
  const own = files.find((f) => f.destination === `/etc/${file}`);
  if (own) return own.content;
  const { openStore, readImageFile } = await import('../store/index.js');
  const found = readImageFile(openStore().paths, image.layers, `etc/${file}`);
  if (found.kind === 'symlink' || found.kind === 'special') return undefined;
  return found.kind === 'file' ? found.text : '';
}

/** Adds line to the account file (keep-id's, or a new copy of the image's). */
function addAccountLine(files: AccountFile[], file: 'passwd' | 'group', text: string, line: string): void {
  const content = `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;
  const own = files.find((f) => f.destination === `/etc/${file}`);
  if (own) own.content = content;
  else files.push({ name: file, content, destination: `/etc/${file}` });
}

/**
 * --passwd (Podman's, on by default): a process user given as a number the
 * image's /etc/passwd lacks gets an entry there, as Podman writes it
 * ("UID:*:UID:GID:container user:WORKDIR:/bin/sh"), or --passwd-entry with
 * $USERNAME, $UID, $GID, $NAME and $HOME replaced; a numeric group the
 * image's /etc/group lacks gets "GID:x:GID:UID". A name must be the image's
 * own, so nothing is added for one.
 */
async function unknownUserAccounts(image: RunImage, files: AccountFile[], user: string, workdir: string, template: string | undefined): Promise<void> {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) return;
  const uid = m[1]!;
  const gid = m[2] ?? '0';
  const passwd = await accountsText(image, files, 'passwd');
  if (passwd !== undefined && !passwd.split('\n').some((l) => l.split(':')[2] === uid)) {
    const values: Record<string, string> = { USERNAME: uid, UID: uid, GID: gid, NAME: 'container user', HOME: workdir };
    const line = template === undefined ? `${uid}:*:${uid}:${gid}:container user:${workdir}:/bin/sh` : template.replace(/\$(USERNAME|UID|GID|NAME|HOME)\b/g, (_, k: string) => values[k]!);
    addAccountLine(files, 'passwd', passwd, line);
  }
  if (m[2] === undefined) return;
  const group = await accountsText(image, files, 'group');
  if (group !== undefined && !group.split('\n').some((l) => l.split(':')[2] === gid)) addAccountLine(files, 'group', group, `${gid}:x:${gid}:${uid}`);
}

/**
 * --hostuser NAME|UID (Podman's): each user's entry of the host's
 * /etc/passwd, as it is there, for the container's /etc/passwd. An unknown
 * user is refused before anything is made.
 */
function hostUserLines(users: string[]): string[] {
  if (users.length === 0) return [];
  let text: string;
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch (err) {
    throw new SkiffError(`--hostuser: cannot read this host's /etc/passwd: ${errnoCode(err) ?? String(err)}`);
  }
  const rows = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
  return users.map((u) => {
    const row = rows.find((f) => f.length >= 7 && (f[0] === u || (/^\d+$/.test(u) && f[2] === u)));
    if (!row) throw new SkiffError(`--hostuser ${u}: no such user in this host's /etc/passwd`);
    return row.join(':');
  });
}

/**
 * The container's /etc/passwd with the --hostuser entries its image lacks
 * (by name), over keep-id's when that wrote one: a file bound over the
 * image's, as keep-id's is. An image whose /etc/passwd is a link keeps it.
 */
async function withHostUsers(image: RunImage, files: { name: string; content: string; destination: string }[], lines: string[]): Promise<{ name: string; content: string; destination: string } | undefined> {
  if (lines.length === 0) return undefined;
  const own = files.find((f) => f.destination === '/etc/passwd');
  let text = own?.content;
  if (text === undefined) {
    const { openStore, readImageFile } = await import('../store/index.js');
    const found = readImageFile(openStore().paths, image.layers, 'etc/passwd');
    if (found.kind === 'symlink') throw new SkiffError(`--hostuser: the image's /etc/passwd is a symbolic link (${found.path}), which skiff does not follow; add the user to the image`);
    if (found.kind === 'special') throw new SkiffError(`--hostuser: the image's /etc/passwd is not a regular file; add the user to the image`);
    text = found.kind === 'file' ? found.text : '';
  }
  const names = new Set(text.split('\n').map((l) => l.split(':')[0]));
  const added = lines.filter((l) => !names.has(l.split(':')[0]));
  const content = `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${added.map((l) => `${l}\n`).join('')}`;
  if (own) {
    own.content = content;
    return undefined;
  }
  return { name: 'passwd', content, destination: '/etc/passwd' };
}

/** --userns keep-id and host make a user namespace; one joined from another container cannot be either. */
function checkUsernsJoin(userns: UsernsMode, flags: SecurityRequest, joinPid: number | undefined): void {
  if (userns.kind === 'default' || joinPid === undefined) return;
  const flag = ['ipc', 'pid'].find((f) => flags[f as 'ipc' | 'pid'].startsWith('container:')) ?? 'pid';
  const value = flags[flag as 'ipc' | 'pid'];
  throw new SkiffError(`conflicting options: --userns ${usernsModeText(userns)} and --${flag} ${value}: the container joins the user namespace of ${value.slice('container:'.length)}`);
}

async function prepareContainer(req: ContainerRequest): Promise<{ record: ContainerRecord; config: OciRuntimeConfig; options: RunOptions }> {
  try {
    const made = await makeContainer(req);
    try {
      // The container exists: an rmi from now on sees it. One that ran since the image was found may have taken it.
      await req.image?.hold.confirm();
    } catch (err) {
      await removeWithVolumes(made.record);
      throw err;
    }
    return made;
  } finally {
    req.image?.hold.release();
  }
}

async function makeContainer(req: ContainerRequest): Promise<{ record: ContainerRecord; config: OciRuntimeConfig; options: RunOptions }> {
  const options = resolveRunOptions(req);
  const logConfig = parseLogConfig(req.log?.driver ?? '', req.log?.opts ?? [], { detach: req.log?.detach ?? false, create: req.log?.create ?? false, tty: req.tty, cwd: process.cwd() });
  const userns = parseUsernsMode(req.userns ?? '');
  const files: { name: string; content: string }[] = [];
  const dirs: { name: string; mode: number }[] = [];
  const securityFlags = req.security ?? NO_SECURITY_FLAGS;
  const namespaces = resolveNamespaces(securityFlags, options.idMappings !== null);
  const net = await resolveContainerNetwork(
    { ...NO_NETWORK_FLAGS, ...req.networkFlags, network: req.network },
    {
      id: options.id,
      ...(req.name !== undefined ? { name: req.name } : {}),
      hostname: options.hostname,
      rootless: options.idMappings !== null,
      ...(req.image?.config.config?.ExposedPorts ? { imageExposed: req.image.config.config.ExposedPorts } : {}),
      imageFiles: req.image !== undefined,
      utsHost: securityFlags.uts === 'host',
      joinsUserNamespace: namespaces.userJoinPid !== undefined,
      setsFwmarkAccept: securityFlags.sysctls.some((e) => sysctlKey(e) === 'net.ipv4.tcp_fwmark_accept'),
    },
  );
  for (const w of net.warnings) process.stderr.write(`skiff: warning: ${w}\n`);
  options.network = net.mode;
  options.networkLabel = net.label;
  if (net.program) options.networkProgram = net.program;
  if (net.join !== undefined) options.networkJoin = net.join;
  if (net.userJoinPid !== undefined && namespaces.userJoinPid !== undefined && net.userJoinPid !== namespaces.userJoinPid) {
    throw new SkiffError('a rootless container can join the namespaces of one other container only: --network container: and --ipc/--pid container: name different ones');
  }
  if (req.image) {
    const dir = containerDir(options.id);
    if (claimStorageDriver(currentStoreLocations().graphRoot) === 'vfs') {
      // A plain copy of the image, made below (flattenForVfs), bound as the container's root as --rootfs is.
      options.rootfs = path.join(dir, 'rootfs');
      options.overlay = { driver: 'vfs', lowerdirs: req.image.lowerdirs, upperdir: options.rootfs, workdir: '' };
      debug(() => `storage: vfs, a copy of ${req.image!.lowerdirs.length} layers in ${options.rootfs}, bound as the container's root`);
    } else {
      options.overlay = { lowerdirs: req.image.lowerdirs, upperdir: path.join(dir, 'upper'), workdir: path.join(dir, 'work') };
      // The upper dir's mode is what the container's "/" shows: the image's.
      dirs.push({ name: 'upper', mode: req.image.rootMode }, { name: 'work', mode: 0o755 }, { name: 'merged', mode: 0o755 });
      debug(() => `storage: overlay of ${req.image!.lowerdirs.length} layers (uppermost ${req.image!.lowerdirs[0] ?? 'none'}), upperdir ${options.overlay!.upperdir}, mounted by the helper in the container's mount namespace`);
    }
  }
  // An image's always; a --rootfs directory's when asked for (network.ts), bound over its own or made where it has none, as Podman does.
  if (net.files.length > 0) {
    options.binds = net.files.map((f) => {
      files.push(f);
      return { source: path.join(containerDir(options.id), f.name), destination: f.destination, readonly: false };
    });
  }
  if (req.tz !== undefined) {
    const { timezoneFile } = await import('./timezone.js');
    (options.binds ??= []).push({ source: timezoneFile(req.tz), destination: '/etc/localtime', readonly: true });
  }
  warnSingleMapping(options, userns);
  checkUsernsJoin(userns, securityFlags, namespaces.userJoinPid);
  const security = await resolveSecurity(securityFlags, { network: options.network, rootless: options.idMappings !== null, namespaces });
  Object.assign(options, {
    privileged: securityFlags.privileged,
    capabilities: security.capabilities,
    noNewPrivileges: security.noNewPrivileges,
    seccomp: security.seccomp,
    seccompProfile: security.seccompProfile,
    maskedPaths: security.maskedPaths,
    readonlyPaths: security.readonlyPaths,
    devices: security.devices,
    devMknod: security.devMknod,
    sysctls: security.sysctls,
    groupAdd: security.groupAdd,
    ipc: namespaces.ipc,
    ipcNoShm: namespaces.ipcNoShm,
    pid: namespaces.pid,
    uts: namespaces.uts,
    userJoinPid: namespaces.userJoinPid ?? net.userJoinPid,
  });
  const unit = checkUnitFlags(req.unit, req.name);
  const userNetworks = net.userNetworks;
  if (!userNetworks && ((req.networkAliases ?? []).length > 0 || req.ip !== undefined)) {
    throw new SkiffError(`${req.ip !== undefined ? '--ip' : '--network-alias'} needs a user-defined network (--network NAME)`);
  }
  if (userNetworks && options.idMappings !== null && namespaces.userJoinPid !== undefined) {
    throw new SkiffError('a rootless container on a user-defined network cannot join another container\'s IPC or PID namespace: it joins the network\'s user namespace');
  }
  if (userNetworks && options.idMappings !== null && userns.kind !== 'default') {
    throw new SkiffError(`--userns ${usernsModeText(userns)} on a user-defined network is not supported rootless: its containers share the network's user namespace and its mapping`);
  }
  const restart = parseRestartPolicy(req.restart);
  if (req.autoRemove && restart.Name !== 'no') throw new SkiffError('conflicting options: --restart and --rm');
  const name = req.name ?? randomName();
  if (!NAME_PATTERN.test(name)) throw new SkiffError(`invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const imageConfig = req.image?.config.config;
  const stopSignal = req.stopSignal ?? imageConfig?.StopSignal ?? 'SIGTERM';
  parseSignal(stopSignal); // a bad one fails now, not at the first stop
  const health = resolveHealthcheck(imageConfig?.Healthcheck, req.health ?? { noHealthcheck: false });
  const onFailure = parseOnFailure(req.health?.onFailure);
  const { host: resources, oci } = resolveResources(emptyResources(), req.limits ?? {});
  const cgroupsMode = parseCgroupsMode(req.cgroups ?? 'enabled');
  const plan = planCgroup(options.id, oci, { mode: cgroupsMode, manager: cgroupManagerChoice() });
  const deviceCgroup = deviceCgroupFor(
    { privileged: securityFlags.privileged, devices: security.devices, rules: securityFlags.deviceCgroupRules, rootless: options.idMappings !== null },
    plan,
  );
  if (deviceCgroup.rules) {
    oci.devices = deviceCgroup.rules;
    // The cgroup decides what opens: nodes are made by mknod, as Docker does as root.
    options.devices = devicesMadeByMknod(options.devices ?? []);
  }
  for (const w of deviceCgroup.warnings) process.stderr.write(`skiff: warning: ${w}\n`);
  if (req.hostUsers && req.hostUsers.length > 0 && !req.image) {
    throw new SkiffError("--hostuser and --rootfs cannot be combined: skiff does not rewrite a root filesystem's /etc/passwd; add the user to it");
  }
  if (req.passwdEntry !== undefined && !req.image) {
    throw new SkiffError("--passwd-entry and --rootfs cannot be combined: skiff does not rewrite a root filesystem's /etc/passwd; add the user to it");
  }
  if (req.passwdEntry !== undefined && req.passwd === false) throw new SkiffError('conflicting options: --passwd-entry and --passwd=false');
  if (req.passwdEntry !== undefined && /[\n\0]/.test(req.passwdEntry)) throw new SkiffError('invalid --passwd-entry: one line of /etc/passwd, without a newline');
  const hostUsers = hostUserLines(req.hostUsers ?? []);
  // Last of the checks: it makes -v's missing directories and the volumes.
  const storage = resolveContainerStorage(req, options);
  if (req.image && options.overlay) {
    try {
      options.overlay.lowerdirs = await lowerdirsFor(req.image, userns, options);
      const accounts = await keepIdAccounts(req.image, userns, req);
      const passwd = await withHostUsers(req.image, accounts, hostUsers);
      if (passwd) accounts.push(passwd);
      // After --hostuser's: an entry of the host that has the UID is the one it gets.
      if (req.passwd !== false) await unknownUserAccounts(req.image, accounts, options.user, options.workdir, req.passwdEntry);
      for (const f of accounts) {
        files.push(f);
        options.binds?.push({ source: path.join(containerDir(options.id), f.name), destination: f.destination, readonly: false });
      }
    } catch (err) {
      await removeVolumes(storage.created);
      throw err;
    }
  }
  // --chrootdirs (Podman's): each file skiff binds into the root is bound below each chroot directory too.
  const managed = options.binds ?? [];
  for (const dir of req.chrootDirs ?? []) options.binds = [...(options.binds ?? []), ...managed.map((b) => ({ ...b, destination: `${dir}${b.destination}` }))];
  options.storage = storage.storage;
  const config = withResources(buildRuntimeConfig(options), resources, oci);
  withNotifySocket(config, options.id, unit.mode);
  if (plan.cgroup && plan.cgroup.manager === 'cgroupfs' && plan.cgroup.dir !== '') config.linux.cgroupsPath = plan.cgroup.dir;
  const record: ContainerRecord = {
    Id: options.id,
    Name: name,
    Created: new Date().toISOString(),
    Image: req.image?.name ?? '',
    ...(req.image ? { ImageID: req.image.id, Layers: req.image.layers, ImageSize: req.image.size } : {}),
    Rootfs: req.image ? '' : options.rootfs,
    Path: options.args[0]!,
    Args: options.args.slice(1),
    Config: {
      Hostname: options.hostname,
      User: options.user,
      Env: config.process.env,
      Cmd: req.command,
      Entrypoint: req.entrypoint !== undefined && entrypointWords(req.entrypoint).length > 0 ? entrypointWords(req.entrypoint) : null,
      WorkingDir: options.workdir,
      Tty: options.tty,
      OpenStdin: options.interactive,
      StopSignal: stopSignal,
      Labels: containerLabels(imageConfig?.Labels, req.labels),
      // Recorded from the image, as Docker does (its VOLUMEs are the container's anonymous volumes, see Mounts).
      ...(Object.keys(net.exposed).length > 0 ? { ExposedPorts: net.exposed } : {}),
      ...(imageConfig?.Volumes ? { Volumes: imageConfig.Volumes } : {}),
      SdNotifyMode: unit.mode,
      ...(req.tz !== undefined ? { Timezone: req.tz } : {}),
      Timeout: options.timeout ?? 0,
      CreateCommand: ['skiff', ...process.argv.slice(2)],
      ...(health ? { Healthcheck: health, HealthcheckOnFailureAction: onFailure } : {}),
    },
    ...(unit.pidFile !== undefined ? { PidFile: unit.pidFile } : {}),
    ...(unit.conmonPidFile !== undefined ? { ConmonPidFile: unit.conmonPidFile } : {}),
    ...(plan.cgroup ? { Cgroup: plan.cgroup } : {}),
    ...(storage.mountPoints.length > 0 ? { Mounts: storage.mountPoints } : {}),
    Network: {
      Ports: net.bindings,
      // On user networks its addresses are theirs (Networks); pasta's there is only the way out.
      ...(net.privateNetwork && !net.userNetworks ? { IPAddress: net.privateNetwork.ip, IPPrefixLen: net.privateNetwork.prefixLength, Gateway: net.privateNetwork.gateway } : {}),
      ...(req.networkFlags?.macAddress !== undefined ? { MacAddress: req.networkFlags.macAddress } : {}),
    },
    HostConfig: {
      AutoRemove: req.autoRemove,
      NetworkMode: net.label,
      PortBindings: portBindingsConfig(net.requests),
      PublishAllPorts: req.networkFlags?.publishAll ?? false,
      Dns: req.networkFlags?.dns ?? [],
      DnsSearch: req.networkFlags?.dnsSearch ?? [],
      DnsOptions: req.networkFlags?.dnsOptions ?? [],
      ExtraHosts: req.networkFlags?.addHosts ?? [],
      Init: options.init,
      RestartPolicy: restart,
      // Security flags as given, as Docker records them.
      Privileged: securityFlags.privileged,
      CapAdd: securityFlags.capAdd.length > 0 ? securityFlags.capAdd : null,
      CapDrop: securityFlags.capDrop.length > 0 ? securityFlags.capDrop : null,
      SecurityOpt: securityFlags.securityOpts.length > 0 ? securityFlags.securityOpts : null,
      ...storageHostConfig(req.storage),
      Devices: securityFlags.devices.map((spec) => {
        const d = parseDevice(spec);
        return { PathOnHost: d.hostPath, PathInContainer: d.containerPath, CgroupPermissions: d.permissions };
      }),
      DeviceCgroupRules: securityFlags.deviceCgroupRules.length > 0 ? securityFlags.deviceCgroupRules : null,
      GroupAdd: securityFlags.groupAdd.length > 0 ? securityFlags.groupAdd : null,
      Sysctls: Object.keys(security.sysctls).length > 0 ? security.sysctls : null,
      IpcMode: namespaces.IpcMode,
      PidMode: namespaces.PidMode,
      UTSMode: namespaces.UTSMode,
      UsernsMode: usernsModeText(userns),
      CgroupnsMode: options.cgroupnsHost ? 'host' : 'private',
      LogConfig: logConfig,
      ...resources,
      Cgroups: cgroupsMode,
      CgroupManager: plan.cgroup?.manager ?? 'none',
      ...(unit.cidFile !== undefined ? { ContainerIDFile: unit.cidFile } : {}),
    },
  };
  if (unit.replace && req.name !== undefined) await replaceNamed(req.name);
  let staged: string | undefined;
  if (req.image && options.overlay?.driver === 'vfs') {
    try {
      staged = await flattenForVfs(options.overlay.lowerdirs, req.image.rootMode);
    } catch (err) {
      await removeVolumes(storage.created);
      throw err;
    }
  }
  // Its addresses, held under the networks' lock until the record is written.
  const claim = userNetworks ? await claimNetworks(userNetworks, { aliases: req.networkAliases ?? [], ...(req.ip !== undefined ? { ip: req.ip } : {}) }) : undefined;
  if (claim) record.Networks = claim.networks;
  try {
    // A generated name may already be taken (there are ~3,400): draw again, as
    // Docker does, then add a number; a name the user chose is never changed.
    for (let attempt = 0; ; attempt++) {
      try {
        createContainer(record, config, { dirs, files, ...(staged !== undefined ? { staged } : {}) });
        containerEvent(record, 'create');
        break;
      } catch (err) {
        if (!(err instanceof NameInUseError) || attempt >= 20) {
          await removeVolumes(storage.created);
          await removeStaged(staged);
          throw err;
        }
        if (req.name !== undefined) {
          if (attempt > 0 || !(await reclaimLeftoverName(err.ownerId))) {
            await removeVolumes(storage.created);
            await removeStaged(staged);
            throw err;
          }
          continue;
        }
        record.Name = attempt < 10 ? randomName() : `${randomName()}${attempt}`;
      }
    }
  } finally {
    claim?.release();
  }
  if (userNetworks) await refreshHosts(userNetworks.map((n) => n.id));
  if (unit.cidFile !== undefined) {
    try {
      writeCidFile(unit.cidFile, record.Id);
    } catch (err) {
      await removeWithVolumes({ ...record, HostConfig: { ...record.HostConfig, ContainerIDFile: undefined } } as ContainerRecord);
      throw err;
    }
  }
  return { record, config, options };
}

/** The user namespace the store's files are written in: rootless, the user's full mapping; none as root. */
function storeWalkMappings(): { uidMappings: OciIdMapping[]; gidMappings: OciIdMapping[] } | undefined {
  if ((process.geteuid?.() ?? 0) === 0) return undefined;
  const m = rootlessMappings();
  return { uidMappings: m.uidMappings, gidMappings: m.gidMappings };
}

/**
 * The vfs driver's root filesystem: the image's layers applied one over
 * another into rootfs/ of a new directory of the store's tmp/ (a kill leaves
 * only that, which the store's cleaning removes), which becomes the
 * container's directory when it is created.
 */
async function flattenForVfs(lowerdirs: string[], rootMode: number): Promise<string> {
  const { flattenLayers, removeTrees } = await import('../namespaces/helper.js');
  const paths = storePaths(currentStoreLocations().graphRoot);
  const staged = tmpPath(paths, 'vfs');
  const rootfs = path.join(staged, 'rootfs');
  mkdirSync(paths.tmp, { recursive: true, mode: 0o755 });
  mkdirSync(staged, { mode: 0o700 });
  mkdirSync(rootfs, { mode: 0o700 });
  chmodSync(rootfs, rootMode);
  try {
    await flattenLayers(lowerdirs, rootfs, storeWalkMappings());
  } catch (err) {
    await removeTrees([staged], storeWalkMappings());
    throw err;
  }
  return staged;
}

/** The staged directory of a container that was not created after all. */
async function removeStaged(staged: string | undefined): Promise<void> {
  if (staged === undefined || !existsSync(staged)) return;
  const { removeTrees } = await import('../namespaces/helper.js');
  await removeTrees([staged], storeWalkMappings());
}

/** A foreground run through --runtime (runc, crun): the same config.json, given to that runtime. */
async function runContainerWithRuntime(req: ContainerRequest, runtime: OciRuntime): Promise<number> {
  checkOciRuntimeRun((process.getuid?.() ?? 0) !== 0);
  if (parseTimeout(req.timeout ?? '') > 0) throw new SkiffError(`--timeout with --runtime ${runtime.path}: the time limit is kept by skiff's own helper, not by an OCI runtime; drop one of them`);
  // The runtime runs on skiff's own stdio and keeps no log: what only the helper does is refused.
  if (req.attach) throw new SkiffError(`-a/--attach with --runtime ${runtime.path}: the runtime gets all of skiff's stdio; drop one of them`);
  if (req.preserveFds) throw new SkiffError(`--preserve-fds with --runtime ${runtime.path}: the descriptors are handed on by skiff's own helper; drop one of them`);
  if ((req.log?.opts.length ?? 0) > 0) throw new SkiffError(`--log-opt with --runtime ${runtime.path}: a container run by another runtime keeps no log; drop one of them`);
  const { record, config } = await prepareContainer(req);
  let code: number;
  try {
    code = await runWithOciRuntime(runtime, config, containerDir(record.Id), record.Id);
  } catch (err) {
    if (record.HostConfig.AutoRemove) await removeWithVolumes(record);
    throw err;
  }
  if (record.HostConfig.AutoRemove) await removeWithVolumes(record);
  else writeExitFile(record.Id, { ExitCode: code, StartedAt: '', FinishedAt: new Date().toISOString(), RestartCount: 0 });
  return code;
}

/**
 * A foreground run: the container is stored like any other (ps -a shows it,
 * --rm removes it), but the helper runs it on skiff's own stdio, with no
 * monitor in between; without --rm it also copies the output to the log.
 * The helper records the start (pid.json), skiff the end (exit.json).
 */
export async function runContainer(req: ContainerRequest): Promise<number> {
  const runtime = ociRuntime();
  if (runtime) return runContainerWithRuntime(req, runtime);
  const { record, config: created, options } = await prepareContainer(req);
  let result;
  try {
    const { config, network } = await networkStart(record, created);
    const cgroup = cgroupStart(record, config);
    // The helper starts it and attaches skiff's own stdio in one go, and logs init, start, attach once the command runs.
    const started = foregroundStartedEvents(record);
    const unit = unitStart(record, config);
    const health = healthTimer(record);
    result = await runForeground(config, {
      // The helper keeps the healthcheck's timer while the container runs, as a monitor does.
      ...(health ? { health } : {}),
      ...(network ? { network } : {}),
      ...(cgroup ? { cgroup } : {}),
      ...(unit ? { unit } : {}),
      interactive: options.interactive,
      ...(req.attach ? { attach: req.attach } : {}),
      ...(req.preserveFds ? { preserveFds: req.preserveFds } : {}),
      ...(started ? { startedEvents: started } : {}),
      // The helper records the start itself, before skiff could be killed.
      pidFile: pidFilePath(record.Id),
      // `logs` works for a foreground run too; a --rm one leaves nothing to read.
      ...(record.HostConfig.AutoRemove || containerLogFile(record) === undefined ? {} : { log: containerLogFile(record)! }),
      ...(containerLogMax(record) !== undefined ? { logMax: containerLogMax(record)! } : {}),
      // --rm: the helper removes the container's trees itself at its end, in its user namespace.
      ...(record.HostConfig.AutoRemove ? { removeTrees: helperRemovableTrees(config) ?? [] } : {}),
      // The end is recorded while the helper reaps the network program; skiff returns once it has.
      // Not on user-defined networks: the helper holds its membership until it exits, and the container leaves them after that.
      earlyEnd: network === undefined,
    });
  } catch (err) {
    if (record.HostConfig.AutoRemove) await removeWithVolumes(record);
    throw err;
  }
  try {
    return await recordForegroundEnd(record, result);
  } finally {
    await result.finished;
  }
}

/** After a foreground run: the helper's warnings, the died event, and --rm's removal or exit.json; the exit status. */
async function recordForegroundEnd(record: ContainerRecord, result: RunResult): Promise<number> {
  const { exitCode, report } = result;
  for (const w of report.warnings) process.stderr.write(`skiff: warning: ${w}\n`);
  const failure = report.errors[0];
  const finalCode = failure ? failure.exitCode : exitCode;
  containerEvent(record, 'died', finalCode);
  if (record.HostConfig.AutoRemove) await removeWithVolumes(record, report.removed === true);
  else {
    try {
      writeExitFile(record.Id, {
        ExitCode: finalCode,
        StartedAt: readPidFile(record.Id)?.StartedAt ?? '',
        FinishedAt: new Date().toISOString(),
        RestartCount: 0,
        ...(report.oomKilled ? { OOMKilled: true } : {}),
      });
    } catch (err) {
      // `rm -f` from another shell removed the container while it ran (and
      // killed it): there is nothing left to record in; the run still ends
      // with the container's own status (137), as Docker's and Podman's do.
      if (existsSync(containerDir(record.Id))) throw err;
    }
  }
  if (failure) throw new SkiffError(failure.message, failure.exitCode);
  return exitCode;
}
