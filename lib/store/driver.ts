// The storage driver: how a container gets its root filesystem from an
// image's layers. `overlay` mounts them with the kernel's overlayfs in the
// container's user namespace (design.md decision 4); `vfs` gives each
// container a plain copy of them (the layers applied one over another), for
// hosts where overlay cannot be mounted, at the cost of a copy per container.
// The layers themselves are stored the same way for both.
//
// A store keeps the driver it was made with in <GraphRoot>/storage-driver,
// written by its first writer; a process asking for another one is refused,
// as Podman refuses a storage.conf that disagrees with its database.
import { linkSync, readFileSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import { probeOverlaySync } from '../host/probes.js';

export type StorageDriver = 'overlay' | 'vfs';

export const STORAGE_DRIVERS: readonly StorageDriver[] = ['overlay', 'vfs'];

function recordFile(root: string): string {
  return path.join(root, 'storage-driver');
}

/** The driver the store at `root` was made with; undefined for a store that has none yet. */
export function recordedStorageDriver(root: string): StorageDriver | undefined {
  let text: string;
  try {
    text = readFileSync(recordFile(root), 'utf8').trim();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw new SkiffError(`cannot read ${recordFile(root)}: ${errnoCode(err) ?? String(err)}`);
  }
  if (text !== 'overlay' && text !== 'vfs') throw new SkiffError(`${recordFile(root)}: unknown storage driver "${text}" (skiff knows overlay and vfs)`);
  return text;
}

/**
 * A new store's driver when none was asked for: overlay where this process
 * can mount one in the store's file system (in a user namespace when
 * rootless, as the helper will), else vfs, with a warning saying why
 * (design.md decision 4: an old kernel, a store on a file system overlay
 * cannot use as its upper layer, such as another overlay).
 */
function defaultDriver(root: string): StorageDriver {
  const probe = probeOverlaySync({ userns: (process.geteuid?.() ?? 0) !== 0, baseDir: root });
  if (probe.status !== 'failed') return 'overlay';
  process.stderr.write(`skiff: warning: overlay cannot be mounted for the store ${root} (${probe.detail}): it uses the vfs driver, a plain copy of the image per container\n`);
  return 'vfs';
}

function mismatch(root: string, recorded: StorageDriver, requested: StorageDriver): SkiffError {
  return new SkiffError(
    `--storage-driver ${requested}: the store ${root} was made with the ${recorded} driver; use --storage-driver ${recorded} with it, or another --root for a ${requested} store`,
  );
}

/** Refuses a requested driver (--storage-driver) that differs from the one the store was made with. */
export function checkStorageDriver(root: string, requested: StorageDriver): void {
  const recorded = recordedStorageDriver(root);
  if (recorded !== undefined && recorded !== requested) throw mismatch(root, recorded, requested);
}

/** The driver this process works with: --storage-driver's (SKIFF_STORAGE_DRIVER), else the store's, else overlay. */
export function storageDriver(root: string): StorageDriver {
  const requested = process.env['SKIFF_STORAGE_DRIVER'];
  if (requested === 'overlay' || requested === 'vfs') return requested;
  return recordedStorageDriver(root) ?? 'overlay';
}

/**
 * The driver a writer of the store at `root` uses, recorded when the store
 * has none yet (a complete file linked into place: of two first writers with
 * different drivers one wins and the other is refused).
 */
export function claimStorageDriver(root: string): StorageDriver {
  let driver = storageDriver(root);
  const recorded = recordedStorageDriver(root);
  if (recorded !== undefined) {
    if (recorded !== driver) throw mismatch(root, recorded, driver);
    return driver;
  }
  const temp = path.join(root, `.storage-driver-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    if (process.env['SKIFF_STORAGE_DRIVER'] === undefined) driver = defaultDriver(root);
    writeFileSync(temp, `${driver}\n`, { mode: 0o644 });
    try {
      linkSync(temp, recordFile(root));
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    } finally {
      unlinkSync(temp);
    }
  } catch (err) {
    if (err instanceof SkiffError) throw err;
    throw new SkiffError(`cannot record the storage driver in ${recordFile(root)}: ${errnoCode(err) ?? String(err)}`);
  }
  const now = recordedStorageDriver(root);
  if (now !== driver) throw mismatch(root, now ?? driver, driver);
  return driver;
}
