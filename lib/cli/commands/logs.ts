import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';
import { parseSince } from '../../humanize.js';
import { showLogs } from '../../containers/logs.js';
import { resolveContainer } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'logs',
  summary: 'Fetch the logs of a container',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [
    { name: 'follow', short: 'f', type: 'boolean', describe: 'Follow log output until the container exits' },
    { name: 'tail', short: 'n', type: 'string', describe: 'Number of lines to show from the end ("all" by default)', placeholder: 'N' },
    { name: 'timestamps', short: 't', type: 'boolean', describe: 'Show timestamps' },
    { name: 'since', type: 'string', describe: 'Show logs since a timestamp (RFC 3339) or a relative time (e.g. 42m)', placeholder: 'TIME' },
    { name: 'until', type: 'string', describe: 'Show logs before a timestamp (RFC 3339) or a relative time (e.g. 42m)', placeholder: 'TIME' },
    { name: 'names', type: 'boolean', describe: "With several containers, begin each line with the container's name instead of its short id (Podman)" },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const tailText = flagString(args, 'tail');
  let tail: number | undefined;
  if (tailText !== undefined && tailText !== 'all') {
    tail = Number(tailText);
    if (!Number.isInteger(tail) || tail < 0) throw new SkiffError(`invalid value "${tailText}" for --tail: expected a number or "all"`);
  }
  const since = flagString(args, 'since');
  const until = flagString(args, 'until');
  const options = {
    follow: flagBool(args, 'follow'),
    tail,
    timestamps: flagBool(args, 'timestamps'),
    since: since === undefined ? undefined : parseSince(since),
    until: until === undefined ? undefined : parseSince(until, Date.now(), '--until'),
  };
  const records = args.positionals.map((ref) => resolveContainer(ref));
  if (records.length === 1) {
    await showLogs(records[0]!, options);
    return 0;
  }
  // Several (Podman's): each line after its container's short id (or name); -f follows them all at once.
  const prefixed = records.map((r) => ({ record: r, opts: { ...options, prefix: flagBool(args, 'names') ? r.Name : r.Id.slice(0, 12) } }));
  if (options.follow) await Promise.all(prefixed.map((p) => showLogs(p.record, p.opts)));
  else for (const p of prefixed) await showLogs(p.record, p.opts);
  return 0;
}
