// `skiff tag SOURCE TARGET` (`image tag`): one more name for an image.
import type { CommandSpec, ParsedArgs } from '../args.js';

export const spec: CommandSpec = {
  name: 'tag',
  aliases: ['image tag'],
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  positionals: 'interspersed',
  minPositionals: 2,
  maxPositionals: 2,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  const [source, target] = args.positionals as [string, string];
  const store = await import('../../store/index.js');
  await store.tagImage(store.openStoreForWriting(), source, target);
  return 0;
}
