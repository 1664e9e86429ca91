// `skiff inspect` / `image inspect`: images as Docker's API shows them, as a
// JSON array or through a Go template. (Containers have `container inspect`.)
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { executeFormat, parseFormat } from '../format.js';
import { SkiffError } from '../../errors.js';

export const spec: CommandSpec = {
  name: 'inspect',
  aliases: ['image inspect'],
  summary: 'Display detailed information on one or more images',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [
    { name: 'format', short: 'f', type: 'string', placeholder: 'FORMAT', describe: "Format the output: 'json' (default), or a Go template such as '{{.Id}}' or '{{json .Config}}'" },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const parsed = format !== undefined && format !== 'json' ? parseFormat(format) : undefined;
  const store = await import('../../store/index.js');
  const s = store.openStore();
  const found: Array<Record<string, unknown>> = [];
  const errors: SkiffError[] = [];
  for (const text of args.positionals) {
    try {
      const { record } = await store.findImage(s, text);
      found.push(store.inspectImage(s, store.summaryOf(s, record)));
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      errors.push(err);
    }
  }
  if (parsed) process.stdout.write(found.map((o) => `${executeFormat(parsed, o)}\n`).join(''));
  else process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
  for (const err of errors) process.stderr.write(`skiff: ${err.message}\n`);
  return errors.length > 0 ? errors[0]!.exitCode : 0;
}
