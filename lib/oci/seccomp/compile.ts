// Docker's profile -> the OCI config's linux.seccomp -> a classic BPF program
// the helper loads (design.md decision 13: no libseccomp). Pure functions.
//
// Semantics, as Docker and runc give them:
// - a rule applies when the container holds all of includes.caps and none of
//   excludes.caps, the host's architecture (amd64) passes includes/excludes.arches,
//   and the kernel passes minKernel; Docker resolves these when it creates the
//   container, so config.json holds only the rules that apply;
// - a system call a rule names is filtered on each ABI that has it (x86_64,
//   i386 for `int 0x80`, x32), by that ABI's own number; an ABI the profile
//   does not list is killed outright, so no 32-bit call slips past 64-bit rules;
// - for one system call, rules with argument conditions are tried in order and
//   the first whose conditions all hold gives the action; otherwise its rule
//   without conditions does, otherwise the default action;
// - a number no ABI table names (newer than the table, or a gap) returns
//   ENOSYS, as runc's newer filters do, so that libc falls back to older calls.
import { BPF_MAX_INSTRUCTIONS, BpfAssembler, toBytes, type Label } from './bpf.js';
import type { SeccompAction, SeccompArg, SeccompProfile, SeccompRule } from './profile.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, syscallTable, type Abi } from './syscalls.js';
import { SkiffError } from '../../errors.js';

/** The OCI runtime-spec's linux.seccomp (config.json), as skiff writes it. */
export interface OciSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: OciSeccompRule[];
}

export interface OciSeccompRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface ResolveContext {
  /** The container's bounding set, CAP_ names. */
  capabilities: readonly string[];
  /** The running kernel's release (os.release()), for minKernel. */
  kernelRelease: string;
}

// SECCOMP_RET_* (linux/seccomp.h).
const RET_KILL_PROCESS = 0x80000000;
const RET_KILL_THREAD = 0x00000000;
const RET_TRAP = 0x00030000;
const RET_ERRNO = 0x00050000;
const RET_TRACE = 0x7ff00000;
const RET_LOG = 0x7ffc0000;
const RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

// struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
const DATA_NR = 0;
const DATA_ARCH = 4;
const dataArgLow = (i: number) => 16 + 8 * i;
const dataArgHigh = (i: number) => 20 + 8 * i;

function kernelVersion(release: string): number[] {
  return (/^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release) ?? []).slice(1).map((n) => Number(n ?? 0));
}

function atLeast(release: string, min: string): boolean {
  const have = kernelVersion(release);
  const want = kernelVersion(min);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== (want[i] ?? 0)) return (have[i] ?? 0) > (want[i] ?? 0);
  }
  return true;
}

function ruleApplies(rule: SeccompRule, ctx: ResolveContext): boolean {
  const caps = new Set(ctx.capabilities);
  const { includes, excludes } = rule;
  if (!includes.caps.every((c) => caps.has(c))) return false;
  if (excludes.caps.some((c) => caps.has(c))) return false;
  if (includes.arches.length > 0 && !includes.arches.includes('amd64')) return false;
  if (excludes.arches.includes('amd64')) return false;
  if (includes.minKernel && !atLeast(ctx.kernelRelease, includes.minKernel)) return false;
  if (excludes.minKernel && atLeast(ctx.kernelRelease, excludes.minKernel)) return false;
  return true;
}

const X86_ARCHES = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

/**
 * The rules that apply to this container, in the OCI form config.json keeps.
 * Two rules without conditions that give one system call different actions
 * are refused here, where the profile's fields can be named.
 */
export function resolveSeccompProfile(profile: SeccompProfile, ctx: ResolveContext): OciSeccomp {
  const applying = profile.syscalls.filter((r) => ruleApplies(r, ctx));
  const unconditional = new Map<string, SeccompRule>();
  for (const rule of applying) {
    if (rule.args.length > 0) continue;
    for (const name of rule.names) {
      const earlier = unconditional.get(name);
      if (earlier && retValue(earlier.action, earlier.errnoRet) !== retValue(rule.action, rule.errnoRet)) {
        throw new SkiffError(`seccomp profile: ${earlier.field} and ${rule.field} give "${name}" different actions (${earlier.action}, ${rule.action})`);
      }
      unconditional.set(name, rule);
    }
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures: X86_ARCHES.filter((a) => a === 'SCMP_ARCH_X86_64' || profile.architectures.includes(a)),
    syscalls: applying.map((r) => ({
      names: r.names,
      action: r.action,
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
      ...(r.args.length > 0 ? { args: r.args } : {}),
    })),
  };
}

