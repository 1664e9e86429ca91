// Issue 2's benchmark: `skiff run --rootfs <busybox> true` against
// `unshare -Urpf --mount-proc true` and `node -e 0`, same run, as root and
// rootless (as SKIFF_BENCH_USER, default skifftest, when run as root).
// Target: skiff within 15 ms of `node -e 0`.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, chownSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asUser, installCopy, lookupUser, printTable, timeCommand } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 30);
const work = mkdtempSync('/tmp/skiff-bench-');
chmodSync(work, 0o755);

// A copy every user can read, like the tests use.
const skiff = installCopy(root, path.join(work, 'skiff'));

const isRoot = process.getuid() === 0;
const user = isRoot ? lookupUser(process.env.SKIFF_BENCH_USER ?? 'skifftest') : null;
const modes = [];
if (isRoot) {
  const rootfs = path.join(work, 'rootfs-root');
  execFileSync('sh', [path.join(root, 'scripts/make-busybox-rootfs.sh'), rootfs]);
  modes.push({ name: 'root', user: null, rootfs });
}
if (!isRoot || user) {
  const dir = path.join(work, 'user');
  mkdirSync(dir);
  if (user) chownSync(dir, user.uid, user.gid);
  const script = path.join(work, 'mk.sh');
  cpSync(path.join(root, 'scripts/make-busybox-rootfs.sh'), script);
  chmodSync(script, 0o755);
  const rootfs = path.join(dir, 'rootfs');
  execFileSync(asUser(user, ['sh', script, rootfs])[0], asUser(user, ['sh', script, rootfs]).slice(1));
  modes.push({ name: 'rootless', user, rootfs });
}

try {
  for (const mode of modes) {
    // A throwaway store: runs are containers too (--rm removes each one).
    const store = path.join(path.dirname(mode.rootfs), 'store');
    mkdirSync(store, { recursive: true });
    if (mode.user) chownSync(store, mode.user.uid, mode.user.gid);
    const env = { SKIFF_ROOT: store, ...(mode.user ? { HOME: mode.user.home } : {}) };
    const t = (argv) => timeCommand(asUser(mode.user, argv), { runs, env });
    const rows = [
      { name: 'node -e 0', ...t(['node', '-e', '0']) },
      { name: 'unshare -Urpf --mount-proc true', ...t(['unshare', '-Urpf', '--mount-proc', 'true']) },
      { name: 'skiff --version', ...t([skiff, '--version']) },
      { name: 'skiff run --rm --rootfs busybox true', ...t([skiff, 'run', '--rm', '--rootfs', mode.rootfs, 'true']) },
    ];
    printTable(`run, ${mode.name} (${runs} runs each)`, rows, 'node -e 0');
  }
} finally {
  // Rootless files may belong to sub-IDs: root removes them directly, a user from a user namespace.
  if (isRoot) rmSync(work, { recursive: true, force: true });
  else execFileSync('unshare', ['-r', 'rm', '-rf', work]);
}
