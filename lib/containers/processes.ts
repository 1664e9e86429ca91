// A container's processes from the host's /proc, when it has no cgroup of its own.
import { readFileSync, readdirSync } from 'node:fs';
import { SkiffError } from '../errors.js';

/** The children of pid, from /proc/PID/task/TID/children (every thread's); undefined where the kernel lacks the file. */
function childrenOf(pid: number): number[] | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // exited meanwhile
  }
  const out: number[] = [];
  for (const tid of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && tid === String(pid)) return undefined;
      continue; // the thread ended meanwhile
    }
    for (const word of text.split(' ')) if (word !== '' && word !== '\n') out.push(Number(word));
  }
  return out;
}

/** Every process's children, by the ppid field of /proc/N/stat: one pass over all of /proc. */
function childrenMapOfAll(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  return children;
}

/**
 * pid and all its descendants. Read from the tree itself (each process's
 * children files: a few reads per container process), not from a pass over
 * every process of the host, which `stats` would make once per container;
 * that pass remains for kernels without CONFIG_PROC_CHILDREN.
 */
export function descendants(root: number): number[] {
  let all: Map<number, number[]> | undefined;
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    let kids = all ? undefined : childrenOf(pid);
    if (kids === undefined) {
      all ??= childrenMapOfAll();
      kids = all.get(pid) ?? [];
    }
    queue.push(...kids);
  }
  return out;
}

/**
 * Podman's `top` descriptors (its AIX format: `top CTR pid user args`, or
 * `%p %U %a`) as the host's `ps -o` keywords with Podman's column headers,
 * one `-o` each (a header after `=` would swallow the commas of a list).
 * The h… ones are the host's view, which ps shows anyway.
 */
const DESCRIPTORS: Record<string, [keyword: string, header: string]> = {
  args: ['args', 'COMMAND'], comm: ['comm', 'COMMAND'], etime: ['etime', 'ELAPSED'], group: ['group', 'GROUP'],
  hgroup: ['group', 'HGROUP'], hpid: ['pid', 'HPID'], huser: ['user', 'HUSER'], nice: ['nice', 'NI'], pcpu: ['pcpu', '%CPU'],
  pgid: ['pgid', 'PGID'], pid: ['pid', 'PID'], ppid: ['ppid', 'PPID'], rgroup: ['rgroup', 'RGROUP'], ruser: ['ruser', 'RUSER'],
  state: ['stat', 'STATE'], stime: ['lstart', 'STIME'], time: ['time', 'TIME'], tty: ['tty', 'TTY'], user: ['user', 'USER'], vsz: ['vsz', 'VSZ'],
};
const AIX_CODES: Record<string, string> = {
  '%C': 'pcpu', '%G': 'group', '%P': 'ppid', '%U': 'user', '%a': 'args', '%c': 'comm', '%g': 'rgroup', '%n': 'nice',
  '%p': 'pid', '%r': 'pgid', '%t': 'etime', '%u': 'ruser', '%x': 'time', '%y': 'tty', '%z': 'vsz',
};
/** Podman's descriptors that the host's ps cannot show. */
const NOT_FROM_PS = ['capamb', 'capbnd', 'capeff', 'capinh', 'capprm', 'label', 'seccomp'];

/**
 * The ps options for `top CTR [ARGS…]`: none is Docker's `-f`; words that are
 * all Podman descriptors become `-o` columns; anything else goes to ps as
 * written, as Docker passes it (`aux`, `-o pid,comm`).
 */
export function topPsOptions(args: string[]): { options: string[]; byDescriptors: boolean } {
  if (args.length === 0) return { options: ['-f'], byDescriptors: false };
  const names = args.map((a) => AIX_CODES[a] ?? a);
  const unshown = names.filter((n) => NOT_FROM_PS.includes(n));
  if (unshown.length > 0 && names.every((n) => n in DESCRIPTORS || NOT_FROM_PS.includes(n))) {
    throw new SkiffError(`top: the descriptor ${unshown[0]} is not supported: skiff's top reads the host's ps; use ${Object.keys(DESCRIPTORS).join(', ')}`);
  }
  if (!names.every((n) => n in DESCRIPTORS)) return { options: args, byDescriptors: false };
  return { options: names.flatMap((n) => ['-o', `${DESCRIPTORS[n]![0]}=${DESCRIPTORS[n]![1]}`]), byDescriptors: true };
}

/**
 * ps's output cut to the container's processes, by its PID column, as Docker
 * cuts it: `-p` alone does not hold, since ps adds what other selections name
 * (`aux` is every process of the host). Undefined when there is no PID column.
 */
export function psRowsOf(output: string, pids: number[]): string | undefined {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const column = header.trim().split(/\s+/).indexOf('PID');
  if (column < 0) return undefined;
  const wanted = new Set(pids.map(String));
  const rows = lines.slice(1).filter((l) => l.trim() !== '' && wanted.has(l.trim().split(/\s+/)[column] ?? ''));
  return `${[header, ...rows].join('\n')}\n`;
}
