import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { forEachRef } from '../each.js';
import { LIMIT_FLAGS } from '../flags/create.js';
import { resourceFlags } from './run.js';
import { updateContainer } from '../../containers/update.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'update',
  summary: 'Update the resource limits (and restart policy) of one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  flags: [
    ...LIMIT_FLAGS,
    { name: 'restart', type: 'string', describe: 'Restart policy: no, always, on-failure[:N] (applies at the next start)', placeholder: 'POLICY' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  if (args.positionals.length === 0) throw new SkiffError(`"skiff update" requires at least 1 argument (see 'skiff update --help')`);
  const flags = resourceFlags(args);
  const restart = flagString(args, 'restart');
  if (Object.values(flags).every((v) => v === undefined) && restart === undefined) {
    throw new SkiffError("you must provide one or more flags when using this command (see 'skiff update --help')");
  }
  return forEachRef(args.positionals, async (ref) => {
    await updateContainer(resolveContainer(ref), flags, restart);
    return ref;
  });
}
