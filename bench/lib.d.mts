// Types for lib.mjs, so that TypeScript benchmarks (bench/pull.ts) can use it.
export const CLEAN_PATH: string;

export interface User {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface Timing {
  min: number;
  median: number;
  runs: number;
}

export function timeCommand(argv: string[], opts?: { runs?: number; warmup?: number; env?: Record<string, string> }): Timing;
export function timeInterleaved(commands: Array<{ argv: string[]; env?: Record<string, string> }>, opts?: { runs?: number; warmup?: number }): Timing[];
export function asUser(user: User | null | undefined, argv: string[]): string[];
export function lookupUser(name: string): User | null;
export function hasCommand(name: string): boolean;
export function printTable(title: string, rows: Array<{ name: string } & Timing>, baselineName: string): void;
export function installCopy(root: string, dir: string): string;
