// unpackLayer in a separate process, for test/unit/unpack.test.ts (bundled by
// esbuild at test time): a suite run as root starts it as the unprivileged test
// user, whose chown of a file to another owner gets a real EPERM from the kernel.
//   unpack-worker TARGET [chown]   unpacks the tar on stdin into TARGET (with
//                                  UnpackOptions.chown when asked), and prints
//                                  {uid, stats} or {uid, error: {skiff, message, exitCode}}
import { SkiffError } from '../../../lib/errors.js';
import { unpackLayer } from '../../../lib/store/unpack.js';

async function main(): Promise<void> {
  const uid = process.getuid?.();
  try {
    const stats = await unpackLayer(process.stdin, process.argv[2]!, { chown: process.argv[3] === 'chown' });
    process.stdout.write(JSON.stringify({ uid, stats }));
  } catch (err) {
    const skiff = err instanceof SkiffError;
    const message = err instanceof Error ? err.message : String(err);
    process.stdout.write(JSON.stringify({ uid, error: { skiff, message, exitCode: skiff ? err.exitCode : undefined } }));
  }
}

void main();
