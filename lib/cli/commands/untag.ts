// `skiff untag IMAGE [NAME…]` (`image untag`, Podman's): removes names of an
// image, or all of them; the image stays.
import type { CommandSpec, ParsedArgs } from '../args.js';

export const spec: CommandSpec = {
  name: 'untag',
  aliases: ['image untag'],
  summary: 'Remove names from a local image (all of them when none is given)',
  usage: 'IMAGE [NAME...]',
  positionals: 'interspersed',
  minPositionals: 1,
  flags: [],
};

export async function run(args: ParsedArgs): Promise<number> {
  const [image, ...names] = args.positionals as [string, ...string[]];
  const store = await import('../../store/index.js');
  await store.untagImage(store.openStoreForWriting(), image, names);
  return 0;
}
