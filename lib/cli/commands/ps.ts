import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { parseContainerFilters } from '../../containers/filters.js';
import { containerState } from '../../containers/state.js';
import { listContainerIds, readRecord, type ContainerRecord } from '../../containers/store.js';
import { psRow, type PsRow } from '../../containers/view.js';
import { byCodeUnit } from '../../compare.js';

export const spec: CommandSpec = {
  name: 'ps',
  summary: 'List containers',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    { name: 'all', short: 'a', type: 'boolean', describe: 'Show all containers (default shows just running)' },
    { name: 'quiet', short: 'q', type: 'boolean', describe: 'Only display container IDs' },
    { name: 'latest', short: 'l', type: 'boolean', describe: 'Show the latest created container' },
    { name: 'last', short: 'n', type: 'string', describe: 'Show n last created containers', placeholder: 'N' },
    { name: 'no-trunc', type: 'boolean', describe: "Don't truncate output" },
    { name: 'filter', short: 'f', type: 'array', describe: 'Filter: name=, id=, status=, exited=, ancestor=, label=, before=, since=, network=, volume=, publish=, expose= (one key: any matches; several keys: all)', placeholder: 'KEY=VALUE' },
    { name: 'format', type: 'string', describe: "Format output: 'json', 'table' or a Go template", placeholder: 'FORMAT' },
    { name: 'size', short: 's', type: 'boolean', describe: 'Display total file sizes: what the container wrote (virtual: with its image)' },
    { name: 'sort', type: 'string', placeholder: 'KEY', describe: 'Sort by created (default: newest first), id, image, names, runningfor, size or status (Podman)' },
    { name: 'noheading', type: 'boolean', describe: 'Do not print the header row of a table (Podman)' },
    { name: 'external', type: 'boolean', describe: 'Accepted for Podman compatibility: skiff has no external containers' },
  ],
};

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const SIZE_TABLE = `${DEFAULT_TABLE}\t{{.Size}}`;
const HEADERS = { ID: 'CONTAINER ID', RunningFor: 'CREATED' };

/** Docker's SIZE: "12B (virtual 4.3MB)"; "-" for a --rootfs container, which has no layer of its own. */
/** Fills each row's SIZE; returns what each container wrote, in bytes, by id (-1: not known), for --sort size. */
async function addSizes(shown: { record: ContainerRecord; row: PsRow }[]): Promise<Map<string, number>> {
  const { containerSizes } = await import('../../containers/size.js');
  const { humanSize } = await import('../../humanize.js');
  const store = await import('../../store/index.js');
  const imageSize = (id: string) => store.readImageRecord(store.openStore().paths, id)?.size ?? 0;
  const sizes = await containerSizes(shown.map((s) => s.record), imageSize);
  const written = new Map<string, number>();
  shown.forEach(({ record, row }, i) => {
    const size = sizes[i];
    row.Size = size ? `${humanSize(size.rw, 3)} (virtual ${humanSize(size.rootFs, 3)})` : '-';
    written.set(record.Id, size ? size.rw : -1);
  });
  return written;
}

const SORT_KEYS = ['command', 'created', 'id', 'image', 'names', 'runningfor', 'size', 'status'];

/** Podman's ps --sort: created and runningfor newest first, size smallest first, the rest by text. */
function sortRows(shown: { record: ContainerRecord; row: PsRow }[], key: string, written: Map<string, number>): void {
  const text = (s: { record: ContainerRecord; row: PsRow }): string => {
    switch (key) {
      case 'command':
        return s.row.Command;
      case 'id':
        return s.record.Id;
      case 'image':
        return s.row.Image;
      case 'names':
        return s.row.Names;
      default:
        return s.row.Status;
    }
  };
  if (key === 'created' || key === 'runningfor') shown.sort((a, b) => byCodeUnit(b.record.Created, a.record.Created));
  else if (key === 'size') shown.sort((a, b) => (written.get(a.record.Id) ?? -1) - (written.get(b.record.Id) ?? -1));
  else shown.sort((a, b) => byCodeUnit(text(a), text(b)));
}

export async function run(args: ParsedArgs): Promise<number> {
  const filterSpecs = flagList(args, 'filter');
  const matches = parseContainerFilters(filterSpecs);
  const last = flagString(args, 'last');
  let limit = flagBool(args, 'latest') ? 1 : last !== undefined ? Number(last) : 0;
  if (!Number.isInteger(limit) || limit < 0) throw new SkiffError(`invalid value "${last}" for flag -n: expected a number`);
  // Docker's rule: -n and -l include every state, and so does a status= filter;
  // other filters (exited= included) apply to the running ones unless -a.
  const all = flagBool(args, 'all') || limit > 0 || filterSpecs.some((f) => f.startsWith('status='));
  const noTrunc = flagBool(args, 'no-trunc');
  const records = listContainerIds()
    .map((id) => readRecord(id))
    .filter((r): r is ContainerRecord => r !== undefined)
    .sort((a, b) => byCodeUnit(b.Created, a.Created));
  const sort = flagString(args, 'sort') ?? 'created';
  if (!SORT_KEYS.includes(sort)) throw new SkiffError(`invalid --sort "${sort}": use ${SORT_KEYS.join(', ')}`);
  const withSize = flagBool(args, 'size');
  let shown: { record: ContainerRecord; row: PsRow }[] = [];
  for (const record of records) {
    const state = containerState(record);
    const row = psRow(record, state, noTrunc);
    if (!all && (row.State === 'created' || row.State === 'exited')) continue;
    if (!matches(record, row, state)) continue;
    shown.push({ record, row });
  }
  if (limit > 0) shown = shown.slice(0, limit);
  const written = withSize || sort === 'size' ? await addSizes(shown) : new Map<string, number>();
  sortRows(shown, sort, written);
  const rows = shown.map((s) => s.row);
  const format = flagString(args, 'format');
  if (flagBool(args, 'quiet')) {
    process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
    return 0;
  }
  if (format === 'json') {
    process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    return 0;
  }
  const { renderFormat } = await import('../format.js');
  const table = withSize ? SIZE_TABLE : DEFAULT_TABLE;
  process.stdout.write(renderFormat(format ?? table, rows, { headers: HEADERS, defaultTable: table, noHeading: flagBool(args, 'noheading') }));
  return 0;
}
