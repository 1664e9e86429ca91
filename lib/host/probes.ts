// Probes: whether the kernel really lets this user create namespaces and mount
// overlayfs inside a user namespace, found by trying (a sysctl can say yes
// while a security module says no). Each probe is one short-lived unshare(1)
// from util-linux, ~5-15 ms here, run in parallel, with a timeout.
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PROBE_PATH, findProgram } from './programs.js';

// node:child_process (~5 ms) is loaded when a probe runs, not with this module:
// the store imports it for a new store's driver choice, which a warm pull never makes.
const requireBuiltin = createRequire('/'); // for built-in modules only: the base path plays no part
const childProcess = () => requireBuiltin('node:child_process') as typeof import('node:child_process');

export type ProbeStatus = 'ok' | 'failed' | 'unavailable';

export interface ProbeResult {
  /** 'unavailable': the probe could not run (no unshare, no temp dir). */
  status: ProbeStatus;
  /** The failure, in the words of the failing program ('' when ok). */
  detail: string;
}

/** Runs a probe as another user (only root can). */
export interface ProbeUser {
  uid: number;
  gid: number;
}

export const NAMESPACES = ['User', 'Mount', 'PID', 'Net', 'IPC', 'UTS', 'Cgroup'] as const;
export type NamespaceName = (typeof NAMESPACES)[number];

const UNSHARE_FLAGS: Record<NamespaceName, string[]> = {
  User: ['--user', '--map-root-user'],
  Mount: ['--mount'],
  PID: ['--pid', '--fork'],
  Net: ['--net'],
  IPC: ['--ipc'],
  UTS: ['--uts'],
  Cgroup: ['--cgroup'],
};

const PROBE_TIMEOUT_MS = 3000;

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/** Runs argv, stdin and stdout closed, and reports success or its first line of stderr. */
export function runProbe(argv: string[], asUser?: ProbeUser): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let stderr = '';
    const child = childProcess().spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: PROBE_PATH, LC_ALL: 'C' },
      timeout: PROBE_TIMEOUT_MS,
      ...(asUser ? { uid: asUser.uid, gid: asUser.gid } : {}),
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.on('error', (err) => resolve({ status: 'unavailable', detail: `cannot run ${argv[0]}: ${err.message}` }));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ status: 'ok', detail: '' });
      else if (signal === 'SIGTERM') resolve({ status: 'failed', detail: `${path.basename(argv[0]!)} timed out after ${PROBE_TIMEOUT_MS / 1000} s` });
      else resolve({ status: 'failed', detail: firstLine(stderr) || `${path.basename(argv[0]!)} exited with ${code ?? signal}` });
    });
  });
}

const NO_UNSHARE: ProbeResult = { status: 'unavailable', detail: 'unshare (util-linux) is not installed' };

export interface NamespaceProbe {
  available: Record<NamespaceName, boolean>;
  /** Why a namespace could not be created (its probe's error). */
  errors: Partial<Record<NamespaceName, string>>;
  /** The user-namespace probe itself. */
  user: ProbeResult;
}

/**
 * Which namespaces this user can create. Rootless, every namespace is created
 * inside a new user namespace, as skiff does; as root, without one. When all
 * is well that is one probe (all of them at once, inside a user namespace);
 * only when it fails is each namespace probed on its own, to say which.
 */
export async function probeNamespaces(opts: { rootless: boolean; asUser?: ProbeUser }): Promise<NamespaceProbe> {
  const unshare = findProgram('unshare', process.env['PATH']);
  const available = Object.fromEntries(NAMESPACES.map((n) => [n, false])) as Record<NamespaceName, boolean>;
  if (!unshare) {
    return { available, errors: Object.fromEntries(NAMESPACES.map((n) => [n, NO_UNSHARE.detail])), user: NO_UNSHARE };
  }
  const flags = (names: readonly NamespaceName[]) => names.flatMap((n) => UNSHARE_FLAGS[n]);
  const together = await runProbe([unshare, ...flags(NAMESPACES), 'true'], opts.asUser);
  if (together.status === 'ok') {
    for (const n of NAMESPACES) available[n] = true;
    return { available, errors: {}, user: together };
  }
  const others = NAMESPACES.filter((n) => n !== 'User');
  const base = opts.rootless ? UNSHARE_FLAGS.User : [];
  const [user, ...each] = await Promise.all([
    runProbe([unshare, ...UNSHARE_FLAGS.User, 'true'], opts.asUser),
    ...others.map((n) => runProbe([unshare, ...base, ...flags([n]), 'true'], opts.asUser)),
  ]);
  const errors: NamespaceProbe['errors'] = {};
  available.User = user!.status === 'ok';
  if (!available.User) errors.User = user!.detail;
  others.forEach((n, i) => {
    available[n] = each[i]!.status === 'ok';
    if (!available[n]) errors[n] = each[i]!.detail;
  });
  return { available, errors, user: user! };
}

export interface OverlayProbe extends ProbeResult {
  /** The directory the probe mounted in (its filesystem is what was tested). */
  dir: string;
}

type OverlayAttempt = (mountArgv: string[]) => Promise<ProbeResult>;

/**
 * Makes lower/upper/work/merged dirs under `baseDir` (owned by `asUser` when
 * given), hands `attempt` the mount(8) command line for them, and removes them.
 */
