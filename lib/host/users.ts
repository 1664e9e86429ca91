// Users by name or number, as getent(1) sees them (so LDAP/SSSD users count),
// falling back to /etc/passwd.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { currentUser } from './subids.js';
import { readText } from './system.js';
import { PROBE_PATH, findProgram } from './programs.js';

export interface HostUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** One passwd(5) line. */
export function parsePasswdLine(line: string): HostUser | undefined {
  const f = line.split(':');
  if (f.length < 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || f[2] === '' || f[3] === '') return undefined;
  return { name: f[0]!, uid, gid, home: f[5]! };
}

/** A user by name, or by number when `spec` is all digits. */
export function lookupUser(spec: string): HostUser | undefined {
  const getent = findProgram('getent', process.env['PATH']);
  if (getent) {
    try {
      const out = execFileSync(getent, ['passwd', spec], { encoding: 'utf8', env: { PATH: PROBE_PATH }, timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] });
      const user = parsePasswdLine(out.trim().split('\n')[0] ?? '');
      if (user) return user;
    } catch {
      // exit 2: no such user; fall through to the file for other failures
    }
  }
  for (const line of (readText('/etc/passwd') ?? '').split('\n')) {
    const user = parsePasswdLine(line);
    if (user && (user.name === spec || String(user.uid) === spec)) return user;
  }
  return undefined;
}

/** The user running skiff; home from $HOME, as XDG tools do, else the passwd entry. */
export function selfUser(): HostUser {
  const u = currentUser();
  const envHome = process.env['HOME'];
  return { name: u.name, uid: u.uid, gid: u.gid, home: envHome && envHome.startsWith('/') ? envHome : os.homedir() };
}

/** The groups a user belongs to: their own from the kernel when it is us, else group(5). */
export function userGroups(user: HostUser, self: boolean): number[] {
  if (self && process.getgroups) return [...new Set([user.gid, ...process.getgroups()])];
  const groups = new Set([user.gid]);
  for (const line of (readText('/etc/group') ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && f[3]!.split(',').includes(user.name)) groups.add(Number(f[2]));
  }
  return [...groups];
}
