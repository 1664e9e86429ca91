// `skiff inspect`: containers and images as Docker's API shows them, as a JSON
// array or through a Go template; a name is looked up as a container first, as
// Docker does (`--type container|image` chooses). `image inspect`: images only.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { executeFormat, parseFormat } from '../format.js';
import { SkiffError } from '../../errors.js';
import { containerState } from '../../containers/state.js';
import { resolveContainer, type ContainerRecord } from '../../containers/store.js';
import { inspectView } from '../../containers/view.js';
import { printErrorLine } from '../error-line.js';
import { missingExitCode } from '../each.js';

function findContainer(text: string): ContainerRecord | undefined {
  try {
    return resolveContainer(text);
  } catch {
    return undefined;
  }
}

export const spec: CommandSpec = {
  name: 'inspect',
  aliases: ['image inspect'],
  summary: 'Display detailed information on one or more images',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [
    { name: 'format', short: 'f', type: 'string', placeholder: 'FORMAT', describe: "Format the output: 'json' (default), or a Go template such as '{{.Id}}' or '{{json .Config}}'" },
    { name: 'type', type: 'string', placeholder: 'TYPE', describe: 'Only this kind of object: container or image' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const parsed = format !== undefined && format !== 'json' ? parseFormat(format) : undefined;
  const store = await import('../../store/index.js');
  const s = store.openStore();
  const found: Array<Record<string, unknown>> = [];
  const errors: SkiffError[] = [];
  const type = flagString(args, 'type') ?? (args.command === 'image inspect' ? 'image' : undefined);
  if (type !== undefined && type !== 'container' && type !== 'image') throw new SkiffError(`invalid --type "${type}": use container or image`);
  for (const text of args.positionals) {
    try {
      if (type !== 'image') {
        const container = findContainer(text);
        if (container) {
          found.push(inspectView(container, containerState(container)) as unknown as Record<string, unknown>);
          continue;
        }
        if (type === 'container') throw new SkiffError(`no such container: ${text}`, 125, 'not-found');
      }
      const { record } = await store.findImage(s, text);
      found.push(store.inspectImage(s, store.summaryOf(s, record)));
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      // No --type: neither a container nor an image, which Docker and Podman call an object.
      errors.push(type === undefined && err.reason === 'not-found' ? new SkiffError(`no such object: ${text}`, err.exitCode, 'not-found') : err);
    }
  }
  if (parsed) process.stdout.write(found.map((o) => `${executeFormat(parsed, o)}\n`).join(''));
  else process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
  for (const err of errors) printErrorLine(err.message);
  return errors.length > 0 ? missingExitCode(errors[0]!) : 0;
}
