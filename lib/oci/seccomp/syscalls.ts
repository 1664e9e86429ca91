// System call numbers by ABI, from the generated table (syscall-table.ts).
import { GENERIC_SYSCALLS, I386_SYSCALLS, X32_SYSCALLS, X86_64_SYSCALLS } from './syscall-table.js';

/** The ABIs a filter on an x86_64 host sees, as the kernel names them in seccomp_data.arch. */
export type Abi = 'x86_64' | 'i386' | 'x32';

/** AUDIT_ARCH_* from linux/audit.h: EM_X86_64 | 64BIT | LE, EM_386 | LE. x32 reports x86_64. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
/** x32 system calls arrive as x86_64 ones with this bit in the number. */
export const X32_SYSCALL_BIT = 0x40000000;

function parse(table: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const pair of table.split(' ')) {
    const colon = pair.indexOf(':');
    map.set(pair.slice(0, colon), parseInt(pair.slice(colon + 1), 16));
  }
  return map;
}

const cache = new Map<string, Map<string, number>>();

function table(key: Abi | 'generic'): Map<string, number> {
  let t = cache.get(key);
  if (!t) {
    t = parse(key === 'x86_64' ? X86_64_SYSCALLS : key === 'i386' ? I386_SYSCALLS : key === 'x32' ? X32_SYSCALLS : GENERIC_SYSCALLS);
    cache.set(key, t);
  }
  return t;
}

/** name -> number for one ABI (x32 numbers include X32_SYSCALL_BIT). */
export function syscallTable(abi: Abi): ReadonlyMap<string, number> {
  return table(abi);
}

/** A name some Linux ABI this table knows has: x86's three, or asm-generic's (arm64, riscv64…). */
export function isKnownSyscallName(name: string): boolean {
  return table('x86_64').has(name) || table('i386').has(name) || table('x32').has(name) || table('generic').has(name);
}
