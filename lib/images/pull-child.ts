// `skiff pull` as a child process, for a `run` or `create` whose image is
// missing: the child enters the store's user namespace itself (rootless) and
// shows its progress on stderr, while the caller stays as it is.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { installRoot } from '../paths.js';

export function pullInChild(name: string, extraArgs: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--', path.join(installRoot(), 'bin/skiff'), 'pull', ...extraArgs, name], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', (err) => reject(new SkiffError(`cannot run skiff pull: ${err.message}`)));
    // The child's own error line is the one line the user sees: this one only carries its exit code.
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(code !== null ? new SkiffError(`pulling ${name} failed`, code, undefined, { reported: true }) : new SkiffError(`pulling ${name} failed: skiff pull was killed by ${signal}`)),
    );
  });
}
