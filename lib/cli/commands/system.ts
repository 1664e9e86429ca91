// `skiff system SUBCOMMAND`: Docker's management command for the whole
// engine: df and prune here, info shared with the top-level command.
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList, flagString } from '../args.js';
import { runSubcommand, type SubcommandTable } from '../subcommands.js';
import { SkiffError } from '../../errors.js';
import { humanSize, since } from '../../humanize.js';
import { inStoreNamespace, reexecInUserNamespace } from '../../namespaces/userns.js';
import { confirm } from '../confirm.js';
import { alignColumns } from '../tabwriter.js';
import { parseFormat, renderParsedFormat } from '../format.js';

export const dfSpec: CommandSpec = {
  name: 'system df',
  summary: 'Show disk usage: images, containers and volumes, their sizes and what a prune would reclaim',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    { name: 'verbose', short: 'v', type: 'boolean', describe: 'Show every image and container' },
    { name: 'format', type: 'string', placeholder: 'FORMAT', describe: "Output format: 'json', or a Go template such as 'table {{.Type}}\\t{{.Size}}'" },
  ],
};

const DF_HEADERS: Record<string, string> = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

/** Docker's "2.2MB (49%)". */
function reclaimable(bytes: number, of: number): string {
  return of > 0 ? `${humanSize(bytes, 3)} (${Math.floor((bytes * 100) / of)}%)` : humanSize(bytes, 3);
}

export async function runDf(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const defaultTable = 'table {{.Type}}\\t{{.TotalCount}}\\t{{.Active}}\\t{{.Size}}\\t{{.Reclaimable}}';
  const template = format === undefined || format === 'table' ? defaultTable : format;
  const parsed = template !== 'json' ? parseFormat(template, { headers: DF_HEADERS, defaultTable: defaultTable.slice(6) }) : undefined;
  const { diskUsage, imageRepoTag } = await import('../../system/df.js');
  const { openStore } = await import('../../store/index.js');
  const usage = await diskUsage(openStore());
  const rows = usage.totals.map((t) => ({
    Type: t.Type,
    TotalCount: String(t.TotalCount),
    Active: String(t.Active),
    Size: humanSize(t.Size, 3),
    Reclaimable: reclaimable(t.Reclaimable, t.Size),
  }));
  if (template === 'json') {
    process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    return 0;
  }
  if (!flagBool(args, 'verbose') || format !== undefined) {
    process.stdout.write(renderParsedFormat(parsed!, rows, { headers: DF_HEADERS }));
    return 0;
  }
  let out = 'Images space usage:\n\n';
  out += alignColumns(
    [
      'REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS',
      ...usage.images.map((u) => {
        const n = imageRepoTag(u);
        return [n.Repository, n.Tag, n.ID, since(u.summary.record.created), humanSize(u.shared + u.unique, 3), humanSize(u.shared, 3), humanSize(u.unique, 3), String(u.containers)].join('\t');
      }),
    ].join('\n') + '\n',
  );
  out += '\nContainers space usage:\n\n';
  out += alignColumns(
    [
      'CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES',
      ...usage.containers.map((c) => {
        const command = [c.record.Path, ...c.record.Args].join(' ');
        const shown = command.length > 20 ? `${command.slice(0, 19)}…` : command;
        return [c.record.Id.slice(0, 12), c.record.Image || c.record.Rootfs, `"${shown}"`, String(c.volumes), humanSize(c.size, 3), since(c.record.Created), c.status, c.record.Name].join('\t');
      }),
    ].join('\n') + '\n',
  );
  out += '\nLocal Volumes space usage:\n\n';
  out += alignColumns(['VOLUME NAME\tLINKS\tSIZE', ...usage.volumes.map((v) => [v.name, String(v.links), humanSize(v.size, 3)].join('\t'))].join('\n') + '\n');
  process.stdout.write(out);
  return 0;
}

export const pruneSpec: CommandSpec = {
  name: 'system prune',
  summary: 'Remove stopped containers and unused images (dangling ones, or with -a all that no container uses)',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    { name: 'all', short: 'a', type: 'boolean', describe: 'Remove all unused images, not just dangling ones' },
    { name: 'force', short: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' },
    { name: 'volumes', type: 'boolean', describe: 'Prune anonymous volumes no container uses, too' },
    { name: 'filter', type: 'array', placeholder: 'FILTER', describe: 'until=TIME, label=KEY[=VALUE] or label!=KEY[=VALUE]' },
  ],
};

export async function runPrune(args: ParsedArgs): Promise<number> {
  const { parseContainerPruneFilters } = await import('../../containers/prune.js');
  const { parsePruneFilters } = await import('../../store/index.js');
  const containerFilters = parseContainerPruneFilters(flagList(args, 'filter'));
  const imageFilters = parsePruneFilters(flagList(args, 'filter'));
  if (!inStoreNamespace()) return reexecInUserNamespace(process.argv.slice(2));
  const all = flagBool(args, 'all');
  if (!flagBool(args, 'force')) {
    const images = all ? 'all images without at least one container associated to them' : 'all dangling images';
    const volumes = flagBool(args, 'volumes') ? '  - all anonymous volumes not used by at least one container\n' : '';
    if (!confirm(`WARNING! This will remove:\n  - all stopped containers\n${volumes}  - ${images}\n\nAre you sure you want to continue?`)) {
      throw new SkiffError('system prune has been cancelled');
    }
  }
  const { systemPrune } = await import('../../system/prune.js');
  const { openStoreForWriting } = await import('../../store/index.js');
  const result = await systemPrune(openStoreForWriting(), {
    all,
    volumes: flagBool(args, 'volumes'),
    containerFilters,
    imageFilters,
    onWait: () => process.stderr.write('Waiting for other skiff processes to finish with the image store...\n'),
  });
  let out = '';
  if (result.containers.length > 0) out += `Deleted Containers:\n${result.containers.map((id) => `${id}\n`).join('')}\n`;
  if (result.volumes.length > 0) out += `Deleted Volumes:\n${result.volumes.map((n) => `${n}\n`).join('')}\n`;
  if (result.images.length > 0) out += `Deleted Images:\n${result.images.map((e) => `${e.kind}: ${e.value}\n`).join('')}\n`;
  process.stdout.write(`${out}Total reclaimed space: ${humanSize(result.reclaimed)}\n`);
  return 0;
}

const SUBCOMMANDS: SubcommandTable = {
  df: async () => ({ spec: dfSpec, run: runDf }),
  prune: async () => ({ spec: pruneSpec, run: runPrune }),
  info: () => import('./info.js'),
  events: () => import('./events.js'),
};

export const spec: CommandSpec = {
  name: 'system',
  summary: 'Manage skiff: disk usage, pruning, information',
  usage: `COMMAND (${Object.keys(SUBCOMMANDS).join(', ')})`,
  positionals: 'halt',
  minPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  return runSubcommand('system', SUBCOMMANDS, args);
}
