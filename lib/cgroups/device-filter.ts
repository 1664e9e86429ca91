// cgroup v2 has no devices controller: the rules of a container's device
// cgroup are an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to
// its cgroup directory, which the kernel runs at every open and mknod of a
// device node by a process in it (as runc and crun do). This file compiles
// linux.resources.devices (runtime-spec, the same rules cgroup v1's
// devices.allow/deny take) into that program's instructions; the helper
// loads and attaches it (cgroup.c). Pure: no syscall here.
//
// The program sees struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
// u32 minor; }, access_type = (access << 16) | type, and allows with 1.
// As in cgroup v1, a later rule overrides an earlier one: the rules are
// tested last first, the first that matches decides, and none matching
// denies.
import type { OciDeviceCgroupRule } from '../oci/spec/devices.js';

/** linux/bpf.h: BPF_DEVCG_DEV_* and BPF_DEVCG_ACC_*. */
const DEV_TYPE = { b: 1, c: 2 } as const;
const ACCESS = { m: 1, r: 2, w: 4 } as const;

// eBPF opcodes (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K = 0x54;
const ALU32_RSH_K = 0x74;
const ALU32_MOV_K = 0xb4;
const ALU32_MOV_X = 0xbc;
const JMP_JNE_K = 0x55;
const JMP_JNE_X = 0x5d;
const EXIT = 0x95;

const R0 = 0;
const R1 = 1; // the context on entry; a scratch register once it is read
const TYPE = 2;
const ACC = 3;
const MAJOR = 4;
const MINOR = 5;

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

function accessMask(access: string): number {
  let mask = 0;
  for (const c of access) mask |= ACCESS[c as keyof typeof ACCESS] ?? 0;
  return mask;
}

/** One rule's test: jumps past itself (to the next rule) unless the access matches it, then returns its verdict. */
function ruleBlock(rule: OciDeviceCgroupRule): Insn[] {
  // Each test ends with a jump to the end of the block, filled in below.
  const tests: Insn[][] = [];
  if (rule.type !== undefined && rule.type !== 'a') tests.push([insn(JMP_JNE_K, TYPE, 0, 0, DEV_TYPE[rule.type])]);
  const mask = accessMask(rule.access);
  if (mask !== 7) {
    // Every access asked for must be one the rule names: (access & mask) == access.
    tests.push([insn(ALU32_MOV_X, R1, ACC, 0, 0), insn(ALU32_AND_K, R1, 0, 0, mask), insn(JMP_JNE_X, R1, ACC, 0, 0)]);
  }
  if (rule.major !== undefined) tests.push([insn(JMP_JNE_K, MAJOR, 0, 0, rule.major)]);
  if (rule.minor !== undefined) tests.push([insn(JMP_JNE_K, MINOR, 0, 0, rule.minor)]);
  const verdict = [insn(ALU32_MOV_K, R0, 0, 0, rule.allow ? 1 : 0), insn(EXIT, 0, 0, 0, 0)];
  const length = tests.reduce((n, t) => n + t.length, 0) + verdict.length;
  const out: Insn[] = [];
  for (const t of tests) {
    out.push(...t);
    // The jump's offset counts from the instruction after it.
    out[out.length - 1] = { ...out[out.length - 1]!, off: length - out.length };
  }
  return [...out, ...verdict];
}

/** The program for `rules` (runtime-spec order: later rules override earlier ones), as struct bpf_insn[] bytes. */
export function compileDeviceFilter(rules: readonly OciDeviceCgroupRule[]): Buffer {
  const program: Insn[] = [
    insn(LDX_MEM_W, TYPE, R1, 0, 0),
    insn(ALU32_AND_K, TYPE, 0, 0, 0xffff),
    insn(LDX_MEM_W, ACC, R1, 0, 0),
    insn(ALU32_RSH_K, ACC, 0, 0, 16),
    insn(LDX_MEM_W, MAJOR, R1, 4, 0),
    insn(LDX_MEM_W, MINOR, R1, 8, 0),
  ];
  for (const rule of [...rules].reverse()) {
    program.push(...ruleBlock(rule));
    // A rule that matches every access ends the program: nothing after it can be reached.
    if ((rule.type === undefined || rule.type === 'a') && rule.major === undefined && rule.minor === undefined && accessMask(rule.access) === 7) return encode(program);
  }
  program.push(insn(ALU32_MOV_K, R0, 0, 0, 0), insn(EXIT, 0, 0, 0, 0));
  return encode(program);
}

function encode(program: Insn[]): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((i, n) => {
    out.writeUInt8(i.code, n * 8);
    out.writeUInt8((i.src << 4) | i.dst, n * 8 + 1);
    out.writeInt16LE(i.off, n * 8 + 2);
    out.writeInt32LE(i.imm | 0, n * 8 + 4);
  });
  return out;
}
