// `skiff doctor`'s readings: everything the checks in doctor-checks.ts judge,
// gathered from the real host (files, stat, and a few unshare probes run in
// parallel). Kept apart from the checks so those stay pure and testable.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import { cgroupManager, detectCgroups } from '../cgroups/detect.js';
import { SkiffError, errnoCode } from '../errors.js';
import { mountContaining, parseMountinfo } from '../host/mountinfo.js';
import type { MountEntry } from '../host/mountinfo.js';
import { probeHost } from '../host/probes.js';
import type { ProbeUser } from '../host/probes.js';
import { PROBE_PATH, findProgram } from '../host/programs.js';
import { parseSubIds, subIdFiles } from '../host/subids.js';
import { isInitialIdMap, kernelRelease, osRelease, parseIdMap, readSysctl, readText } from '../host/system.js';
import { lookupUser, selfUser, userGroups } from '../host/users.js';
import type { HostUser } from '../host/users.js';
import { storeLocations } from '../store/paths.js';
import type { DoctorFacts, IdMapToolFacts, SubIdFacts, TunFacts } from './doctor-checks.js';
import { helperBinary } from './helper-binary.js';
import { overlayProbeDir } from './info.js';

export interface DoctorOptions {
  /** Check this user's rootless prerequisites (root may name anyone). */
  user?: string;
}

function resolveSubject(opts: DoctorOptions, runningAsRoot: boolean): { user: HostUser; self: boolean } {
  const me = selfUser();
  if (opts.user === undefined) return { user: me, self: true };
  const user = lookupUser(opts.user);
  if (!user) throw new SkiffError(`no such user: ${opts.user}`);
  if (user.uid === me.uid) return { user: me, self: true };
  if (!runningAsRoot) throw new SkiffError(`checking another user's prerequisites needs root: run 'sudo skiff doctor --user ${opts.user}', or 'skiff doctor' as ${user.name}`);
  return { user, self: false };
}

function realMount(mounts: MountEntry[], file: string): MountEntry | undefined {
  let real = file;
  try {
    real = realpathSync(file);
  } catch {
    // keep the path as given
  }
  return mountContaining(mounts, real);
}

function getcap(file: string): Promise<{ caps?: string; error?: string }> {
  const tool = findProgram('getcap', process.env['PATH']);
  if (!tool) return Promise.resolve({ error: 'getcap is not installed' });
  return new Promise((resolve) => {
    execFile(tool, [file], { env: { PATH: PROBE_PATH, LC_ALL: 'C' }, timeout: 3000 }, (err, stdout) => {
      if (err) resolve({ error: `getcap failed: ${err.message.split('\n')[0]}` });
      // "/usr/bin/newuidmap cap_setuid=ep" (older libcap: "/usr/bin/newuidmap = cap_setuid+ep"); nothing when it has none.
      else resolve({ caps: stdout.trim().startsWith(file) ? stdout.trim().slice(file.length).trim() : stdout.trim() });
    });
  });
}

async function idMapTool(name: 'newuidmap' | 'newgidmap', mounts: MountEntry[]): Promise<IdMapToolFacts> {
  const file = findProgram(name);
  if (!file) return { name };
  let st;
  try {
    st = statSync(file);
  } catch {
    return { name };
  }
  const mount = realMount(mounts, file);
  const facts: IdMapToolFacts = {
    name,
    path: file,
    uid: st.uid,
    mode: st.mode,
    ...(mount?.options.includes('nosuid') ? { nosuidMount: mount.mountPoint } : {}),
  };
  // Only read file capabilities when the setuid bit does not already answer (Fedora ships them instead).
  if ((st.mode & 0o4000) === 0 || st.uid !== 0) {
    const caps = await getcap(file);
    if (caps.caps !== undefined) facts.fileCaps = caps.caps;
    else facts.fileCapsError = caps.error ?? 'unknown';
  }
  return facts;
}

function subIdFacts(file: string, user: HostUser): SubIdFacts {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const error = errnoCode(err) === 'ENOENT' ? 'it does not exist' : (err as Error).message;
    return { file, error, ranges: [], others: [] };
  }
  const owners = new Set<string>();
  for (const line of text.split('\n')) {
    const owner = line.trim().split(':')[0];
    if (owner && !owner.startsWith('#') && owner !== user.name && owner !== String(user.uid)) owners.add(owner);
  }
  const others = [...owners].flatMap((owner) => parseSubIds(text, owner, -1).map((r) => ({ owner, ...r })));
  return { file, ranges: parseSubIds(text, user.name, user.uid), others };
}

