// Issue 15's benchmark: `run --rm --memory 64m IMAGE true` against the same
// run without limits (target: at most 5 ms added) and `stats --no-stream`
// with 20 running containers, against `node -e 0`, same run. As root here;
// rootless where this host gives the user a cgroup (a cgroup v2 systemd
// session, e.g. the VM of test/vm: `npm run test:vm -- --bench limits`), else
// the refusal is printed instead. The runs use --network none (a private
// network's start-up, 200-460 ms of waiting for pasta, would drown the few ms
// measured) and are interleaved, one of each per round.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_PATH, asUser, installCopy, lookupUser, printTable, timeCommand, timeInterleaved } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 20);
const work = mkdtempSync('/tmp/skiff-bench-');
chmodSync(work, 0o755);
const skiff = installCopy(root, path.join(work, 'skiff'));
const isRoot = process.getuid() === 0;
const user = isRoot ? lookupUser(process.env.SKIFF_BENCH_USER ?? 'skifftest') : null;

function setup(name, owner) {
  const dir = path.join(work, name);
  mkdirSync(dir);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const script = path.join(work, 'mk.sh');
  cpSync(path.join(root, 'scripts/make-busybox-rootfs.sh'), script);
  chmodSync(script, 0o755);
  const rootfs = path.join(dir, 'rootfs');
  const mk = asUser(owner, ['sh', script, rootfs]);
  execFileSync(mk[0], mk.slice(1));
  // Run by the user themselves (the VM), their session's runtime dir is where systemd --user listens.
  const session = !isRoot && process.env.XDG_RUNTIME_DIR ? { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR } : {};
  const env = { SKIFF_ROOT: path.join(dir, 'store'), ...(owner ? { HOME: owner.home } : {}), ...session };
  const sh = (argv, opts = {}) => {
    const a = asUser(owner, argv);
    return spawnSync(a[0], a.slice(1), { env: { PATH: CLEAN_PATH, ...env }, encoding: 'utf8', ...opts });
  };
  // An image of the busybox rootfs, made by skiff import (no registry needed).
  const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 1 << 28 });
  const imp = sh([skiff, 'import', '-', 'bench-busybox'], { input: tar.stdout });
  if (imp.status !== 0) throw new Error(`import failed: ${imp.stderr}`);
  return { name, owner, env, sh };
}

const modes = [];
if (isRoot) modes.push(setup('root', null));
if (!isRoot || user) modes.push(setup('rootless', user));

try {
  for (const mode of modes) {
    const t = (argv) => timeCommand(asUser(mode.owner, argv), { runs, env: mode.env });
    const run = ['run', '--rm', '--network', 'none'];
    const limited = mode.sh([skiff, ...run, '--memory', '64m', 'bench-busybox', 'true']);
    const commands = [
      { name: 'node -e 0', argv: ['node', '-e', '0'] },
      { name: 'run --rm IMAGE true', argv: [skiff, ...run, 'bench-busybox', 'true'] },
    ];
    if (limited.status === 0) {
      commands.push({ name: 'run --rm --memory 64m IMAGE true', argv: [skiff, ...run, '--memory', '64m', 'bench-busybox', 'true'] });
      commands.push({ name: 'run --rm (--memory --cpus --pids-limit) true', argv: [skiff, ...run, '--memory', '64m', '--cpus', '0.5', '--pids-limit', '100', 'bench-busybox', 'true'] });
    }
    const timed = timeInterleaved(commands.map((c) => ({ argv: asUser(mode.owner, c.argv), env: mode.env })), { runs });
    const rows = commands.map((c, k) => ({ name: c.name, ...timed[k] }));
    printTable(`run --network none with and without limits, ${mode.name} (${runs} rounds, interleaved)`, rows, 'run --rm IMAGE true');
    if (limited.status !== 0) console.log(`(--memory refused here: ${limited.stderr.trim().split('\n')[0]})`);

    const ids = [];
    for (let i = 0; i < 20; i++) {
      const r = mode.sh([skiff, 'run', '-d', '--network', 'none', ...(limited.status === 0 ? ['--memory', '64m'] : []), 'bench-busybox', 'sleep', '600']);
      if (r.status !== 0) throw new Error(`run -d failed: ${r.stderr}`);
      ids.push(r.stdout.trim());
    }
    const stats = [
      { name: 'node -e 0', ...t(['node', '-e', '0']) },
      { name: 'ps (20 running)', ...t([skiff, 'ps']) },
      { name: 'stats --no-stream (20 running)', ...t([skiff, 'stats', '--no-stream']) },
      { name: 'stats --no-stream --format json (20)', ...t([skiff, 'stats', '--no-stream', '--format', 'json']) },
    ];
    printTable(`stats with 20 running containers${limited.status === 0 ? ' (each with --memory 64m)' : ' (no cgroup)'}, ${mode.name} (${runs} runs each)`, stats, 'node -e 0');
    mode.sh([skiff, 'rm', '-f', ...ids]);
  }
} finally {
  // Rootless, the image's files belong to sub-IDs: skiff removes them (in its user namespace).
  for (const mode of modes) if (mode.owner === null && !isRoot) mode.sh([skiff, 'system', 'prune', '-a', '-f']);
  if (isRoot) rmSync(work, { recursive: true, force: true });
  else if (spawnSync('unshare', ['-r', 'rm', '-rf', work], { stdio: 'ignore' }).status !== 0) console.error(`bench: could not remove all of ${work}`);
}
