// Docker's seccomp profile format (moby's profiles/seccomp/default.json, the
// format `--security-opt seccomp=FILE` reads), validated: every error names
// the field, e.g. `syscalls[3].names[1]: unknown system call "kexec"`.
import { SkiffError } from '../../errors.js';
import { isKnownSyscallName } from './syscalls.js';

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG';

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export interface SeccompArg {
  index: number;
  /** For SCMP_CMP_MASKED_EQ the mask; else the value compared with. */
  value: number;
  /** For SCMP_CMP_MASKED_EQ the value the masked argument must equal. */
  valueTwo: number;
  op: SeccompOperator;
}

/** When a rule applies (both sets must hold): Docker's includes / excludes. */
export interface SeccompFilterCondition {
  /** includes: all of these; excludes: any of these. */
  caps: string[];
  /** Go's names: amd64, x86, x32, arm64… */
  arches: string[];
  /** "5.8": the running kernel at least (includes) or below (excludes). */
  minKernel?: string;
}

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  /** For SCMP_ACT_ERRNO (default EPERM) and SCMP_ACT_TRACE (default 0). */
  errnoRet?: number;
  args: SeccompArg[];
  includes: SeccompFilterCondition;
  excludes: SeccompFilterCondition;
  /** Where the rule came from, for messages: "syscalls[3]". */
  field: string;
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  /** SCMP_ARCH_* names the filter covers besides the native one. */
  architectures: string[];
  syscalls: SeccompRule[];
}

const ACTIONS = new Set<string>([
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
]);
const OPERATORS = new Set<string>(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);

/** libseccomp's architecture names. Only the x86 ones matter on this host; the others are accepted and ignored, as a profile written for many hosts lists them. */
export const SCMP_ARCHES = new Set([
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
]);

/** Go's GOARCH names, as includes.arches / excludes.arches spell them. */
const GO_ARCHES = new Set([
  '386',
  'x86',
  'amd64',
  'x32',
  'arm',
  'arm64',
  'loong64',
  'm68k',
  'mips',
  'mipsle',
  'mips64',
  'mips64le',
  'mips64n32',
  'mips64len32',
  'ppc',
  'ppc64',
  'ppc64le',
  'riscv64',
  's390',
  's390x',
  'parisc',
  'parisc64',
  'sh',
  'sheb',
]);

/** The x86 family's names in includes/excludes.arches: rules gated to other arches never apply here. */
export const X86_GO_ARCHES = new Set(['amd64', 'x86', '386', 'x32']);

const MAX_ERRNO = 4095;

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Context {
  source: string;
}

function fail(ctx: Context, field: string, message: string): never {
  throw new SkiffError(`seccomp profile ${ctx.source}: ${field}: ${message}`);
}

function checkKeys(ctx: Context, field: string, obj: Record<string, Json>, known: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) fail(ctx, field ? `${field}.${key}` : key, `unknown field (known: ${known.join(', ')})`);
  }
}

function stringList(ctx: Context, field: string, v: Json): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(ctx, field, 'must be a list of strings');
  return v.map((item, i) => {
    if (typeof item !== 'string') fail(ctx, `${field}[${i}]`, 'must be a string');
    return item;
  });
}

function action(ctx: Context, field: string, v: Json): SeccompAction {
  if (typeof v !== 'string') fail(ctx, field, 'must be a string such as "SCMP_ACT_ERRNO"');
  if (v === 'SCMP_ACT_NOTIFY') fail(ctx, field, 'SCMP_ACT_NOTIFY needs a seccomp agent, which skiff does not run');
  if (!ACTIONS.has(v)) fail(ctx, field, `unknown action "${v}" (known: ${[...ACTIONS].join(', ')})`);
  return v as SeccompAction;
}

function errnoValue(ctx: Context, field: string, v: Json): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ERRNO) fail(ctx, field, `must be an errno number from 0 to ${MAX_ERRNO}`);
  return v;
}

