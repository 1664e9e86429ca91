// A separate skiff-like process working on a store, for the concurrency tests
// (bundled by esbuild at test time): the same store code, real processes,
// real flock, real renames, real SIGKILL.
//   pull ROOT IMAGE [SLOW_MS]   pull a fixture image (fixtureImages below)
//   rmi ROOT REF                remove an image (exclusive lock)
//   hold ROOT                   take the exclusive lock, say "held", and wait to be killed
import { lockStore } from '../../../lib/store/lock.js';
import { QuietReporter } from '../../../lib/images/pull-progress.js';
import { pullImage } from '../../../lib/images/pull.js';
import { removeImages } from '../../../lib/store/remove.js';
import { openStoreForWriting } from '../../../lib/store/store.js';
import { buildImage, fakeClient, type BuiltImage, type TestImage } from './store-fixtures.js';

/** Deterministic images (gzip of the same bytes is the same bytes). */
export function fixtureImages(): Record<string, TestImage> {
  // Incompressible, so that the blobs are as big as the files and a slow transfer takes a while.
  let seed = 12345;
  const noise = (size: number) => {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      b.writeUInt32LE(seed, i);
    }
    return b;
  };
  const files = (prefix: string, n: number, size: number) => Array.from({ length: n }, (_, i) => ({ name: `${prefix}/f${i}`, data: noise(size) }));
  const base = { compression: 'gzip' as const, entries: [{ name: 'base/', type: '5' }, ...files('base', 100, 4096)] };
  return {
    'reg.test/base:1': { format: 'oci', layers: [base] },
    'reg.test/app:1': {
      format: 'oci',
      layers: [base, { compression: 'gzip', entries: [{ name: 'app/', type: '5' }, ...files('app', 200, 8192)] }, { compression: 'zstd', entries: [{ name: 'top', data: 'top\n' }] }],
    },
  };
}

export function fixtureClient(slowMs = 0) {
  const built: Record<string, BuiltImage> = {};
  for (const [name, img] of Object.entries(fixtureImages())) built[name] = buildImage(img);
  const slow = new Map<string, number>();
  if (slowMs > 0) for (const img of Object.values(built)) for (const l of img.layers) slow.set(l.digest, slowMs);
  return { built, client: fakeClient(built, { slow, chunk: 8192 }) };
}

async function main(): Promise<void> {
  const [op, root, arg, slow] = process.argv.slice(2);
  const store = openStoreForWriting(root);
  if (op === 'pull') {
    const { client } = fixtureClient(Number(slow ?? 0));
    // "started" on stderr once the pull holds the store lock and begins its work.
    const reporter = Object.assign(new QuietReporter(), { start: () => process.stderr.write('started\n') });
    const r = await pullImage(arg!, { store, client, reporter });
    process.stdout.write(`${r.id}\n`);
  } else if (op === 'rmi') {
    const lock = await lockStore(store.paths, 'exclusive');
    try {
      const r = await removeImages(store, lock, [arg!]);
      process.stdout.write(`${JSON.stringify({ events: r.events, errors: r.errors.map((e) => e.message) })}\n`);
    } finally {
      lock.release();
    }
  } else if (op === 'hold') {
    await lockStore(store.paths, 'exclusive');
    process.stderr.write('held\n');
    setInterval(() => {}, 60_000);
  } else {
    throw new Error(`unknown op ${op}`);
  }
}

if (process.argv[1]?.endsWith('store-worker.cjs')) {
  main().catch((err: unknown) => {
    process.stderr.write(`worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(125);
  });
}
