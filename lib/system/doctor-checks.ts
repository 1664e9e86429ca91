// `skiff doctor`'s judgement: pure functions from gathered facts
// (doctor-facts.ts) to one result per prerequisite, each failing one with the
// command that fixes it. No I/O here, so every verdict is unit-tested.
import path from 'node:path';
import { LIMIT_CONTROLLERS } from '../cgroups/detect.js';
import type { CgroupDetection, CgroupManager } from '../cgroups/detect.js';
import type { NamespaceProbe, OverlayProbe } from '../host/probes.js';
import type { IdRange, SubIdRange } from '../host/subids.js';
import { idsMapped, isInitialIdMap } from '../host/system.js';
import type { HelperBinary } from './helper-binary.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  Name: string;
  Status: CheckStatus;
  Detail: string;
  /** Commands that fix it, one per line ('' when there is nothing to fix). */
  Fix: string;
}

export interface IdMapToolFacts {
  name: 'newuidmap' | 'newgidmap';
  path?: string;
  uid?: number;
  mode?: number;
  /** The mount point of a nosuid mount holding it (which voids setuid and file capabilities). */
  nosuidMount?: string;
  /** getcap's capability text ("cap_setuid=ep"); '' for none; undefined when not read. */
  fileCaps?: string;
  /** Why the file capabilities could not be read. */
  fileCapsError?: string;
}

export interface SubIdFacts {
  file: string;
  /** Why the file could not be read (undefined when it was). */
  error?: string;
  /** The subject's ranges. */
  ranges: SubIdRange[];
  /** Everyone else's ranges. */
  others: { owner: string; start: number; count: number }[];
}

export interface TunFacts {
  exists: boolean;
  charDevice: boolean;
  mode: number;
  uid: number;
  gid: number;
}

export interface DoctorFacts {
  /** 'root': containers run without a user namespace; 'rootless': the subject is an ordinary user. */
  mode: 'root' | 'rootless';
  /** Fixes need no sudo when skiff runs as root. */
  runningAsRoot: boolean;
  user: { name: string; uid: number; gid: number; groups: number[] };
  nodeVersion: string;
  kernel: string;
  /** os-release ID and ID_LIKE: which package manager the fixes name. */
  distro: string[];
  sysctl: { maxUserNamespaces?: number; unprivilegedUsernsClone?: number; apparmorRestrictUnprivilegedUserns?: number };
  namespaces: NamespaceProbe;
  newuidmap: IdMapToolFacts;
  newgidmap: IdMapToolFacts;
  subuid: SubIdFacts;
  subgid: SubIdFacts;
  /** This process's own user namespace maps (to tell a nested namespace). */
  processUidMap: IdRange[];
  processGidMap: IdRange[];
  tun: TunFacts;
  pasta?: string;
  slirp4netns?: string;
  overlay: OverlayProbe & { userns: boolean; fsType?: string };
  fuseOverlayfs?: string;
  cgroups: CgroupDetection;
  cgroupManager: CgroupManager;
  systemd: { booted: boolean; userManager: boolean };
  helper: HelperBinary;
  /** The C compiler the build would use, if found. */
  compiler?: string;
}

// ---------------------------------------------------------------- fixes

type Family = 'debian' | 'fedora' | 'arch' | 'suse' | 'alpine';

function family(distro: string[]): Family {
  for (const id of distro) {
    if (id === 'debian' || id === 'ubuntu') return 'debian';
    if (id === 'fedora' || id === 'rhel' || id === 'centos') return 'fedora';
    if (id === 'arch') return 'arch';
    if (id.includes('suse')) return 'suse';
    if (id === 'alpine') return 'alpine';
  }
  return 'debian';
}

const PACKAGES: Record<string, Record<Family, string>> = {
  uidmap: { debian: 'uidmap', fedora: 'shadow-utils', arch: 'shadow', suse: 'shadow', alpine: 'shadow-uidmap' },
  'util-linux': { debian: 'util-linux', fedora: 'util-linux', arch: 'util-linux', suse: 'util-linux', alpine: 'util-linux-misc' },
  passt: { debian: 'passt', fedora: 'passt', arch: 'passt', suse: 'passt', alpine: 'passt' },
  'fuse-overlayfs': { debian: 'fuse-overlayfs', fedora: 'fuse-overlayfs', arch: 'fuse-overlayfs', suse: 'fuse-overlayfs', alpine: 'fuse-overlayfs' },
  getcap: { debian: 'libcap2-bin', fedora: 'libcap', arch: 'libcap', suse: 'libcap-progs', alpine: 'libcap-utils' },
  compiler: { debian: 'gcc libc6-dev make', fedora: 'gcc glibc-devel make', arch: 'gcc make', suse: 'gcc glibc-devel make', alpine: 'gcc musl-dev make' },
};

