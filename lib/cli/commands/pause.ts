import type { CommandSpec, ParsedArgs } from '../args.js';
import { forEachRef, missingExitCode } from '../each.js';
import { setPaused } from '../../containers/lifecycle.js';
import { resolveContainer } from '../../containers/store.js';

/** pause and unpause: the same command, freezing or thawing (cgroup freezer). */
export function freezerCommand(paused: boolean): { spec: CommandSpec; run(args: ParsedArgs): Promise<number> } {
  const verb = paused ? 'pause' : 'unpause';
  return {
    spec: {
      name: verb,
      summary: `${paused ? 'Pause' : 'Unpause'} all processes within one or more containers (cgroup freezer)`,
      usage: 'CONTAINER [CONTAINER...]',
      positionals: 'interspersed',
      minPositionals: 1,
      flags: [],
    },
    run: (args) =>
      forEachRef(args.positionals, async (ref) => {
        await setPaused(resolveContainer(ref), paused);
        return ref;
      }, missingExitCode),
  };
}

export const { spec, run } = freezerCommand(true);
