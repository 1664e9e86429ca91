// File operations Node cannot do (mknod, setxattr), done by `skiff-helper fsops`
// below one directory and never through a symlink. See helpers-c/src/fsops.h.
import { spawn } from 'node:child_process';
import { SkiffError } from '../errors.js';
import { helperPath } from './helper.js';

export type FsOp =
  | { op: 'whiteout'; path: string }
  | { op: 'opaque'; path: string }
  /** The tar's whiteout: an empty file ".wh.NAME" beside the path. */
  | { op: 'whiteout-file'; path: string }
  /** The tar's opaque marker: an empty file ".wh..wh..opq" in the directory. */
  | { op: 'opaque-file'; path: string }
  | { op: 'xattr'; path: string; name: string; value: Buffer }
  | { op: 'mknod'; path: string; type: 'c' | 'b' | 'p'; mode: number; major: number; minor: number };

export function encodeFsOps(ops: FsOp[]): Buffer {
  const fields: string[] = [];
  for (const o of ops) {
    const path = o.path.replace(/^\/+/, '');
    if (path === '' || path.includes('\0')) throw new SkiffError(`invalid path for a file operation: "${o.path}"`);
    switch (o.op) {
      case 'whiteout':
      case 'opaque':
      case 'whiteout-file':
      case 'opaque-file':
        fields.push(o.op, path);
        break;
      case 'xattr':
        fields.push('xattr', path, o.name, o.value.toString('hex'));
        break;
      case 'mknod':
        fields.push('mknod', path, o.type, (o.mode & 0o7777).toString(8), String(o.major), String(o.minor));
        break;
    }
  }
  return Buffer.from(fields.length ? `${fields.join('\0')}\0` : '');
}

/** Applies ops below dir, in order. Resolves when all are applied. */
export function applyFsOps(dir: string, ops: FsOp[]): Promise<void> {
  if (ops.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const child = spawn(helperPath(), ['fsops', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new SkiffError(`cannot start the skiff helper: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new SkiffError(stderr.trim().replace(/^skiff-helper: /, '') || `skiff-helper fsops exited with ${code}`));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(encodeFsOps(ops));
  });
}
