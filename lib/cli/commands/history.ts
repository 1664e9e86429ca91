// `skiff history IMAGE` (`image history`): the layers' history from the image config.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { parseFormat, renderParsedFormat } from '../format.js';

export const spec: CommandSpec = {
  name: 'history',
  aliases: ['image history'],
  summary: 'Show the history of an image',
  usage: '[OPTIONS] IMAGE',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [
    { name: 'format', type: 'string', placeholder: 'FORMAT', describe: "Output format: 'json', or a Go template such as 'table {{.ID}}\\t{{.CreatedBy}}'" },
    { name: 'human', short: 'H', type: 'boolean', default: true, describe: 'Print sizes and dates in human readable form (--human=false: bytes and RFC 3339 times)' },
    { name: 'no-trunc', type: 'boolean', describe: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'Only show image IDs' },
  ],
};

const HEADERS: Record<string, string> = { ID: 'IMAGE', Created: 'CREATED', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY' };
const DEFAULT_TABLE = '{{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}';

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const template = format === undefined ? `table ${DEFAULT_TABLE}` : format;
  const parsed = template !== 'json' ? parseFormat(template, { headers: HEADERS, defaultTable: DEFAULT_TABLE }) : undefined;
  const store = await import('../../store/index.js');
  const s = store.openStore();
  const { record } = await store.findImage(s, args.positionals[0]!);
  const rows = store.imageHistory(s, record, { noTrunc: flagBool(args, 'no-trunc'), human: args.flags['human'] !== false });
  if (flagBool(args, 'quiet')) process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
  else if (template === 'json') process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  else process.stdout.write(renderParsedFormat(parsed!, rows, { headers: HEADERS }));
  return 0;
}
