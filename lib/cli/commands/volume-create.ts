// `skiff volume create [NAME]`: a named volume (a random name without one).
// Docker's: an existing volume of that name is not an error, its name is printed.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagList, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';

export const spec: CommandSpec = {
  name: 'volume create',
  summary: 'Create a volume',
  usage: '[OPTIONS] [VOLUME]',
  positionals: 'interspersed',
  maxPositionals: 1,
  flags: [
    { name: 'driver', short: 'd', type: 'string', describe: 'Volume driver (only local)', placeholder: 'DRIVER', default: 'local' },
    { name: 'opt', short: 'o', type: 'array', describe: 'Driver options: type=tmpfs|none|FSTYPE, device=…, o=… (as mount(8))', placeholder: 'KEY=VALUE' },
    { name: 'label', short: 'l', type: 'array', describe: 'Set metadata on the volume', placeholder: 'KEY=VALUE' },
  ],
};

/** KEY=VALUE (KEY alone: an empty value) into an object. */
export function keyValues(items: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (key === '') throw new SkiffError(`invalid ${what} "${item}": the key is empty`);
    out[key] = eq < 0 ? '' : item.slice(eq + 1);
  }
  return out;
}

export async function run(args: ParsedArgs): Promise<number> {
  const driver = flagString(args, 'driver') ?? 'local';
  if (driver !== 'local') throw new SkiffError(`volume driver "${driver}" is not available: skiff has the local driver only`);
  const { ensureVolume } = await import('../../volumes/store.js');
  const { volume } = ensureVolume(
    { ...(args.positionals[0] !== undefined ? { name: args.positionals[0] } : {}), labels: keyValues(flagList(args, 'label'), 'label'), options: keyValues(flagList(args, 'opt'), 'option') },
    (process.geteuid?.() ?? 0) !== 0,
  );
  process.stdout.write(`${volume.Name}\n`);
  return 0;
}