const INSTALL: Record<Family, string> = {
  debian: 'apt-get install',
  fedora: 'dnf install',
  arch: 'pacman -S',
  suse: 'zypper install',
  alpine: 'apk add',
};

function sudo(f: DoctorFacts, command: string): string {
  return f.runningAsRoot ? command : `sudo ${command}`;
}

function install(f: DoctorFacts, pkg: keyof typeof PACKAGES): string {
  const fam = family(f.distro);
  return sudo(f, `${INSTALL[fam]} ${PACKAGES[pkg]![fam]}`);
}

function persistSysctl(f: DoctorFacts, setting: string): string {
  return `echo '${setting}' | ${sudo(f, `tee /etc/sysctl.d/90-skiff.conf`)}   # keep it after a reboot`;
}

function check(Name: string, Status: CheckStatus, Detail: string, Fix: string[] | string = ''): CheckResult {
  return { Name, Status, Detail, Fix: Array.isArray(Fix) ? Fix.join('\n') : Fix };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------- checks

export function checkNode(f: DoctorFacts): CheckResult {
  const major = Number(f.nodeVersion.split('.')[0]);
  if (major >= 20) return check('node', 'ok', `v${f.nodeVersion}`);
  return check('node', 'fail', `v${f.nodeVersion}: skiff needs Node 20 or later`, 'install Node.js 20 or later (https://nodejs.org)');
}

export function checkUserNamespaces(f: DoctorFacts): CheckResult {
  const name = 'user namespaces';
  const { maxUserNamespaces: max, unprivilegedUsernsClone: clone, apparmorRestrictUnprivilegedUserns: apparmor } = f.sysctl;
  const rootMode = f.mode === 'root';
  // Root mode runs containers without a user namespace: what blocks users is only a warning for root.
  const bad: CheckStatus = rootMode ? 'warn' : 'fail';
  const forUsers = rootMode ? ' (root mode does not need them; ordinary users do)' : '';
  const probe = f.namespaces.user;
  if (max === 0) {
    return check(name, bad, `disabled: user.max_user_namespaces is 0${forUsers}`, [
      sudo(f, 'sysctl -w user.max_user_namespaces=28633'),
      persistSysctl(f, 'user.max_user_namespaces=28633'),
    ]);
  }
  if (clone === 0 && !rootMode) {
    return check(name, bad, 'disabled for unprivileged users: kernel.unprivileged_userns_clone is 0', [
      sudo(f, 'sysctl -w kernel.unprivileged_userns_clone=1'),
      persistSysctl(f, 'kernel.unprivileged_userns_clone=1'),
    ]);
  }
  const maxText = max !== undefined ? ` (max ${max})` : '';
  if (probe.status === 'ok') {
    if (clone === 0) {
      return check(name, 'warn', `enabled for root${maxText}, disabled for ordinary users: kernel.unprivileged_userns_clone is 0`, [
        sudo(f, 'sysctl -w kernel.unprivileged_userns_clone=1'),
        persistSysctl(f, 'kernel.unprivileged_userns_clone=1'),
      ]);
    }
    return check(name, 'ok', `enabled${maxText}`);
  }
  if (probe.status === 'unavailable') {
    return check(name, 'warn', `could not be tested: ${probe.detail}${maxText}`, install(f, 'util-linux'));
  }
  if (apparmor === 1) {
    return check(name, bad, `cannot be created: AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1): ${probe.detail}${forUsers}`, [
      sudo(f, 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0'),
      persistSysctl(f, 'kernel.apparmor_restrict_unprivileged_userns=0'),
    ]);
  }
  return check(name, bad, `cannot be created: ${probe.detail}${forUsers}`, '');
}

export function checkNamespaces(f: DoctorFacts): CheckResult {
  const name = 'namespaces';
  const others = (['Mount', 'PID', 'Net', 'IPC', 'UTS', 'Cgroup'] as const);
  const missing = others.filter((n) => !f.namespaces.available[n]);
  const label = (n: string) => n.toLowerCase();
  if (missing.length === 0) return check(name, 'ok', `${others.map(label).join(', ')}${f.mode === 'rootless' ? ' (inside a user namespace)' : ''}`);
  if (f.mode === 'rootless' && !f.namespaces.available.User) {
    return check(name, 'fail', 'not tested: rootless, every namespace is created inside a user namespace, which failed (see "user namespaces")');
  }
  const first = f.namespaces.errors[missing[0]!] ?? '';
  if (f.namespaces.user.status === 'unavailable') return check(name, 'warn', `could not be tested: ${first}`, install(f, 'util-linux'));
  return check(name, 'fail', `cannot create ${missing.map(label).join(', ')}: ${first} (refused by the kernel or a security policy)`);
}

/** Whether getcap's text grants `cap` in the effective and permitted sets ("cap_setuid=ep", "cap_setuid+ep", "=ep"). */
export function hasFileCapability(text: string, cap: string): boolean {
  for (const clause of text.trim().split(/\s+/)) {
    const m = /^([a-z_,]*)([=+])([eip]*)$/i.exec(clause);
    if (!m) continue;
    const names = m[1] === '' ? ['all'] : m[1]!.toLowerCase().split(',');
    const flags = m[3]!.toLowerCase();
    if ((names.includes(cap) || names.includes('all')) && flags.includes('e') && flags.includes('p')) return true;
  }
  return false;
}

export function checkIdMapTool(f: DoctorFacts, t: IdMapToolFacts): CheckResult {
  const cap = t.name === 'newuidmap' ? 'cap_setuid' : 'cap_setgid';
  const rootMode = f.mode === 'root';
  const bad: CheckStatus = rootMode ? 'warn' : 'fail';
  const forUsers = rootMode ? ' (root mode does not need it; ordinary users do)' : '';
  if (t.path === undefined) {
    return check(t.name, bad, `not installed: it maps a user's sub-IDs into a container${forUsers}`, install(f, 'uidmap'));
  }
  const p = t.path;
  const setuid = ((t.mode ?? 0) & 0o4000) !== 0;
  const setuidRoot = setuid && t.uid === 0;
  const caps = t.fileCaps !== undefined && hasFileCapability(t.fileCaps, cap);
  if ((setuidRoot || caps) && t.nosuidMount !== undefined) {
    return check(t.name, bad, `${p} is on a nosuid mount (${t.nosuidMount}): its ${setuidRoot ? 'setuid bit is' : 'file capabilities are'} ignored${forUsers}`, sudo(f, `mount -o remount,suid ${t.nosuidMount}`));
  }
  if (setuidRoot) return check(t.name, 'ok', `${p}, setuid root`);
  if (caps) return check(t.name, 'ok', `${p}, file capability ${t.fileCaps!.trim()}`);
  if (setuid) {
    return check(t.name, bad, `${p} is setuid but owned by uid ${t.uid}, not root${forUsers}`, [sudo(f, `chown root:root ${p}`), sudo(f, `chmod u+s ${p}`)]);
  }
  if (t.fileCaps === undefined) {
    return check(
      t.name,
      'warn',
      `${p} is not setuid root, and its file capabilities could not be read (${t.fileCapsError ?? 'unknown'}): it works only if it has ${cap}${forUsers}`,
      [sudo(f, `chmod u+s ${p}`), `${install(f, 'getcap')}   # to check its file capabilities instead`],
    );
  }
  return check(t.name, bad, `${p} is neither setuid root nor has the ${cap} file capability${forUsers}`, [
    sudo(f, `chmod u+s ${p}`),
    `${sudo(f, `setcap ${cap}+ep ${p}`)}   # or this, instead of the setuid bit`,
  ]);
}

const RECOMMENDED_SUBIDS = 65536;
const SUBID_MIN = 100000;

/** The lowest start >= 100000 of `size` IDs overlapping none of `taken` (what useradd would pick). */
export function freeSubIdRange(taken: readonly { start: number; count: number }[], size = RECOMMENDED_SUBIDS): number {
  let start = SUBID_MIN;
  for (const r of [...taken].sort((a, b) => a.start - b.start)) {
    if (r.start >= start + size) break;
    if (r.start + r.count > start) start = r.start + r.count;
  }
  return start;
}

function overlap(a: { start: number; count: number }, b: { start: number; count: number }): boolean {
  return a.start < b.start + b.count && b.start < a.start + a.count;
}

function rangeText(r: { start: number; count: number }): string {
  return `${r.start}-${r.start + r.count - 1}`;
}

export function checkSubIds(f: DoctorFacts, kind: 'subuid' | 'subgid'): CheckResult {
  const name = `${kind} range`;
  const s = f[kind];
  const ids = kind === 'subuid' ? 'sub-UIDs' : 'sub-GIDs';
  const flag = kind === 'subuid' ? '--add-subuids' : '--add-subgids';
  const delFlag = kind === 'subuid' ? '--del-subuids' : '--del-subgids';
  if (f.mode === 'root') {
    return check(name, 'ok', `not used in root mode (containers share the host's IDs); run 'skiff doctor --user NAME' to check a user's range`);
  }
  // One range, free in both files, so that the subuid and subgid fixes agree.
  const taken = [...f.subuid.others, ...f.subgid.others, ...f.subuid.ranges, ...f.subgid.ranges];
  const free = freeSubIdRange(taken);
  const addFix = sudo(f, `usermod ${flag} ${rangeText({ start: free, count: RECOMMENDED_SUBIDS })} ${f.user.name}`);
  if (s.ranges.length === 0) {
    const why = s.error !== undefined ? `${s.file} cannot be read (${s.error})` : `${f.user.name} has no range in ${s.file}`;
    return check(name, 'warn', `${why}: containers get a single mapping, only root exists inside them, and images that need other users fail`, addFix);
  }
  const total = s.ranges.reduce((n, r) => n + r.count, 0);
  const list = s.ranges.map(rangeText).join(', ');
  const map = kind === 'subuid' ? f.processUidMap : f.processGidMap;
  if (map.length > 0 && !isInitialIdMap(map)) {
    const unmapped = s.ranges.filter((r) => !idsMapped(map, r.start, r.count));
    if (unmapped.length > 0) {
      return check(
        name,
        'fail',
        `skiff runs inside a user namespace that does not map ${unmapped.map(rangeText).join(', ')}: ${kind === 'subuid' ? 'newuidmap' : 'newgidmap'} will refuse ${unmapped.length === 1 ? 'it' : 'them'}`,
        `map ${ids} ${unmapped.map(rangeText).join(', ')} into this container or namespace, or give ${f.user.name} a range it maps (${delFlag}/${flag})`,
      );
    }
  }
  for (const mine of s.ranges) {
    const clash = s.others.find((o) => overlap(mine, o));
    if (clash) {
      return check(
        name,
        'warn',
        `${f.user.name}'s ${ids} ${rangeText(mine)} overlap ${clash.owner}'s ${rangeText(clash)}: files in your containers and theirs can belong to the same host IDs`,
        [sudo(f, `usermod ${delFlag} ${rangeText(mine)} ${f.user.name}`), addFix],
      );
    }
  }
  if (total < RECOMMENDED_SUBIDS) {
    return check(
      name,
      'warn',
      `${f.user.name} has ${plural(total, 'ID')} (${list}), fewer than ${RECOMMENDED_SUBIDS}: images with files owned by IDs above ${total} fail to unpack`,
      addFix,
    );
  }
  return check(name, 'ok', `${f.user.name}: ${list} (${plural(total, 'ID')})`);
}

function kernelAtLeast(release: string, major: number, minor: number): boolean | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return undefined;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

export function checkOverlay(f: DoctorFacts): CheckResult {
  const o = f.overlay;
  const name = o.userns ? 'overlay in a user namespace' : 'overlay';
  const where = `${o.fsType ? `${o.fsType} at ` : ''}${o.dir}`;
  if (o.status === 'ok') return check(name, 'ok', `mountable (tested on ${where})`);
  const fallback = f.fuseOverlayfs
    ? `skiff falls back to fuse-overlayfs (${f.fuseOverlayfs}), which is slower`
    : 'skiff falls back to copying each layer, which is slow and uses disk space';
  const fix = f.fuseOverlayfs ? '' : install(f, 'fuse-overlayfs');
  if (o.status === 'unavailable') return check(name, 'warn', `could not be tested: ${o.detail}`, o.detail.includes('unshare') ? install(f, 'util-linux') : '');
  const old = o.userns && kernelAtLeast(f.kernel, 5, 11) === false ? ` (kernel ${f.kernel}: overlayfs in a user namespace needs 5.11 or later)` : '';
  return check(name, 'warn', `cannot be mounted on ${where}${old}: ${o.detail}; ${fallback}`, fix);
}

function cgroupVersionText(f: DoctorFacts): string {
  const c = f.cgroups;
  if (c.version === 'hybrid') {
    const u = c.unified!;
    return `hybrid (v1 controllers, and v2 at ${u.mountPoint} with ${u.controllers.length > 0 ? u.controllers.join(', ') : 'no controllers'})`;
  }
  return c.version;
}

function cgroupFix(f: DoctorFacts): string[] {
  const c = f.cgroups;
  const user = f.user.name;
  if (c.version === 'none') return [sudo(f, 'mount -t cgroup2 none /sys/fs/cgroup')];
  if (f.mode === 'rootless' && (c.version === 'v1' || c.version === 'hybrid')) {
    return [
      'boot with cgroup v2 only: add systemd.unified_cgroup_hierarchy=1 to the kernel command line, e.g. with GRUB:',
      `${sudo(f, `sed -i 's/^GRUB_CMDLINE_LINUX="/&systemd.unified_cgroup_hierarchy=1 /' /etc/default/grub`)} && ${sudo(f, 'update-grub')} && ${sudo(f, 'reboot')}`,
    ];
  }
  if (f.mode === 'rootless' && c.version === 'v2') {
    const del = c.delegation;
    if (f.systemd.booted) {
      const lines: string[] = [];
      if (!f.systemd.userManager) lines.push(sudo(f, `loginctl enable-linger ${user}`) + '   # then log in again, so that systemd runs your user manager');
      if (del?.writable) {
        lines.push(
          `printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | ${sudo(f, 'tee /etc/systemd/system/user@.service.d/delegate.conf')}`,
          `${sudo(f, 'systemctl daemon-reload')}   # then log in again`,
        );
      } else {
        lines.push('systemd-run --user --scope skiff run ...   # runs skiff in a cgroup delegated to you');
      }
      return lines;
    }
    if (del?.writable && del.dir !== undefined) {
      const parent = path.posix.dirname(del.cgroup);
      return [`echo '+cpu +memory +pids' | ${sudo(f, `tee ${path.posix.join(c.unified!.mountPoint, parent, 'cgroup.subtree_control')}`)}`];
    }
    const dir = `/sys/fs/cgroup/skiff-${user}`;
    return [
      sudo(f, `mkdir -p ${dir}`),
      `echo '+cpu +memory +pids' | ${sudo(f, 'tee /sys/fs/cgroup/cgroup.subtree_control')}`,
      sudo(f, `chown -R ${user} ${dir}`),
      `echo $$ | ${sudo(f, `tee ${dir}/cgroup.procs`)}   # from the shell that runs skiff`,
    ];
  }
  return [];
}

export function checkCgroups(f: DoctorFacts): CheckResult {
  const c = f.cgroups;
  const l = c.limits;
  const name = 'cgroups';
  const version = cgroupVersionText(f);
  const where = l.via === 'v2' && c.delegation ? `, delegated: ${c.delegation.cgroup}` : '';
  if (l.applied && l.reason === '') {
    return check(name, 'ok', `${version}${where}, limits applied through ${l.via} (${l.controllers.join(', ')}), manager ${f.cgroupManager}`);
  }
  if (l.applied) {
    const missing = LIMIT_CONTROLLERS.filter((x) => !l.controllers.includes(x));
    return check(name, 'warn', `${version}${where}, limits through ${l.via} (${l.controllers.join(', ')}), but ${l.reason}`, cgroupFix(f).length > 0 ? cgroupFix(f) : `enable the ${missing.join(', ')} controller${missing.length > 1 ? 's' : ''}`);
  }
  return check(
    name,
    'warn',
    `${version}: limits (--memory, --cpus, --pids-limit) will not be applied, because ${l.reason}; runs that ask for no limits work`,
    cgroupFix(f),
  );
}

function canOpenReadWrite(t: TunFacts, u: DoctorFacts['user']): boolean {
  if (u.uid === 0) return true;
  if (t.uid === u.uid) return (t.mode & 0o600) === 0o600;
  if (u.groups.includes(t.gid)) return (t.mode & 0o060) === 0o060;
  return (t.mode & 0o006) === 0o006;
}

export function checkTun(f: DoctorFacts): CheckResult {
  const name = '/dev/net/tun';
  const t = f.tun;
  const blocks = 'private networking (pasta, slirp4netns) is unavailable; --network none and host work';
  if (!t.exists) return check(name, 'fail', `missing: ${blocks}`, sudo(f, 'modprobe tun'));
  if (!t.charDevice) return check(name, 'fail', `not a character device: ${blocks}`, [sudo(f, 'rm /dev/net/tun'), sudo(f, 'mknod -m 666 /dev/net/tun c 10 200')]);
  const mode = (t.mode & 0o777).toString(8).padStart(4, '0');
  const fix = [
    sudo(f, 'chmod 666 /dev/net/tun'),
    `echo 'KERNEL=="tun", MODE="0666"' | ${sudo(f, 'tee /etc/udev/rules.d/60-skiff-tun.rules')}   # keep it after a reboot`,
  ];
  if (f.mode === 'root') {
    // Root opens anything; what matters to the admin is whether users can.
    if ((t.mode & 0o006) === 0o006) return check(name, 'ok', `mode ${mode}`);
    return check(name, 'warn', `mode ${mode}: root can open it, ordinary users cannot, which blocks their private networking (pasta, slirp4netns)`, fix);
  }
  if (canOpenReadWrite(t, f.user)) return check(name, 'ok', `mode ${mode}`);
  return check(name, 'fail', `mode ${mode}, owner ${t.uid}:${t.gid}: ${f.user.name} cannot open it, so ${blocks}`, fix);
}

export function checkNetworkTool(f: DoctorFacts): CheckResult {
  const name = 'pasta/slirp4netns';
  if (f.pasta) return check(name, 'ok', `pasta (${f.pasta})${f.slirp4netns ? `, slirp4netns (${f.slirp4netns})` : ''}`);
  if (f.slirp4netns) return check(name, 'ok', `slirp4netns (${f.slirp4netns}); pasta is not installed`);
  return check(name, 'fail', 'neither is installed: private networking with outbound access is unavailable; --network none and host work', install(f, 'passt'));
}

export function checkHelper(f: DoctorFacts): CheckResult {
  const name = 'skiff helper';
  const h = f.helper;
  const origin = h.fromEnv ? ' (from SKIFF_HELPER)' : '';
  const build = `cd ${h.installRoot} && node scripts/build.mjs --helper-only`;
  const buildFix = f.compiler ? [build] : [install(f, 'compiler'), build];
  if (!h.exists) return check(name, 'fail', `not built: ${h.path}${origin} is missing`, h.fromEnv ? 'unset SKIFF_HELPER, or point it at a built skiff-helper' : buildFix);
  if (!h.executable) return check(name, 'fail', `${h.path}${origin} is not executable`, `chmod +x ${h.path}`);
  if (h.stale) return check(name, 'warn', `${h.path} is older than its sources in helpers-c/src: rebuild it`, buildFix);
  return check(name, 'ok', `built: ${h.path}${origin}`);
}

/** Root inside a user namespace (a rootless container, `unshare -r`) is root in name only. */
export function checkNestedRoot(f: DoctorFacts): CheckResult | undefined {
  const map = f.processUidMap;
  if (f.mode !== 'root' || map.length === 0 || isInitialIdMap(map)) return undefined;
  const zero = map.find((r) => r.containerID === 0);
  const who = zero ? `host uid ${zero.hostID}` : 'no host uid';
  return check(
    'root',
    'warn',
    `skiff runs as uid 0 inside a user namespace (uid 0 is ${who}): root mode gets only that user's rights over the host's cgroups, devices and files`,
    'run skiff as the ordinary user instead, for rootless mode',
  );
}

/** Every check, in the order a user should fix them. */
export function runChecks(f: DoctorFacts): CheckResult[] {
  const nested = checkNestedRoot(f);
  return [
    ...(nested ? [nested] : []),
    checkNode(f),
    checkUserNamespaces(f),
    checkNamespaces(f),
    checkIdMapTool(f, f.newuidmap),
    checkIdMapTool(f, f.newgidmap),
    checkSubIds(f, 'subuid'),
    checkSubIds(f, 'subgid'),
    checkOverlay(f),
    checkCgroups(f),
    checkTun(f),
    checkNetworkTool(f),
    checkHelper(f),
  ];
}

/** doctor's exit code: 1 when a check fails, else 0. */
export function doctorExitCode(results: readonly CheckResult[]): number {
  return results.some((r) => r.Status === 'fail') ? 1 : 0;
}
