// `skiff images` (`image ls`): Docker's columns, -q, -a, --digests,
// --no-trunc, --filter, --format (json or a Go template); Podman's
// --noheading and --sort.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';
import { parseFormat, renderParsedFormat } from '../format.js';
import { SkiffError } from '../../errors.js';

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
    { name: 'noheading', short: 'n', type: 'boolean', describe: 'Do not print the header row of a table (Podman)' },
    { name: 'sort', type: 'string', placeholder: 'KEY', describe: 'Sort by created (newest first, the default), id, repository, size or tag (Podman)' },
  ],
};

const SORT_KEYS = ['created', 'id', 'repository', 'size', 'tag'];

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
  const sort = flagString(args, 'sort') ?? 'created';
  if (!SORT_KEYS.includes(sort)) throw new SkiffError(`invalid --sort "${sort}": use ${SORT_KEYS.join(', ')}`);
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
  const sized = shown.flatMap((i) => {
    const r = store.imageRows(i, { digests, noTrunc });
    const Labels = labels ? (store.readImageConfig(s, i.record).config?.Labels ?? null) : undefined;
    return r.map((row) => ({ row: Labels === undefined ? row : { ...row, Labels }, size: i.record.size }));
  });
  // Stable: rows equal by the key keep the default order (newest first).
  const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  if (sort === 'id') sized.sort((a, b) => text(a.row.ID, b.row.ID));
  else if (sort === 'repository') sized.sort((a, b) => text(a.row.Repository, b.row.Repository) || text(a.row.Tag, b.row.Tag));
  else if (sort === 'tag') sized.sort((a, b) => text(a.row.Tag, b.row.Tag));
  else if (sort === 'size') sized.sort((a, b) => a.size - b.size);
  const rows = sized.map((r) => r.row);
  if (template === 'json') process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  else process.stdout.write(renderParsedFormat(parsed!, rows, { headers: HEADERS, noHeading: flagBool(args, 'noheading') }));
  return 0;
}
