// `skiff volume exists VOLUME` (Podman): exit 0 if it exists, 1 if not.
import type { CommandSpec, ParsedArgs } from '../args.js';

export const spec: CommandSpec = {
  name: 'volume exists',
  summary: 'Check whether a volume exists (exit 0) or not (exit 1)',
  usage: 'VOLUME',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  const { getVolume } = await import('../../volumes/store.js');
  return getVolume(args.positionals[0]!) ? 0 : 1;
}
