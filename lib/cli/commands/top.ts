import { execFileSync } from 'node:child_process';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { SkiffError } from '../../errors.js';
import { cgroupPids } from '../../cgroups/container.js';
import { containerState } from '../../containers/state.js';
import { readPidFile, resolveContainer } from '../../containers/store.js';
import { liveCgroup } from '../../containers/resources.js';
import { descendants, psRowsOf, topPsOptions } from '../../containers/processes.js';

export const spec: CommandSpec = {
  name: 'top',
  summary: 'Display the running processes of a container',
  usage: 'CONTAINER [ps OPTIONS]',
  positionals: 'halt',
  minPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  const [ref, ...psArgs] = args.positionals;
  const record = resolveContainer(ref!);
  const state = containerState(record);
  if (!state.Running) throw new SkiffError(`container ${record.Id} is not running`);
  // Its cgroup holds every process (exec'd ones too); without one, the first process's tree.
  const cg = liveCgroup(record, readPidFile(record.Id));
  const fromCgroup = cg ? cgroupPids(cg) : [];
  const pids = fromCgroup.length > 0 ? fromCgroup : descendants(state.Pid);
  const { options, byDescriptors } = topPsOptions(psArgs);
  // The host's ps, as Docker runs it, limited to the container's processes: by -p, and by
  // the PID column (ps adds what other selections such as "aux" name). Podman's descriptors
  // select nothing more, and may leave the PID column out.
  const show = (out: string): void => {
    // Descriptors are -o columns only, so -p selected exactly the container's rows: nothing to cut
    // (and a column with spaces before PID, e.g. "args pid", would defeat the cut).
    const rows = byDescriptors ? out : psRowsOf(out, pids);
    if (rows === undefined) throw new SkiffError(`ps ${psArgs.join(' ')}: its output has no PID column, which top needs to show only the container's processes: add pid (-o pid,…)`);
    process.stdout.write(rows);
  };
  try {
    show(execFileSync('ps', [...options, '-p', pids.join(',')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (err) {
    if (err instanceof SkiffError) throw err;
    const e = err as { status?: number; stdout?: string; stderr?: string };
    if (e.status === 1 && e.stdout) show(e.stdout); // a process exited meanwhile
    else {
      // ps's own first line (procps follows it with its whole usage text): one line, as every error.
      const first = (e.stderr ?? String(err)).split('\n').map((l) => l.trim()).find((l) => l !== '') ?? 'no output';
      throw new SkiffError(`ps ${psArgs.join(' ')} failed: ${first.replace(/^error: /, '')}`);
    }
  }
  return 0;
}
