// cgroup v2's device filter: the eBPF program compileDeviceFilter makes from
// linux.resources.devices, run here by a small interpreter of the few
// instructions it uses (the kernel's verifier and the real run are the
// integration test's, 075-security), against cgroup v1's meaning of the same
// rules: a later rule overrides an earlier one, and nothing matching denies.
import { describe, expect, it } from 'vitest';
import { compileDeviceFilter } from '../../lib/cgroups/device-filter.js';
import { DEFAULT_DEVICE_RULES, deviceCgroupRules, parseDeviceCgroupRule, type OciDeviceCgroupRule } from '../../lib/oci/spec/devices.js';

type Access = 'm' | 'r' | 'w';
const TYPE = { b: 1, c: 2 } as const;
const ACC = { m: 1, r: 2, w: 4 } as const;

/** Runs the program on struct bpf_cgroup_dev_ctx; returns r0. Throws on an instruction the compiler should never emit. */
function run(program: Buffer, type: 'b' | 'c', access: Access[], major: number, minor: number): number {
  const ctx = [(access.reduce((a, x) => a | ACC[x], 0) << 16) | TYPE[type], major, minor];
  const r = new Array<number>(11).fill(0);
  r[1] = -1; // the context pointer: only loads from it are allowed
  const n = program.length / 8;
  for (let pc = 0, steps = 0; pc < n; pc++) {
    if (++steps > 10_000) throw new Error('no end');
    const code = program.readUInt8(pc * 8);
    const regs = program.readUInt8(pc * 8 + 1);
    const dst = regs & 0xf;
    const src = regs >> 4;
    const off = program.readInt16LE(pc * 8 + 2);
    const imm = program.readInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x61: // ldxw dst, [src+off]
        if (r[src] !== -1 || off % 4 !== 0 || off > 8) throw new Error(`bad load at ${pc}`);
        r[dst] = ctx[off / 4]!;
        break;
      case 0x54:
        r[dst] = (r[dst]! & imm) >>> 0;
        break;
      case 0x74:
        r[dst] = r[dst]! >>> imm;
        break;
      case 0xb4:
        r[dst] = imm >>> 0;
        break;
      case 0xbc:
        r[dst] = r[src]!;
        break;
      case 0x55:
        if (r[dst] !== imm >>> 0) pc += off;
        break;
      case 0x5d:
        if (r[dst] !== r[src]) pc += off;
        break;
      case 0x95:
        return r[0]!;
      default:
        throw new Error(`unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
    if (pc + 1 > n) throw new Error('jumped past the end');
  }
  throw new Error('fell off the end');
}

/** cgroup v1's answer for the same rules: the last matching rule decides; none: denied. */
function v1(rules: OciDeviceCgroupRule[], type: 'b' | 'c', access: Access[], major: number, minor: number): number {
  let verdict = 0;
  for (const rule of rules) {
    const typeOk = rule.type === undefined || rule.type === 'a' || rule.type === type;
    const accessOk = access.every((a) => rule.access.includes(a));
    if (typeOk && accessOk && (rule.major === undefined || rule.major === major) && (rule.minor === undefined || rule.minor === minor)) verdict = rule.allow ? 1 : 0;
  }
  return verdict;
}

describe('compileDeviceFilter', () => {
  const fuse = { type: 'c' as const, major: 10, minor: 229, permissions: 'r' };
  const rules = deviceCgroupRules([fuse], [parseDeviceCgroupRule('b 8:* rw'), parseDeviceCgroupRule('c 4:* w')], false);
  const program = compileDeviceFilter(rules);

  it('says what cgroup v1 says, for every kind of access to a spread of devices', () => {
    const accesses: Access[][] = [['m'], ['r'], ['w'], ['r', 'w'], ['m', 'r', 'w']];
    const devices: ['b' | 'c', number, number][] = [
      ['c', 1, 3], ['c', 1, 5], ['c', 1, 1], ['c', 5, 2], ['c', 136, 7], ['c', 10, 200], ['c', 10, 229], ['c', 4, 1],
      ['b', 8, 0], ['b', 8, 1], ['b', 7, 0], ['c', 8, 0], ['c', 0, 0],
    ];
    for (const [type, major, minor] of devices) {
      for (const access of accesses) {
        expect([type, major, minor, access.join(''), run(program, type, access, major, minor)]).toEqual([type, major, minor, access.join(''), v1(rules, type, access, major, minor)]);
      }
    }
  });

  it('allows the standard nodes and mknod, opens --device only as its permissions say, denies the host disk', () => {
    expect(run(program, 'c', ['r', 'w'], 1, 3)).toBe(1); // /dev/null
    expect(run(program, 'b', ['m'], 252, 0)).toBe(1); // mknod of anything
    expect(run(program, 'c', ['r'], 10, 229)).toBe(1); // /dev/fuse:r
    expect(run(program, 'c', ['w'], 10, 229)).toBe(0);
    expect(run(program, 'b', ['r'], 252, 0)).toBe(0); // a disk
    expect(run(program, 'c', ['r'], 1, 1)).toBe(0); // /dev/mem
  });

  it('--privileged: one rule allowing all, nothing after it', () => {
    const all = compileDeviceFilter(deviceCgroupRules([], [], true));
    expect(run(all, 'b', ['r', 'w'], 8, 0)).toBe(1);
    expect(all.length / 8).toBe(6 + 2);
  });

  it('denies everything without rules, and a later deny overrides an earlier allow', () => {
    expect(run(compileDeviceFilter([]), 'c', ['r'], 1, 3)).toBe(0);
    const later: OciDeviceCgroupRule[] = [...DEFAULT_DEVICE_RULES, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }];
    const p = compileDeviceFilter(later);
    expect(run(p, 'c', ['r'], 1, 3)).toBe(1);
    expect(run(p, 'c', ['w'], 1, 3)).toBe(0);
    expect(run(p, 'c', ['w'], 1, 5)).toBe(1);
  });
});
