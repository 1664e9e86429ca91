import { execFileSync } from 'node:child_process';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { SkiffError } from '../../errors.js';
import { cgroupPids } from '../../cgroups/container.js';
import { containerState } from '../../containers/state.js';
import { readPidFile, resolveContainer } from '../../containers/store.js';
import { liveCgroup } from '../../containers/resources.js';
import { descendants } from '../../containers/processes.js';

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
  const options = psArgs.length > 0 ? psArgs : ['-f'];
  try {
    // The host's ps, as Docker runs it, limited to the container's processes.
    const out = execFileSync('ps', [...options, '-p', pids.join(',')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    process.stdout.write(out);
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    if (e.status === 1 && e.stdout) process.stdout.write(e.stdout); // a process exited meanwhile
    else throw new SkiffError(`ps ${options.join(' ')} failed: ${(e.stderr ?? String(err)).trim()}`);
  }
  return 0;
}