function retValue(action: SeccompAction, errno: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return RET_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return RET_KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return RET_TRAP;
    case 'SCMP_ACT_ERRNO':
      return (RET_ERRNO | (errno ?? EPERM)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (RET_TRACE | (errno ?? EPERM)) >>> 0;
    case 'SCMP_ACT_LOG':
      return RET_LOG;
    case 'SCMP_ACT_ALLOW':
      return RET_ALLOW;
  }
}

/** What one system call number gets: rules with conditions in order, then a plain return. */
interface Decision {
  conditional: { args: SeccompArg[]; ret: number }[];
  ret: number;
}

/** A run of numbers [start, end] (inclusive) with the same decision. */
interface Interval {
  start: number;
  end: number;
  decision: Decision;
}

const ABI_RANGES: Record<Abi, { start: number; end: number }> = {
  x86_64: { start: 0, end: X32_SYSCALL_BIT - 1 },
  x32: { start: X32_SYSCALL_BIT, end: 0xffffffff },
  i386: { start: 0, end: 0xffffffff },
};

function abiIntervals(seccomp: OciSeccomp, abi: Abi): Interval[] {
  const table = syscallTable(abi);
  const defaultRet = retValue(seccomp.defaultAction, seccomp.defaultErrnoRet);
  const permissive = seccomp.defaultAction === 'SCMP_ACT_ALLOW' || seccomp.defaultAction === 'SCMP_ACT_LOG';
  const unknownRet = permissive ? defaultRet : (RET_ERRNO | ENOSYS) >>> 0;

  const byNumber = new Map<number, { conditional: Decision['conditional']; ret?: number }>();
  for (const rule of seccomp.syscalls) {
    const ret = retValue(rule.action, rule.errnoRet);
    for (const name of rule.names) {
      const nr = table.get(name);
      if (nr === undefined) continue; // this ABI has no such call
      let d = byNumber.get(nr);
      if (!d) byNumber.set(nr, (d = { conditional: [] }));
      if (rule.args && rule.args.length > 0) d.conditional.push({ args: rule.args, ret });
      else if (d.ret !== undefined && d.ret !== ret) throw new SkiffError(`seccomp: two actions for "${name}" without conditions`);
      else d.ret = ret;
    }
  }
  const known = new Set(table.values());
  const { start, end } = ABI_RANGES[abi];
  const last = Math.max(...known);
  const intervals: Interval[] = [];
  const push = (nr: number, decision: Decision) => {
    const prev = intervals[intervals.length - 1];
    if (prev && prev.end === nr - 1 && decision.conditional.length === 0 && prev.decision.conditional.length === 0 && prev.decision.ret === decision.ret) prev.end = nr;
    else intervals.push({ start: nr, end: nr, decision });
  };
  for (let nr = start; nr <= last; nr++) {
    const d = byNumber.get(nr);
    const fallback = known.has(nr) ? defaultRet : unknownRet;
    push(nr, d ? { conditional: d.conditional, ret: d.ret ?? fallback } : { conditional: [], ret: fallback });
  }
  if (last < end) {
    push(last + 1, { conditional: [], ret: unknownRet });
    intervals[intervals.length - 1]!.end = end;
  }
  return intervals;
}

/** A is the system call number: a balanced search over the intervals, each leaf its decision. */
function emitSearch(asm: BpfAssembler, intervals: Interval[]): void {
  if (intervals.length === 1) {
    emitDecision(asm, intervals[0]!.decision);
    return;
  }
  const mid = intervals.length >> 1;
  const right = asm.label();
  const left = asm.label();
  asm.jump('jge', intervals[mid]!.start, right, left);
  asm.place(left);
  emitSearch(asm, intervals.slice(0, mid));
  asm.place(right);
  emitSearch(asm, intervals.slice(mid));
}

function emitDecision(asm: BpfAssembler, decision: Decision): void {
  for (const rule of decision.conditional) {
    const nextRule = asm.label();
    for (const arg of rule.args) {
      const pass = asm.label();
      emitComparison(asm, arg, pass, nextRule);
      asm.place(pass);
    }
    asm.ret(rule.ret);
    asm.place(nextRule);
  }
  asm.ret(decision.ret);
}