function tunFacts(): TunFacts {
  try {
    const st = statSync('/dev/net/tun');
    return { exists: true, charDevice: st.isCharacterDevice(), mode: st.mode, uid: st.uid, gid: st.gid };
  } catch {
    return { exists: false, charDevice: false, mode: 0, uid: 0, gid: 0 };
  }
}

export async function gatherDoctorFacts(opts: DoctorOptions = {}): Promise<DoctorFacts> {
  const runningAsRoot = (process.geteuid?.() ?? 0) === 0;
  const { user, self } = resolveSubject(opts, runningAsRoot);
  const rootless = user.uid !== 0;
  // Root checking a user probes as that user, so the kernel judges their rights, not root's.
  const asUser: ProbeUser | undefined = self ? undefined : { uid: user.uid, gid: user.gid };
  const store = storeLocations(user, self ? process.env : {});
  const probeDir = self ? overlayProbeDir(store.graphRoot) : os.tmpdir();

  const probes = probeHost({ rootless, overlayInUserNS: rootless, baseDir: probeDir, ...(asUser ? { asUser } : {}) });
  const mountinfo = readText('/proc/self/mountinfo') ?? '';
  const mounts = parseMountinfo(mountinfo);
  const tools = Promise.all([idMapTool('newuidmap', mounts), idMapTool('newgidmap', mounts)]);

  const release = osRelease();
  const files = subIdFiles();
  const systemdBooted = existsSync('/run/systemd/system');
  const userManager = existsSync(`/run/user/${user.uid}/systemd`);
  // Another user's session cgroup, where systemd delegates to them; else this process's own.
  const userService = `/user.slice/user-${user.uid}.slice/user@${user.uid}.service`;
  const processUidMap = parseIdMap(readText('/proc/self/uid_map') ?? '');
  const cgroups = detectCgroups({
    mountinfo,
    procCgroup: readText('/proc/self/cgroup') ?? '',
    uid: user.uid,
    initialUserNS: processUidMap.length === 0 || isInitialIdMap(processUidMap),
    ...(!self && systemdBooted ? { unifiedPathOverride: userService } : {}),
  });
  const [{ namespaces, overlay }, [newuidmap, newgidmap]] = await Promise.all([probes, tools]);
  const sysctl: DoctorFacts['sysctl'] = {};
  const max = readSysctl('user.max_user_namespaces');
  const clone = readSysctl('kernel.unprivileged_userns_clone');
  const apparmor = readSysctl('kernel.apparmor_restrict_unprivileged_userns');
  if (max !== undefined) sysctl.maxUserNamespaces = max;
  if (clone !== undefined) sysctl.unprivilegedUsernsClone = clone;
  if (apparmor !== undefined) sysctl.apparmorRestrictUnprivilegedUserns = apparmor;
  const pasta = findProgram('pasta', process.env['PATH']);
  const slirp4netns = findProgram('slirp4netns', process.env['PATH']);
  const fuseOverlayfs = findProgram('fuse-overlayfs', process.env['PATH']);
  const compiler = findProgram(process.env['CC'] ?? 'cc', process.env['PATH']);
  const fsType = realMount(mounts, overlay.dir)?.fsType;

  return {
    mode: rootless ? 'rootless' : 'root',
    runningAsRoot,
    user: { name: user.name, uid: user.uid, gid: user.gid, groups: userGroups(user, self) },
    nodeVersion: process.versions.node,
    kernel: kernelRelease(),
    distro: [release['ID'] ?? '', ...(release['ID_LIKE'] ?? '').split(/\s+/)].filter((d) => d !== ''),
    sysctl,
    namespaces,
    newuidmap,
    newgidmap,
    subuid: subIdFacts(files.subuid, user),
    subgid: subIdFacts(files.subgid, user),
    processUidMap,
    processGidMap: parseIdMap(readText('/proc/self/gid_map') ?? ''),
    tun: tunFacts(),
    ...(pasta ? { pasta } : {}),
    ...(slirp4netns ? { slirp4netns } : {}),
    overlay: { ...overlay, userns: rootless, ...(fsType ? { fsType } : {}) },
    ...(fuseOverlayfs ? { fuseOverlayfs } : {}),
    cgroups,
    cgroupManager: cgroupManager({ systemdBooted, rootless, userManager }),
    systemd: { booted: systemdBooted, userManager },
    helper: helperBinary(),
    ...(compiler ? { compiler } : {}),
  };
}
