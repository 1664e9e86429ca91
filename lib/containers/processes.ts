// A container's processes from the host's /proc, when it has no cgroup of its own.
import { readFileSync, readdirSync } from 'node:fs';

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