/** An argument value: JSON numbers are exact only up to 2^53, so larger ones are refused rather than silently rounded. */
function argValue(ctx: Context, field: string, v: Json): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(ctx, field, 'must be a whole number from 0 to 2^53-1');
  if (!Number.isSafeInteger(v)) fail(ctx, field, `${v} is beyond what a JSON number holds exactly (2^53-1)`);
  return v;
}

function condition(ctx: Context, field: string, v: Json): SeccompFilterCondition {
  if (v === undefined || v === null) return { caps: [], arches: [] };
  if (!isObject(v)) fail(ctx, field, 'must be an object');
  checkKeys(ctx, field, v, ['caps', 'arches', 'minKernel']);
  const caps = stringList(ctx, `${field}.caps`, v['caps']);
  caps.forEach((c, i) => {
    if (!/^CAP_[A-Z_]+$/.test(c)) fail(ctx, `${field}.caps[${i}]`, `"${c}" is not a capability name (CAP_…)`);
  });
  const arches = stringList(ctx, `${field}.arches`, v['arches']);
  arches.forEach((a, i) => {
    if (!GO_ARCHES.has(a)) fail(ctx, `${field}.arches[${i}]`, `unknown architecture "${a}" (Go's names: amd64, x86, x32, arm64…)`);
  });
  const minKernel = v['minKernel'];
  if (minKernel !== undefined && minKernel !== null && minKernel !== '') {
    if (typeof minKernel !== 'string' || !/^\d+\.\d+(\.\d+)?$/.test(minKernel)) fail(ctx, `${field}.minKernel`, 'must be a kernel version such as "5.8"');
    return { caps, arches, minKernel };
  }
  return { caps, arches };
}

/** Whether a rule can apply on an x86 host at all (rules for arm64 or s390x name their own system calls). */
function appliesToX86(includes: SeccompFilterCondition, excludes: SeccompFilterCondition): boolean {
  if (includes.arches.length > 0 && !includes.arches.some((a) => X86_GO_ARCHES.has(a))) return false;
  return !excludes.arches.includes('amd64');
}