const TWO_32 = 2 ** 32;

/** One 64-bit comparison from two 32-bit halves: to `pass` when it holds, else to `fail`. */
function emitComparison(asm: BpfAssembler, arg: SeccompArg, pass: Label, fail: Label): void {
  const hi = (v: number) => Math.floor(v / TWO_32) >>> 0;
  const lo = (v: number) => v % TWO_32 >>> 0;
  const { index, value, valueTwo } = arg;
  const lowWord = asm.label();
  switch (arg.op) {
    case 'SCMP_CMP_EQ':
    case 'SCMP_CMP_NE': {
      const [yes, no] = arg.op === 'SCMP_CMP_EQ' ? [pass, fail] : [fail, pass];
      asm.load(dataArgHigh(index));
      asm.jump('jeq', hi(value), lowWord, no);
      asm.place(lowWord);
      asm.load(dataArgLow(index));
      asm.jump('jeq', lo(value), yes, no);
      return;
    }
    case 'SCMP_CMP_MASKED_EQ': {
      // (arg & value) == valueTwo
      asm.load(dataArgHigh(index));
      asm.and(hi(value));
      asm.jump('jeq', hi(valueTwo), lowWord, fail);
      asm.place(lowWord);
      asm.load(dataArgLow(index));
      asm.and(lo(value));
      asm.jump('jeq', lo(valueTwo), pass, fail);
      return;
    }
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE': {
      // GT/GE hold when the high word is greater, or equal and the low word compares; LT/LE are their negations.
      const greater = arg.op === 'SCMP_CMP_GT' || arg.op === 'SCMP_CMP_GE';
      const [yes, no] = greater ? [pass, fail] : [fail, pass];
      const highEqual = asm.label();
      asm.load(dataArgHigh(index));
      asm.jump('jgt', hi(value), yes, highEqual);
      asm.place(highEqual);
      asm.jump('jeq', hi(value), lowWord, no);
      asm.place(lowWord);
      asm.load(dataArgLow(index));
      // GT <=> low > v; GE <=> low >= v; LT = !GE; LE = !GT.
      asm.jump(arg.op === 'SCMP_CMP_GT' || arg.op === 'SCMP_CMP_LE' ? 'jgt' : 'jge', lo(value), yes, no);
      return;
    }
  }
}

/** config.json's linux.seccomp -> struct sock_filter[] for the helper. */
export function compileSeccomp(seccomp: OciSeccomp): Buffer {
  const asm = new BpfAssembler();
  const has = (arch: string) => seccomp.architectures.includes(arch);
  const x86_64 = asm.label();
  const i386 = asm.label();
  const x32 = asm.label();
  const killNext = asm.label();
  asm.load(DATA_ARCH);
  asm.jump('jeq', AUDIT_ARCH_X86_64, x86_64, killNext);
  asm.place(killNext);
  if (has('SCMP_ARCH_X86')) {
    const kill = asm.label();
    asm.jump('jeq', AUDIT_ARCH_I386, i386, kill);
    asm.place(kill);
  }
  // An ABI the profile does not cover (or an architecture this host never runs) is not let through.
  asm.ret(RET_KILL_PROCESS);

  asm.place(x86_64);
  asm.load(DATA_NR);
  const native = asm.label();
  const x32Denied = asm.label();
  asm.jump('jge', X32_SYSCALL_BIT, has('SCMP_ARCH_X32') ? x32 : x32Denied, native);
  asm.place(x32Denied);
  asm.ret(RET_KILL_PROCESS);
  asm.place(native);
  emitSearch(asm, abiIntervals(seccomp, 'x86_64'));
  if (has('SCMP_ARCH_X32')) {
    asm.place(x32);
    emitSearch(asm, abiIntervals(seccomp, 'x32'));
  }
  if (has('SCMP_ARCH_X86')) {
    asm.place(i386);
    asm.load(DATA_NR);
    emitSearch(asm, abiIntervals(seccomp, 'i386'));
  }
  const program = asm.assemble();
  if (program.length > BPF_MAX_INSTRUCTIONS) {
    throw new SkiffError(`the seccomp profile compiles to ${program.length} BPF instructions, more than the kernel's ${BPF_MAX_INSTRUCTIONS}`);
  }
  return toBytes(program);
}
