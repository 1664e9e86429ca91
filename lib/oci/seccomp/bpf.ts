// Classic BPF, as seccomp runs it (linux/filter.h, linux/bpf_common.h): a
// small assembler with labels. Conditional jumps reach at most 255
// instructions ahead; the assembler routes longer ones through `ja`, which
// reaches any distance.

export const BPF_LD_W_ABS = 0x20; // A = *(u32 *)(seccomp_data + k)
export const BPF_ALU_AND_K = 0x54; // A &= k
export const BPF_JMP_JA = 0x05; // pc += k
export const BPF_JMP_JEQ_K = 0x15; // pc += (A == k) ? jt : jf
export const BPF_JMP_JGT_K = 0x25; // unsigned A > k
export const BPF_JMP_JGE_K = 0x35; // unsigned A >= k
export const BPF_JMP_JSET_K = 0x45; // (A & k) != 0
export const BPF_RET_K = 0x06; // return k

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAX_INSTRUCTIONS = 4096;

/** struct sock_filter. */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export type Label = { readonly id: number };

type Item =
  | { kind: 'label'; label: Label }
  | { kind: 'plain'; code: number; k: number }
  | { kind: 'jump'; code: number; k: number; jt: Label; jf: Label }
  | { kind: 'ja'; target: Label };

type JumpOp = 'jeq' | 'jgt' | 'jge' | 'jset';
const JUMP_CODES: Record<JumpOp, number> = { jeq: BPF_JMP_JEQ_K, jgt: BPF_JMP_JGT_K, jge: BPF_JMP_JGE_K, jset: BPF_JMP_JSET_K };

export class BpfAssembler {
  private items: Item[] = [];
  private nextLabel = 0;

  label(): Label {
    return { id: this.nextLabel++ };
  }

  /** The next instruction emitted is where `label` points. */
  place(label: Label): void {
    this.items.push({ kind: 'label', label });
  }

  load(offset: number): void {
    this.items.push({ kind: 'plain', code: BPF_LD_W_ABS, k: offset });
  }

  and(mask: number): void {
    this.items.push({ kind: 'plain', code: BPF_ALU_AND_K, k: mask >>> 0 });
  }

  jump(op: JumpOp, k: number, jt: Label, jf: Label): void {
    this.items.push({ kind: 'jump', code: JUMP_CODES[op], k: k >>> 0, jt, jf });
  }

  goto(target: Label): void {
    this.items.push({ kind: 'ja', target });
  }

  ret(k: number): void {
    this.items.push({ kind: 'plain', code: BPF_RET_K, k: k >>> 0 });
  }

  /** Resolves labels; conditional jumps too far for 8 bits go through `ja` trampolines placed right after them. */
  assemble(): BpfInstruction[] {
    let items = this.items;
    for (;;) {
      const at = positions(items);
      const far: { index: number; jt: boolean; jf: boolean }[] = [];
      items.forEach((item, i) => {
        if (item.kind !== 'jump') return;
        const jt = offset(at, item.jt, i) > 255;
        const jf = offset(at, item.jf, i) > 255;
        if (jt || jf) far.push({ index: i, jt, jf });
      });
      if (far.length === 0) return encode(items, at);
      const next = [...items];
      // From the end, so earlier indices stay valid. A conditional jump never
      // falls through, so code placed right after it runs only when jumped to.
      for (const { index, jt, jf } of far.reverse()) {
        const jump = next[index] as Extract<Item, { kind: 'jump' }>;
        const rewritten = { ...jump };
        const trampolines: Item[] = [];
        if (jt) {
          rewritten.jt = this.label();
          trampolines.push({ kind: 'label', label: rewritten.jt }, { kind: 'ja', target: jump.jt });
        }
        if (jf && jt && jump.jf.id === jump.jt.id) rewritten.jf = rewritten.jt;
        else if (jf) {
          rewritten.jf = this.label();
          trampolines.push({ kind: 'label', label: rewritten.jf }, { kind: 'ja', target: jump.jf });
        }
        next.splice(index, 1, rewritten, ...trampolines);
      }
      items = next;
    }
  }
}

/** Instruction index of each label and of each instruction item. */
function positions(items: Item[]): { labels: Map<number, number>; index: number[] } {
  const labels = new Map<number, number>();
  const index: number[] = [];
  let pc = 0;
  for (const item of items) {
    index.push(pc);
    if (item.kind === 'label') labels.set(item.label.id, pc);
    else pc++;
  }
  return { labels, index };
}

function offset(at: ReturnType<typeof positions>, label: Label, itemIndex: number): number {
  const target = at.labels.get(label.id);
  if (target === undefined) throw new Error(`BPF label ${label.id} was never placed`);
  const d = target - at.index[itemIndex]! - 1;
  if (d < 0) throw new Error('BPF jumps only go forward');
  return d;
}

function encode(items: Item[], at: ReturnType<typeof positions>): BpfInstruction[] {
  const out: BpfInstruction[] = [];
  items.forEach((item, i) => {
    if (item.kind === 'label') return;
    if (item.kind === 'plain') out.push({ code: item.code, jt: 0, jf: 0, k: item.k });
    else if (item.kind === 'ja') out.push({ code: BPF_JMP_JA, jt: 0, jf: 0, k: offset(at, item.target, i) });
    else out.push({ code: item.code, jt: offset(at, item.jt, i), jf: offset(at, item.jf, i), k: item.k });
  });
  return out;
}

/** struct sock_filter[] as the kernel reads it (little-endian x86). */
export function toBytes(program: BpfInstruction[]): Buffer {
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    buf.writeUInt16LE(ins.code, i * 8);
    buf.writeUInt8(ins.jt, i * 8 + 2);
    buf.writeUInt8(ins.jf, i * 8 + 3);
    buf.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return buf;
}

export function fromBytes(buf: Buffer): BpfInstruction[] {
  const out: BpfInstruction[] = [];
  for (let off = 0; off + 8 <= buf.length; off += 8) {
    out.push({ code: buf.readUInt16LE(off), jt: buf.readUInt8(off + 2), jf: buf.readUInt8(off + 3), k: buf.readUInt32LE(off + 4) });
  }
  return out;
}
