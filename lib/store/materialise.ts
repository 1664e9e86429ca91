// What unpackLayer leaves to its caller (see UnpackStats in unpack.ts). An
// overlay store's layers record deletions the way overlayfs honours them
// inside a user namespace (design.md, decision 4): a whiteout is a 0/0
// character device, an opaque directory carries user.overlay.opaque=y. A vfs
// store's layers are never mounted, only copied (the helper applies them,
// helpers-c/src/layerdir.h), and keep the tar's own records instead: an empty
// file ".wh.NAME" and ".wh..wh..opq", which every filesystem takes, where an
// overlayfs (a store inside a container) refuses 0/0 devices, as Podman's
// vfs needs none. Device nodes, FIFOs and xattrs are made by the C helper,
// which never follows a symlink. Device nodes other than 0/0 need real root:
// a rootless pull skips them and its caller warns once.
import { lchownSync, lstatSync, lutimesSync, type Stats } from 'node:fs';
import path from 'node:path';
import { SkiffError, errnoCode } from '../errors.js';
import { applyFsOps, type FsOp } from '../namespaces/fsops.js';
import type { LayerDevice, UnpackStats } from './unpack.js';

export interface MaterialiseOptions {
  /** Real root: character and block devices can be created. */
  canMknod: boolean;
  /** Give device nodes the owner from the layer (inside the image's id mapping). */
  chown: boolean;
  /** How deletions are recorded: overlay's way (an overlay store), or the tar's (a vfs store). */
  whiteouts: 'overlay' | 'tar';
}

export interface MaterialiseResult {
  /** Device nodes not created (paths relative to the layer root). */
  skippedDevices: string[];
  /** Attributes the layer sets on its own root directory, which are not applied (see below). */
  ignoredRootAttributes: string[];
}

function creatable(d: LayerDevice, canMknod: boolean): boolean {
  return canMknod || d.type === 'fifo' || (d.type === 'char' && d.major === 0 && d.minor === 0);
}

const NODE_TYPE = { char: 'c', block: 'b', fifo: 'p' } as const;

/** Applies whiteouts, opaque directories, device nodes and xattrs below `diffDir`. */
export async function materialiseLayer(diffDir: string, stats: UnpackStats, opts: MaterialiseOptions): Promise<MaterialiseResult> {
  const result: MaterialiseResult = { skippedDevices: [], ignoredRootAttributes: [] };
  const devices = stats.devices.filter((d) => {
    if (creatable(d, opts.canMknod)) return true;
    result.skippedDevices.push(d.path);
    return false;
  });
  const skipped = new Set(result.skippedDevices);
  // The helper addresses entries below the directory it is given: the root's
  // own attributes (an opaque marker or an xattr on "./") cannot be named. A
  // layer root is never looked up by overlayfs, so an opaque root has no
  // effect there anyway.
  const isRoot = (p: string) => p === '.' || p === '';
  const ops: FsOp[] = [];
  const tar = opts.whiteouts === 'tar';
  for (const p of stats.whiteouts) ops.push({ op: tar ? 'whiteout-file' : 'whiteout', path: p });
  for (const d of devices) ops.push({ op: 'mknod', path: d.path, type: NODE_TYPE[d.type], mode: d.mode, major: d.major, minor: d.minor });
  const opaque: string[] = [];
  for (const p of stats.opaqueDirs) {
    if (isRoot(p)) result.ignoredRootAttributes.push('user.overlay.opaque');
    else opaque.push(p);
  }
  for (const p of opaque) ops.push({ op: tar ? 'opaque-file' : 'opaque', path: p });
  for (const x of stats.xattrs) {
    if (skipped.has(x.path)) continue;
    if (isRoot(x.path)) result.ignoredRootAttributes.push(x.name);
    else ops.push({ op: 'xattr', path: x.path, name: x.name, value: x.value });
  }
  if (ops.length === 0) return result;

  // Making a node changes its directory's times, which the layer set: keep them.
  const parents = new Map<string, Stats>();
  for (const p of [...stats.whiteouts, ...devices.map((d) => d.path)]) {
    const dir = path.join(diffDir, path.dirname(p));
    if (!parents.has(dir)) parents.set(dir, lstatSync(dir));
  }
  // The tar's opaque marker is an entry of the directory itself.
  if (tar) for (const p of opaque) if (!parents.has(path.join(diffDir, p))) parents.set(path.join(diffDir, p), lstatSync(path.join(diffDir, p)));
  await applyFsOps(diffDir, ops);
  for (const d of devices) {
    const p = path.join(diffDir, d.path);
    if (opts.chown && (d.uid !== 0 || d.gid !== 0)) {
      try {
        lchownSync(p, d.uid, d.gid);
      } catch (err) {
        throw new SkiffError(
          `cannot give ${JSON.stringify(d.path)} the owner ${d.uid}:${d.gid} from the image (${errnoCode(err) ?? String(err)}): ` +
            'that id is not mapped in this user namespace; give the user a larger range in /etc/subuid and /etc/subgid',
        );
      }
    }
    lutimesSync(p, d.mtime, d.mtime);
  }
  for (const [dir, st] of parents) lutimesSync(dir, st.atime, st.mtime);
  return result;
}
