// `skiff tag SOURCE TARGET…` (`image tag`): more names for an image (several
// at once, as Podman's; Docker's takes one).
import type { CommandSpec, ParsedArgs } from '../args.js';

export const spec: CommandSpec = {
  name: 'tag',
  aliases: ['image tag'],
  summary: 'Create tags TARGET_IMAGE… that refer to SOURCE_IMAGE',
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG] [TARGET_IMAGE[:TAG]...]',
  positionals: 'interspersed',
  minPositionals: 2,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  const [source, ...targets] = args.positionals as [string, ...string[]];
  const store = await import('../../store/index.js');
  await store.tagImage(store.openStoreForWriting(), source, targets);
  return 0;
}
