// `skiff tag SRC DST`: one more name for an image (metadata only).
import { SkiffError } from '../errors.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { imageEvent } from '../events/log.js';
import { lockStore } from './lock.js';
import { findImage } from './lookup.js';
import { writeName } from './names.js';
import type { Store } from './store.js';

export async function tagImage(store: Store, source: string, target: string): Promise<void> {
  const ref = parseReference(target);
  if (ref.digest !== undefined) throw new SkiffError(`refusing to create a tag with a digest reference: ${target}`);
  // Shared: garbage collection cannot delete the image between finding it and naming it.
  const lock = await lockStore(store.paths, 'shared');
  try {
    const found = await findImage(store, source);
    await writeName(store.paths, ref, found.record.id);
    imageEvent('tag', found.record.id, formatReference(ref));
  } finally {
    lock.release();
  }
}
