import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';
import { SkiffError } from '../../errors.js';
import { humanSize } from '../../humanize.js';
import { containerState } from '../../containers/state.js';
import { containerDiskUsage, listContainerIds, readRecord, removeContainerFiles } from '../../containers/store.js';

export const spec: CommandSpec = {
  name: 'container prune',
  summary: 'Remove all stopped containers',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [{ name: 'force', short: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' }],
};

export async function run(args: ParsedArgs): Promise<number> {
  if (!flagBool(args, 'force')) {
    if (!process.stdin.isTTY) throw new SkiffError('container prune asks for confirmation: use --force when stdin is not a terminal');
    process.stderr.write('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
    const answer = await new Promise<string>((resolve) => process.stdin.once('data', (d) => resolve(String(d).trim())));
    process.stdin.destroy();
    if (!/^y(es)?$/i.test(answer)) return 0;
  }
  const removed: string[] = [];
  let bytes = 0;
  for (const id of listContainerIds()) {
    const record = readRecord(id);
    if (!record || containerState(record).Running) continue;
    bytes += containerDiskUsage(id);
    await removeContainerFiles(record);
    removed.push(id);
  }
  if (removed.length) process.stdout.write(`Deleted Containers:\n${removed.map((id) => `${id}\n`).join('')}\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(bytes)}\n`);
  return 0;
}
