// `run IMAGE`: find the image in the store (pulling it per --pull), and turn
// it into what a container needs: its layers as overlay lower dirs (uppermost
// first) and its config.
import { SkiffError } from '../errors.js';
import { pullInChild } from '../images/pull-child.js';
import type { ImageConfig } from '../oci/image-spec.js';

export type PullPolicy = 'missing' | 'always' | 'never';

export interface RunImage {
  /** What the user typed (ps shows it, as Docker does). */
  name: string;
  id: string;
  lowerdirs: string[];
  layers: string[];
  /** Bytes of its layers, unpacked (ps --size's "virtual"). */
  size: number;
  /** The mode of its root directory (the container's "/"): what its layers' root entries say. */
  rootMode: number;
  config: ImageConfig;
  /** Keeps what was found until the container exists: see ImageHold. */
  hold: ImageHold;
}

/**
 * A concurrent rmi may delete the image between the moment `run` finds it and
 * the moment its container exists (from then on rmi sees the container and
 * refuses, or with -f keeps its layers). The store's generation tells whether
 * an rmi (any exclusive holder) ran meanwhile, without a lock on the hot path;
 * when one is at work as the image is looked up, the shared lock is held
 * instead, so it waits.
 */
export interface ImageHold {
  /**
   * Called once the container's record exists: resolves when every layer is
   * still there; throws a SkiffError when an rmi removed one meanwhile.
   */
  confirm(): Promise<void>;
  /** Lets go of the shared lock if one was taken (idempotent). */
  release(): void;
}

export function parsePullPolicy(text: string): PullPolicy {
  if (text === 'missing' || text === 'always' || text === 'never') return text;
  if (text === 'newer') return 'always';
  throw new SkiffError(`invalid --pull "${text}": use missing, always or never`);
}

export async function resolveRunImage(name: string, policy: PullPolicy, pullArgs: string[]): Promise<RunImage> {
  const { openStore, findImage, readBlob, layerDiffDir, lockPullOf, imageRootMode, sharedWithoutLock, lockStore, hasLayer } = await import('../store/index.js');
  let section: ReturnType<typeof sharedWithoutLock>;
  let lock: Awaited<ReturnType<typeof lockStore>> | undefined;
  const find = async () => {
    // Before the lookup whose result the container will use (after any pull).
    const paths = openStore().paths;
    section = sharedWithoutLock(paths);
    if (section === undefined && lock === undefined) lock = await lockStore(paths, 'shared');
    return findImage(openStore(), name);
  };
  let found;
  if (policy === 'always') {
    await pullInChild(name, pullArgs);
    found = await find();
  } else {
    try {
      found = await find();
    } catch (err) {
      if (policy === 'never' || !(err instanceof SkiffError)) throw err;
      const pullLock = await lockPullOf(openStore().paths, name);
      try {
        // Whoever held the lock before may have pulled it meanwhile.
        found = await find().catch(async () => {
          await pullInChild(name, pullArgs);
          return find();
        });
      } finally {
        pullLock.release();
      }
    }
  }
  const store = openStore();
  const layers = found.record.layers;
  const hold: ImageHold = {
    async confirm() {
      if (lock !== undefined || section?.unchanged()) return;
      // An rmi ran meanwhile: wait for it to finish, then see what it left.
      const shared = await lockStore(store.paths, 'shared');
      try {
        if (layers.every((diffID) => hasLayer(store.paths, diffID))) return;
      } finally {
        shared.release();
      }
      throw new SkiffError(`image ${name} was removed (rmi) while the container was being created from it: run it again`);
    },
    release() {
      lock?.release();
      lock = undefined;
    },
  };
  const configBytes = readBlob(store.paths, found.record.id);
  if (!configBytes) throw new SkiffError(`image ${name} is damaged: its config ${found.record.id} is missing: pull it again`);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  return {
    hold,
    name,
    id: found.record.id,
    size: found.record.size,
    layers,
    rootMode: imageRootMode(store.paths, layers),
    lowerdirs: [...layers].reverse().map((diffID) => layerDiffDir(store.paths, diffID)),
    config,
  };
}
