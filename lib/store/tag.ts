// `skiff tag SRC DST…`: more names for an image; `skiff untag IMAGE [NAME…]`:
// fewer (metadata only).
import { SkiffError } from '../errors.js';
import { familiarName, formatReference, parseReference } from '../oci/reference.js';
import { imageEvent } from '../events/log.js';
import { lockStore } from './lock.js';
import { findImage } from './lookup.js';
import { canonicalNameOf, listNames, removeName, writeName } from './names.js';
import type { Store } from './store.js';

export async function tagImage(store: Store, source: string, targets: string[]): Promise<void> {
  // Every target is checked before the first is written.
  const refs = targets.map((target) => {
    const ref = parseReference(target);
    if (ref.digest !== undefined) throw new SkiffError(`refusing to create a tag with a digest reference: ${target}`);
    return ref;
  });
  // Shared: garbage collection cannot delete the image between finding it and naming it.
  const lock = await lockStore(store.paths, 'shared');
  try {
    const found = await findImage(store, source);
    for (const ref of refs) {
      await writeName(store.paths, ref, found.record.id);
      imageEvent('tag', found.record.id, formatReference(ref));
    }
  } finally {
    lock.release();
  }
}

/**
 * Podman's `untag IMAGE [NAME…]`: removes those names of the image (all of
 * them when none is given); the image itself stays, dangling when no name is
 * left. A NAME that is not one of the image's fails before any is removed.
 */
export async function untagImage(store: Store, image: string, names: string[]): Promise<void> {
  const refs = names.map((n) => parseReference(n));
  const lock = await lockStore(store.paths, 'exclusive');
  try {
    const found = await findImage(store, image);
    const own = listNames(store.paths).filter((n) => n.image === found.record.id);
    const chosen = refs.length === 0 ? own : refs.map((ref) => {
      const named = own.find((n) => n.name === canonicalNameOf(ref));
      if (!named) throw new SkiffError(`${familiarName(ref)}: tag not known`);
      return named;
    });
    for (const n of new Set(chosen)) {
      removeName(n);
      imageEvent('untag', n.image, formatReference(n.ref));
    }
  } finally {
    lock.release();
  }
}