async function withOverlayDirs(baseDir: string, asUser: ProbeUser | undefined, attempt: OverlayAttempt): Promise<OverlayProbe> {
  const mount = findProgram('mount', process.env['PATH']);
  if (!mount) return { status: 'unavailable', detail: 'mount (util-linux) is not installed', dir: baseDir };
  if (/[,:\\]/.test(baseDir)) {
    return { status: 'unavailable', detail: `cannot probe in ${baseDir}: its name has a character the overlay options cannot carry`, dir: baseDir };
  }
  let dir: string;
  try {
    dir = mkdtempSync(path.join(baseDir, '.skiff-overlay-probe-'));
  } catch (err) {
    return { status: 'unavailable', detail: `cannot create a temporary directory in ${baseDir}: ${(err as Error).message}`, dir: baseDir };
  }
  try {
    const sub = (name: string) => path.join(dir, name);
    for (const name of ['lower', 'upper', 'work', 'merged']) mkdirSync(sub(name));
    if (asUser) {
      for (const p of [dir, sub('lower'), sub('upper'), sub('work'), sub('merged')]) chownSync(p, asUser.uid, asUser.gid);
    }
    const options = `lowerdir=${sub('lower')},upperdir=${sub('upper')},workdir=${sub('work')},userxattr`;
    return { ...(await attempt([mount, '-t', 'overlay', 'overlay', '-o', options, sub('merged')])), dir: baseDir };
  } finally {
    // The mount died with its namespace; only the directories are left.
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Mounts an overlay with one lower dir, as skiff mounts a container's root
 * (with userxattr, design.md decision 4), in a new mount namespace: inside a
 * new user namespace when `userns`. The temporary dirs go under `baseDir`, so
 * the filesystem tested is the one the store will use.
 */
export async function probeOverlay(opts: { userns: boolean; baseDir: string; asUser?: ProbeUser }): Promise<OverlayProbe> {
  const unshare = findProgram('unshare', process.env['PATH']);
  if (!unshare) return { ...NO_UNSHARE, dir: opts.baseDir };
  const ns = opts.userns ? [...UNSHARE_FLAGS.User, '--mount'] : ['--mount'];
  return withOverlayDirs(opts.baseDir, opts.asUser, (mountArgv) => runProbe([unshare, ...ns, ...mountArgv], opts.asUser));
}

/**
 * probeOverlay's question, asked synchronously and without a user switch: can
 * this process mount an overlay with its upper dir in `baseDir` (inside a new
 * user namespace when `userns`)? A new store asks it once, to choose its
 * storage driver.
 */
export function probeOverlaySync(opts: { userns: boolean; baseDir: string }): ProbeResult {
  const unshare = findProgram('unshare', process.env['PATH']);
  const mount = findProgram('mount', process.env['PATH']);
  if (!unshare) return NO_UNSHARE;
  if (!mount) return { status: 'unavailable', detail: 'mount (util-linux) is not installed' };
  if (/[,:\\]/.test(opts.baseDir)) return { status: 'unavailable', detail: `cannot probe in ${opts.baseDir}: its name has a character the overlay options cannot carry` };
  let dir: string;
  try {
    dir = mkdtempSync(path.join(opts.baseDir, '.skiff-overlay-probe-'));
  } catch (err) {
    return { status: 'unavailable', detail: `cannot create a temporary directory in ${opts.baseDir}: ${(err as Error).message}` };
  }
  try {
    const sub = (name: string) => path.join(dir, name);
    for (const name of ['lower', 'upper', 'work', 'merged']) mkdirSync(sub(name));
    const options = `lowerdir=${sub('lower')},upperdir=${sub('upper')},workdir=${sub('work')},userxattr`;
    const ns = opts.userns ? [...UNSHARE_FLAGS.User, '--mount'] : ['--mount'];
    const r = childProcess().spawnSync(unshare, [...ns, mount, '-t', 'overlay', 'overlay', '-o', options, sub('merged')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: PROBE_PATH, LC_ALL: 'C' },
      timeout: PROBE_TIMEOUT_MS,
      encoding: 'utf8',
    });
    if (r.error) return { status: 'unavailable', detail: `cannot run ${unshare}: ${r.error.message}` };
    if (r.status === 0) return { status: 'ok', detail: '' };
    return { status: 'failed', detail: firstLine(r.stderr) || `mount exited with ${r.status ?? r.signal}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface HostProbe {
  namespaces: NamespaceProbe;
  overlay: OverlayProbe;
}

/**
 * Namespaces and overlay at once. The common case costs one process: every
 * namespace created together, inside a user namespace, and the overlay
 * mounted there (which also answers for root, who may mount more than a user
 * namespace may). Only when that fails are the two probed apart, to say what
 * failed. Under load this is ~25 ms faster than two probes in parallel.
 */
export async function probeHost(opts: { rootless: boolean; overlayInUserNS: boolean; baseDir: string; asUser?: ProbeUser }): Promise<HostProbe> {
  const unshare = findProgram('unshare', process.env['PATH']);
  if (unshare) {
    const all = NAMESPACES.flatMap((n) => UNSHARE_FLAGS[n]);
    const together = await withOverlayDirs(opts.baseDir, opts.asUser, (mountArgv) => runProbe([unshare, ...all, ...mountArgv], opts.asUser));
    if (together.status === 'ok') {
      const available = Object.fromEntries(NAMESPACES.map((n) => [n, true])) as Record<NamespaceName, boolean>;
      return { namespaces: { available, errors: {}, user: { status: 'ok', detail: '' } }, overlay: together };
    }
  }
  const [namespaces, overlay] = await Promise.all([
    probeNamespaces(opts),
    probeOverlay({ userns: opts.overlayInUserNS, baseDir: opts.baseDir, ...(opts.asUser ? { asUser: opts.asUser } : {}) }),
  ]);
  return { namespaces, overlay };
}
