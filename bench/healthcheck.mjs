// What a healthcheck costs (docs/how-it-works.md "Healthchecks"), rootless as
// the bench user (and as root when run as root):
// (1) one `skiff healthcheck run CTR` (check `true`) against `skiff exec CTR
//     true` and `node -e 0`, and rootless Podman's `podman healthcheck run`
//     (--runtime runc) when the bench user has a busybox image in Podman
//     (SKIFF_BENCH_PODMAN_IMAGE, default localhost/bb:1); in turns, wall min
//     and median;
// (2) a container checked every 1s by its monitor for BENCH_SECONDS: the CPU
//     time its reaped children (the checks) used, from the monitor's
//     /proc/PID/stat cutime + cstime, per second of wall time.
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asUser, CLEAN_PATH, installCopy, lookupUser, printTable, timeInterleaved } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 30);
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const work = mkdtempSync('/tmp/skiff-bench-');
chmodSync(work, 0o755);
const skiff = installCopy(root, path.join(work, 'skiff'));
const isRoot = process.getuid() === 0;
const user = isRoot ? lookupUser(process.env.SKIFF_BENCH_USER ?? 'skifftest') : null;
const rootfs = path.join(work, 'rootfs');
execFileSync('sh', [path.join(root, 'scripts/make-busybox-rootfs.sh'), rootfs], { stdio: 'ignore' });
const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

function mode(name, who) {
  const store = path.join(work, `store-${name}`);
  mkdirSync(store, { mode: 0o700 });
  if (who) chownSync(store, who.uid, who.gid);
  const home = who ? who.home : '/root';
  const env = { PATH: CLEAN_PATH, HOME: home, SKIFF_ROOT: store, ...(who && existsSync(`/run/user/${who.uid}`) ? { XDG_RUNTIME_DIR: `/run/user/${who.uid}` } : {}) };
  // Every command as the mode's user, in env -i with only these variables.
  const argv = (args) => {
    const clean = ['env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...args];
    return who ? asUser(who, clean) : clean;
  };
  const run = (args, opts = {}) => spawnSync(argv(args)[0], argv(args).slice(1), { cwd: '/tmp', encoding: 'utf8', ...opts });
  const sk = (args) => {
    const r = run([skiff, ...args]);
    if (r.status !== 0) throw new Error(`skiff ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  return { name, env, argv, run, sk };
}

function measure(m) {
  const id = m.sk(['run', '-d', '--network', 'none', '--health-cmd', 'true', '--health-interval', 'disable', '--rootfs', rootfs, 'sleep', '600']);
  const cmd = (args) => ({ argv: m.argv(args) });
  const rows = [
    { name: 'node -e 0', ...cmd([process.execPath, '-e', '0']) },
    { name: 'skiff exec CTR true', ...cmd([skiff, 'exec', id, 'true']) },
    { name: 'skiff healthcheck run CTR (true)', ...cmd([skiff, 'healthcheck', 'run', id]) },
  ];
  const podmanImage = process.env.SKIFF_BENCH_PODMAN_IMAGE ?? 'localhost/bb:1';
  let podman;
  if (m.name === 'rootless' && m.run(['/usr/bin/podman', 'image', 'exists', podmanImage]).status === 0) {
    podman = `skiff-hc-bench-${process.pid}`;
    const r = m.run(['/usr/bin/podman', '--runtime', 'runc', 'run', '-d', '--name', podman, '--network', 'none', '--health-cmd', 'true', '--health-interval', 'disable', podmanImage, 'sleep', '600']);
    if (r.status !== 0) throw new Error(`podman run: ${r.stderr}`);
    rows.push({ name: 'podman healthcheck run CTR (true; runc)', ...cmd(['/usr/bin/podman', '--runtime', 'runc', 'healthcheck', 'run', podman]) });
  }
  const timed = timeInterleaved(rows.map(({ argv }) => ({ argv, env: {} })), { runs });
  printTable(`one check, ${m.name} (${runs} runs in turns)`, rows.map((r, i) => ({ name: r.name, ...timed[i] })), 'node -e 0');
  if (podman) m.run(['/usr/bin/podman', 'rm', '-f', '-t', '0', podman]);
  m.sk(['rm', '-f', id]);

  // (2) the timer's steady cost at 1s.
  const timed1 = m.sk(['run', '-d', '--network', 'none', '--health-cmd', 'true', '--health-interval', '1s', '--rootfs', rootfs, 'sleep', '600']);
  const monitor = JSON.parse(readFileSync(path.join(m.env.SKIFF_ROOT, 'containers', timed1, 'pid.json'), 'utf8')).MonitorPid;
  const cpu = () => {
    const stat = readFileSync(`/proc/${monitor}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / ticks; // cutime + cstime: reaped children
  };
  const c0 = cpu();
  const t0 = Date.now();
  spawnSync('sleep', [String(seconds)]);
  const used = cpu() - c0;
  const wall = (Date.now() - t0) / 1000;
  const checks = JSON.parse(m.sk(['inspect', '--format', '{{json .State.Health.Log}}', timed1])).length;
  console.log(`1s interval, ${m.name}: the checks used ${used.toFixed(2)} s of CPU in ${wall.toFixed(1)} s (${((used / wall) * 100).toFixed(1)}% of one core; the log keeps ${checks} results)`);
  m.sk(['rm', '-f', timed1]);
}

console.log(`uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
if (user) {
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, rootfs]);
  measure(mode('rootless', user));
}
if (isRoot) measure(mode('root', null));
console.log(`uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
