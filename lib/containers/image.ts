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
}

export function parsePullPolicy(text: string): PullPolicy {
  if (text === 'missing' || text === 'always' || text === 'never') return text;
  if (text === 'newer') return 'always';
  throw new SkiffError(`invalid --pull "${text}": use missing, always or never`);
}

export async function resolveRunImage(name: string, policy: PullPolicy, pullArgs: string[]): Promise<RunImage> {
  const { openStore, findImage, readBlob, layerDiffDir, lockPullOf, imageRootMode } = await import('../store/index.js');
  const find = async () => findImage(openStore(), name);
  let found;
  if (policy === 'always') {
    await pullInChild(name, pullArgs);
    found = await find();
  } else {
    try {
      found = await find();
    } catch (err) {
      if (policy === 'never' || !(err instanceof SkiffError)) throw err;
      const lock = await lockPullOf(openStore().paths, name);
      try {
        // Whoever held the lock before may have pulled it meanwhile.
        found = await find().catch(async () => {
          await pullInChild(name, pullArgs);
          return find();
        });
      } finally {
        lock.release();
      }
    }
  }
  const store = openStore();
  const configBytes = readBlob(store.paths, found.record.id);
  if (!configBytes) throw new SkiffError(`image ${name} is damaged: its config ${found.record.id} is missing: pull it again`);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  const layers = found.record.layers;
  return {
    name,
    id: found.record.id,
    size: found.record.size,
    layers,
    rootMode: imageRootMode(store.paths, layers),
    lowerdirs: [...layers].reverse().map((diffID) => layerDiffDir(store.paths, diffID)),
    config,
  };
}
