import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';
import { SkiffError } from '../../errors.js';
import { humanSize } from '../../humanize.js';
import { containerState } from '../../containers/state.js';
import { containerOwnFilesSize, listContainerIds, readRecord, removeContainerFiles, type ContainerRecord } from '../../containers/store.js';
import { containerSizes } from '../../containers/size.js';

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
  const stopped = listContainerIds()
    .map((id) => readRecord(id))
    .filter((r): r is ContainerRecord => r !== undefined && !containerState(r).Running);
  // What each wrote (its upper dir, measured by the helper) and skiff's files of it (its log).
  const sizes = await containerSizes(stopped, () => 0);
  let bytes = 0;
  const removed: string[] = [];
  for (const [i, record] of stopped.entries()) {
    bytes += (sizes[i]?.rw ?? 0) + containerOwnFilesSize(record.Id);
    await removeContainerFiles(record);
    removed.push(record.Id);
  }
  if (removed.length) process.stdout.write(`Deleted Containers:\n${removed.map((id) => `${id}\n`).join('')}\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(bytes)}\n`);
  return 0;
}
