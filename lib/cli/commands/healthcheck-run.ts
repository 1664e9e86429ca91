// `skiff healthcheck run CONTAINER` (Podman's): one check, recorded in the
// container's health. Exit 0: it passed; 1: it failed ("unhealthy" printed,
// as Podman prints it); 125: no such container, no healthcheck, not running.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';

export const spec: CommandSpec = {
  name: 'healthcheck run',
  summary: "Run a container's healthcheck once (exit 0 healthy, 1 unhealthy, 125 error)",
  usage: '[OPTIONS] CONTAINER',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [{ name: 'ignore-result', type: 'boolean', describe: 'Exit 0 whatever the check says (errors still exit 125) (Podman)' }],
};

export async function run(args: ParsedArgs): Promise<number> {
  const { resolveContainer } = await import('../../containers/store.js');
  const { runHealthcheck } = await import('../../containers/health.js');
  const { passed } = await runHealthcheck(resolveContainer(args.positionals[0]!));
  if (passed) return 0;
  process.stdout.write('unhealthy\n');
  return flagBool(args, 'ignore-result') ? 0 : 1;
}
