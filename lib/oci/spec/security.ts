// --cap-add/--cap-drop, --privileged and --security-opt as Docker and Podman
// read them: pure parsing, no files (a seccomp profile is read by the caller).
import { SkiffError } from '../../errors.js';
import { CAPABILITY_NUMBERS, DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from './defaults.js';

export const ALL_CAPABILITIES = Object.keys(CAPABILITY_NUMBERS);

/** "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" are one capability; "all" is ALL. */
export function normalizeCapability(name: string, flag: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (CAPABILITY_NUMBERS[full] === undefined) throw new SkiffError(`${flag}: unknown capability "${name}" (see capabilities(7); ALL means every one)`);
  return full;
}

/**
 * The bounding set, as Docker computes it: --privileged gets all; cap-add ALL
 * gets all but the dropped; cap-drop ALL gets only the added; otherwise the
 * default set minus the dropped plus the added (an added one wins).
 */
export function resolveCapabilities(capAdd: string[], capDrop: string[], privileged: boolean): string[] {
  if (privileged) return [...ALL_CAPABILITIES];
  const add = capAdd.map((c) => normalizeCapability(c, '--cap-add'));
  const drop = capDrop.map((c) => normalizeCapability(c, '--cap-drop'));
  let caps: string[];
  if (add.includes('ALL')) caps = ALL_CAPABILITIES.filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) caps = add;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps)].sort((a, b) => CAPABILITY_NUMBERS[a]! - CAPABILITY_NUMBERS[b]!);
}

export type SeccompChoice = { kind: 'default' } | { kind: 'unconfined' } | { kind: 'file'; path: string };

export interface SecurityOptions {
  seccomp: SeccompChoice;
  /** undefined: skiff's default (on). */
  noNewPrivileges?: boolean;
  /** mask=: paths hidden in addition to the defaults. */
  mask: string[];
  /** unmask=: default masked or read-only paths (globs with *) to leave alone; ALL for every one. */
  unmask: string[];
}

function parseBool(opt: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new SkiffError(`invalid --security-opt "${opt}": expected true or false`);
}

function pathList(opt: string, value: string): string[] {
  const paths = value.split(':').filter((p) => p !== '');
  if (paths.length === 0) throw new SkiffError(`invalid --security-opt "${opt}": give one or more absolute paths separated by ':'`);
  for (const p of paths) {
    if (!p.startsWith('/') && p !== 'ALL') throw new SkiffError(`invalid --security-opt "${opt}": "${p}" is not an absolute path`);
  }
  return paths;
}

/**
 * --security-opt values, Docker's and Podman's: seccomp=unconfined|FILE,
 * no-new-privileges[=true|false], label=disable, apparmor=unconfined,
 * systempaths=unconfined, mask=PATHS, unmask=ALL|PATHS. Docker's old
 * "KEY:VALUE" spelling is accepted too.
 */
export function parseSecurityOptions(opts: string[]): SecurityOptions {
  const out: SecurityOptions = { seccomp: { kind: 'default' }, mask: [], unmask: [] };
  for (const opt of opts) {
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt);
    const key = m?.[1] ?? '';
    const value = m?.[2];
    switch (key) {
      case 'seccomp':
        if (!value) throw new SkiffError(`invalid --security-opt "${opt}": use seccomp=unconfined or seccomp=FILE (a profile in Docker's JSON format)`);
        out.seccomp = value === 'unconfined' ? { kind: 'unconfined' } : { kind: 'file', path: value };
        break;
      case 'no-new-privileges':
        out.noNewPrivileges = value === undefined ? true : parseBool(opt, value);
        break;
      case 'label':
        // skiff applies no SELinux labels; disabling them is what it does already.
        if (value !== 'disable') throw new SkiffError(`invalid --security-opt "${opt}": skiff applies no SELinux labels, so only label=disable is accepted`);
        break;
      case 'apparmor':
        if (value !== 'unconfined') throw new SkiffError(`invalid --security-opt "${opt}": skiff loads no AppArmor profiles, so only apparmor=unconfined is accepted`);
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw new SkiffError(`invalid --security-opt "${opt}": only systempaths=unconfined is known`);
        out.unmask.push('ALL');
        break;
      case 'mask':
        out.mask.push(...pathList(opt, value ?? ''));
        break;
      case 'unmask':
        out.unmask.push(...pathList(opt, value ?? ''));
        break;
      default:
        throw new SkiffError(
          `invalid --security-opt "${opt}": expected seccomp=, no-new-privileges, label=disable, apparmor=unconfined, systempaths=unconfined, mask= or unmask=`,
        );
    }
  }
  return out;
}

/** A glob with * (Podman's unmask=/proc/*), anchored, as a test of one path. */
function globMatches(pattern: string, path: string): boolean {
  if (pattern === 'ALL') return true;
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  return re.test(path);
}

/** The masked and read-only paths after --privileged, mask= and unmask=. */
export function resolveSystemPaths(options: Pick<SecurityOptions, 'mask' | 'unmask'>, privileged: boolean): { masked: string[]; readonly: string[] } {
  if (privileged) return { masked: [...options.mask], readonly: [] };
  const kept = (p: string) => !options.unmask.some((u) => globMatches(u, p));
  const masked = [...MASKED_PATHS.filter(kept), ...options.mask.filter((p) => !MASKED_PATHS.includes(p))];
  return { masked, readonly: READONLY_PATHS.filter(kept) };
}