function rule(ctx: Context, field: string, v: Json): SeccompRule {
  if (!isObject(v)) fail(ctx, field, 'must be an object');
  checkKeys(ctx, field, v, ['name', 'names', 'action', 'errnoRet', 'args', 'comment', 'includes', 'excludes']);
  const named: [string, string][] = stringList(ctx, `${field}.names`, v['names']).map((n, i) => [n, `${field}.names[${i}]`]);
  if (v['name'] !== undefined) {
    if (typeof v['name'] !== 'string') fail(ctx, `${field}.name`, 'must be a string');
    named.push([v['name'], `${field}.name`]);
  }
  if (named.length === 0) fail(ctx, `${field}.names`, 'names no system call');
  const includes = condition(ctx, `${field}.includes`, v['includes']);
  const excludes = condition(ctx, `${field}.excludes`, v['excludes']);
  if (appliesToX86(includes, excludes)) {
    for (const [n, f] of named) if (!isKnownSyscallName(n)) fail(ctx, f, `unknown system call "${n}"`);
  }
  const names = named.map(([n]) => n);
  const act = action(ctx, `${field}.action`, v['action']);
  const errnoRet = errnoValue(ctx, `${field}.errnoRet`, v['errnoRet']);
  if (errnoRet !== undefined && act !== 'SCMP_ACT_ERRNO' && act !== 'SCMP_ACT_TRACE') fail(ctx, `${field}.errnoRet`, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one, not ${act}`);
  const argsJson = v['args'];
  if (argsJson !== undefined && argsJson !== null && !Array.isArray(argsJson)) fail(ctx, `${field}.args`, 'must be a list');
  const args = (argsJson ?? []).map((a: Json, i: number): SeccompArg => {
    const f = `${field}.args[${i}]`;
    if (!isObject(a)) fail(ctx, f, 'must be an object');
    checkKeys(ctx, f, a, ['index', 'value', 'valueTwo', 'op']);
    const index = a['index'];
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) fail(ctx, `${f}.index`, 'must be 0 to 5');
    const op = a['op'];
    if (typeof op !== 'string' || !OPERATORS.has(op)) fail(ctx, `${f}.op`, `unknown operator ${JSON.stringify(op)} (known: ${[...OPERATORS].join(', ')})`);
    return { index, op: op as SeccompOperator, value: argValue(ctx, `${f}.value`, a['value']), valueTwo: argValue(ctx, `${f}.valueTwo`, a['valueTwo']) };
  });
  return { names, action: act, ...(errnoRet !== undefined ? { errnoRet } : {}), args, includes, excludes, field };
}

/** Validates a profile already parsed from JSON; `source` names it in errors (a file name). */
export function validateSeccompProfile(json: Json, source: string): SeccompProfile {
  const ctx: Context = { source };
  if (!isObject(json)) fail(ctx, '(top level)', 'must be a JSON object');
  checkKeys(ctx, '', json, ['defaultAction', 'defaultErrnoRet', 'architectures', 'archMap', 'syscalls', 'listenerPath', 'listenerMetadata', 'flags']);
  if (json['listenerPath'] !== undefined && json['listenerPath'] !== '') fail(ctx, 'listenerPath', 'a seccomp agent (SCMP_ACT_NOTIFY) is not supported by skiff');
  const flags = stringList(ctx, 'flags', json['flags']);
  flags.forEach((f, i) => fail(ctx, `flags[${i}]`, `"${f}" is not supported by skiff`));
  const defaultAction = action(ctx, 'defaultAction', json['defaultAction']);
  const defaultErrnoRet = errnoValue(ctx, 'defaultErrnoRet', json['defaultErrnoRet']);
  const architectures = stringList(ctx, 'architectures', json['architectures']);
  architectures.forEach((a, i) => {
    if (!SCMP_ARCHES.has(a)) fail(ctx, `architectures[${i}]`, `unknown architecture "${a}" (SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32…)`);
  });
  const archMap = json['archMap'];
  if (archMap !== undefined && archMap !== null) {
    if (!Array.isArray(archMap)) fail(ctx, 'archMap', 'must be a list');
    archMap.forEach((entry: Json, i: number) => {
      const f = `archMap[${i}]`;
      if (!isObject(entry)) fail(ctx, f, 'must be an object');
      checkKeys(ctx, f, entry, ['architecture', 'subArchitectures']);
      const arch = entry['architecture'];
      if (typeof arch !== 'string' || !SCMP_ARCHES.has(arch)) fail(ctx, `${f}.architecture`, `unknown architecture ${JSON.stringify(arch)}`);
      const subs = stringList(ctx, `${f}.subArchitectures`, entry['subArchitectures']);
      subs.forEach((s, j) => {
        if (!SCMP_ARCHES.has(s)) fail(ctx, `${f}.subArchitectures[${j}]`, `unknown architecture "${s}"`);
      });
      // As Docker reads it: the native architecture's entry brings its sub-architectures.
      if (arch === 'SCMP_ARCH_X86_64') architectures.push(arch, ...subs);
    });
  }
  const syscallsJson = json['syscalls'];
  if (syscallsJson !== undefined && syscallsJson !== null && !Array.isArray(syscallsJson)) fail(ctx, 'syscalls', 'must be a list');
  const syscalls = (syscallsJson ?? []).map((r: Json, i: number) => rule(ctx, `syscalls[${i}]`, r));
  return { defaultAction, ...(defaultErrnoRet !== undefined ? { defaultErrnoRet } : {}), architectures: [...new Set(architectures)], syscalls };
}

/** Parses and validates a profile's text (a file's content). */
export function parseSeccompProfile(text: string, source: string): SeccompProfile {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SkiffError(`seccomp profile ${source}: not valid JSON: ${(err as Error).message}`);
  }
  return validateSeccompProfile(json, source);
}
