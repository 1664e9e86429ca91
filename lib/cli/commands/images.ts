// `skiff images` (`image ls`): Docker's columns, -q, -a, --digests,
// --no-trunc, --filter, --format (json or a Go template).
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';
import { parseFormat, renderParsedFormat } from '../format.js';

export const spec: CommandSpec = {
  name: 'images',
  aliases: ['image ls', 'image list'],
  summary: 'List images',
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  positionals: 'interspersed',
  maxPositionals: 1,
  flags: [
    { name: 'all', short: 'a', type: 'boolean', describe: 'Show all images (by default unnamed images whose layers another image builds on are hidden)' },
    { name: 'digests', type: 'boolean', describe: 'Show digests' },
    { name: 'filter', short: 'f', type: 'array', placeholder: 'FILTER', describe: 'Filter: reference=PATTERN, dangling=true|false, before=IMAGE, since=IMAGE, label=KEY[=VALUE]' },
    { name: 'format', type: 'string', placeholder: 'FORMAT', describe: "Output format: 'json', or a Go template such as 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}'" },
    { name: 'no-trunc', type: 'boolean', describe: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'Only show image IDs' },
  ],
};

export const HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Id: 'IMAGE ID',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  VirtualSize: 'VIRTUAL SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const digests = flagBool(args, 'digests');
  const defaultTable = `table {{.Repository}}\\t{{.Tag}}${digests ? '\\t{{.Digest}}' : ''}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}`;
  const template = format === undefined || format === 'table' ? defaultTable : format;
  const parsed = template !== 'json' ? parseFormat(template, { headers: HEADERS, defaultTable: defaultTable.slice(6) }) : undefined;
  const store = await import('../../store/index.js');
  const s = store.openStore();
  const filters = store.parseImageFilters([...flagList(args, 'filter'), ...args.positionals.map((p) => `reference=${p}`)]);
  const all = store.imageSummaries(s);
  let shown = await store.filterImages(s, all, filters);
  if (!flagBool(args, 'all')) shown = shown.filter((i) => !store.isIntermediate(i, all));
  const noTrunc = flagBool(args, 'no-trunc');
  if (flagBool(args, 'quiet')) {
    const ids = [...new Set(shown.map((i) => (noTrunc ? i.record.id : i.record.id.replace(/^sha256:/, '').slice(0, 12))))];
    process.stdout.write(ids.map((id) => `${id}\n`).join(''));
    return 0;
  }
  // Labels are in each image's config: read only for a format that names them (and json, which has every field).
  const labels = template === 'json' || /\.Labels\b/.test(template);
  const rows = shown.flatMap((i) => {
    const r = store.imageRows(i, { digests, noTrunc });
    if (!labels) return r;
    const Labels = store.readImageConfig(s, i.record).config?.Labels ?? null;
    return r.map((row) => ({ ...row, Labels }));
  });
  if (template === 'json') process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  else process.stdout.write(renderParsedFormat(parsed!, rows, { headers: HEADERS }));
  return 0;
}
