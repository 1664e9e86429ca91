import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { listContainerIds, readRecord, resolveContainer, type ContainerRecord } from '../../containers/store.js';
import { containerState } from '../../containers/state.js';
import { sampleStats, statsRow, type StatsSample } from '../../containers/stats.js';
import { byCodeUnit } from '../../compare.js';

export const spec: CommandSpec = {
  name: 'stats',
  summary: 'Display a live stream of container resource usage statistics',
  usage: '[OPTIONS] [CONTAINER...]',
  positionals: 'interspersed',
  flags: [
    { name: 'all', short: 'a', type: 'boolean', describe: 'Show all containers (default shows just running)' },
    { name: 'no-stream', type: 'boolean', describe: 'Print one sample and exit (CPU % since each container started)' },
    { name: 'no-trunc', type: 'boolean', describe: "Don't truncate output" },
    { name: 'format', type: 'string', describe: "Format output: 'json', 'table' or a Go template", placeholder: 'FORMAT' },
    { name: 'interval', short: 'i', type: 'string', describe: 'Seconds between samples when streaming (Podman; default 1)', placeholder: 'SECONDS' },
  ],
};

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const HEADERS = { ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS', Container: 'CONTAINER' };

function chosen(args: ParsedArgs): { record: ContainerRecord; shownAs: string }[] {
  if (args.positionals.length > 0) return args.positionals.map((ref) => ({ record: resolveContainer(ref), shownAs: ref }));
  const all = flagBool(args, 'all');
  return listContainerIds()
    .map((id) => readRecord(id))
    .filter((r): r is ContainerRecord => r !== undefined && (all || containerState(r).Running))
    .sort((a, b) => byCodeUnit(b.Created, a.Created))
    .map((record) => ({ record, shownAs: record.Id.slice(0, 12) }));
}

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const noTrunc = flagBool(args, 'no-trunc');
  const intervalText = flagString(args, 'interval') ?? '1';
  const interval = Number(intervalText);
  if (!(interval > 0)) throw new SkiffError(`invalid --interval "${intervalText}": expected seconds above 0`);
  const { parseFormat, renderParsedFormat } = await import('../format.js');
  const parsed = format === 'json' ? undefined : parseFormat(format ?? DEFAULT_TABLE, { headers: HEADERS, defaultTable: DEFAULT_TABLE });
  const render = (rows: ReturnType<typeof statsRow>[]) =>
    parsed ? renderParsedFormat(parsed, rows, { headers: HEADERS, defaultTable: DEFAULT_TABLE }) : rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  const targets = chosen(args);
  if (flagBool(args, 'no-stream')) {
    process.stdout.write(render(targets.map((t) => statsRow(sampleStats(t.record), undefined, t.shownAs, noTrunc))));
    return 0;
  }
  // Streaming: redraw in place on a terminal; elsewhere one block per sample.
  const tty = process.stdout.isTTY === true;
  let previous = new Map<string, StatsSample>();
  const explicit = args.positionals.length > 0;
  for (;;) {
    const list = explicit ? targets : chosen(args);
    const samples = list.map((t) => ({ t, s: sampleStats(t.record) }));
    const text = render(samples.map(({ t, s }) => statsRow(s, previous.get(t.record.Id), t.shownAs, noTrunc)));
    process.stdout.write(tty ? `\x1b[2J\x1b[H${text}` : text);
    previous = new Map(samples.map(({ t, s }) => [t.record.Id, s]));
    if (explicit && samples.every(({ s }) => !s.running) && !flagBool(args, 'all')) return 0;
    await new Promise((r) => setTimeout(r, interval * 1000));
  }
}
