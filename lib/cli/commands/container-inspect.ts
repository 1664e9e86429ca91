import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { forEachRef, missingExitCode } from '../each.js';
import { containerState } from '../../containers/state.js';
import { resolveContainer } from '../../containers/store.js';
import { inspectView } from '../../containers/view.js';

export const spec: CommandSpec = {
  name: 'container inspect',
  summary: 'Display detailed information on one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [{ name: 'format', short: 'f', type: 'string', describe: 'Format the output with a Go template', placeholder: 'FORMAT' }],
};

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const views: unknown[] = [];
  const code = await forEachRef(args.positionals, async (ref) => {
    const record = resolveContainer(ref);
    views.push(inspectView(record, containerState(record)));
    return undefined;
  }, missingExitCode);
  if (format !== undefined && format !== 'json') {
    const { renderFormat } = await import('../format.js');
    process.stdout.write(renderFormat(format, views));
  } else {
    process.stdout.write(`${JSON.stringify(views, null, 4)}\n`);
  }
  return code;
}
