// Runs a seccomp classic-BPF program the way the kernel does, over one
// struct seccomp_data, for the instructions skiff's compiler emits (and
// refuses anything else, so a new kind of instruction cannot go untested).
import { BPF_ALU_AND_K, BPF_JMP_JA, BPF_JMP_JEQ_K, BPF_JMP_JGE_K, BPF_JMP_JGT_K, BPF_JMP_JSET_K, BPF_LD_W_ABS, BPF_RET_K, fromBytes } from '../../../lib/oci/seccomp/bpf.js';

export interface SeccompData {
  nr: number;
  arch: number;
  args?: bigint[];
}

function word(data: SeccompData, offset: number): number {
  if (offset === 0) return data.nr >>> 0;
  if (offset === 4) return data.arch >>> 0;
  if (offset === 8 || offset === 12) return 0; // instruction_pointer
  const i = (offset - 16) >> 3;
  if (offset < 16 || offset % 4 !== 0 || i > 5) throw new Error(`load outside seccomp_data: ${offset}`);
  const arg = BigInt.asUintN(64, data.args?.[i] ?? 0n);
  return Number(offset % 8 === 0 ? arg & 0xffffffffn : arg >> 32n);
}

/** The filter's return value (SECCOMP_RET_*) and how many instructions ran. */
export function runFilter(program: Buffer, data: SeccompData): { ret: number; steps: number } {
  const ins = fromBytes(program);
  let a = 0;
  let pc = 0;
  for (let steps = 1; ; steps++) {
    const i = ins[pc];
    if (!i) throw new Error(`fell off the end of the program at ${pc}`);
    let next = pc + 1;
    switch (i.code) {
      case BPF_LD_W_ABS:
        a = word(data, i.k);
        break;
      case BPF_ALU_AND_K:
        a = (a & i.k) >>> 0;
        break;
      case BPF_JMP_JA:
        next = pc + 1 + i.k;
        break;
      case BPF_JMP_JEQ_K:
        next = pc + 1 + (a === i.k ? i.jt : i.jf);
        break;
      case BPF_JMP_JGT_K:
        next = pc + 1 + (a > i.k ? i.jt : i.jf);
        break;
      case BPF_JMP_JGE_K:
        next = pc + 1 + (a >= i.k ? i.jt : i.jf);
        break;
      case BPF_JMP_JSET_K:
        next = pc + 1 + ((a & i.k) !== 0 ? i.jt : i.jf);
        break;
      case BPF_RET_K:
        return { ret: i.k >>> 0, steps };
      default:
        throw new Error(`instruction ${pc}: code 0x${i.code.toString(16)} is not one skiff emits`);
    }
    pc = next;
  }
}
