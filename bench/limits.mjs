// Issue 15's benchmark: `run --rm --memory 64m IMAGE true` against the same
// run without limits (target: at most 5 ms added) and without any cgroup
// (--cgroups disabled), with CPU times and the scope's own cost where systemd
// makes one (README.md), and `stats --no-stream`
// with 20 running containers, against `node -e 0`, same run. As root here;
// rootless where this host gives the user a cgroup (a cgroup v2 systemd
// session, e.g. the VM of test/vm: `npm run test:vm -- --bench limits`), else
// the refusal is printed instead. The runs use --network none (a private
// network's start-up, 200-460 ms of waiting for pasta, would drown the few ms
// measured) and are interleaved, one of each per round.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_PATH, asUser, installCopy, lookupUser, printTable, timeCommand } from './lib.mjs';

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

/** Clock ticks of the waited-for children of this process (cutime + cstime, /proc/self/stat), as ms. */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10; // USER_HZ 100
}

/** The CPU time of this user's systemd manager (its init.scope), µs; undefined where it cannot be read. */
function managerCpuUs(mode) {
  if (mode.owner !== null || isRoot) return undefined;
  try {
    const uid = process.getuid();
    const text = readFileSync(`/sys/fs/cgroup/user.slice/user-${uid}.slice/user@${uid}.service/init.scope/cpu.stat`, 'utf8');
    return Number(/^usage_usec (\d+)$/m.exec(text)[1]);
  } catch {
    return undefined;
  }
}

/**
 * Interleaved as timeInterleaved, and per command the mean CPU time of the
 * whole run (skiff, the helper, the container: every process the run waited
 * for) and of the systemd manager meanwhile (the scope's work is done there).
 */
function timeWithCpu(commands, runs, mode, warmup = 3) {
  const out = commands.map(() => ({ wall: [], cpu: 0, manager: 0, managerSeen: true }));
  for (let i = 0; i < warmup + runs; i++) {
    commands.forEach(({ argv, env }, k) => {
      const cpu0 = childrenCpuMs();
      const m0 = managerCpuUs(mode);
      const start = process.hrtime.bigint();
      const r = spawnSync(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
      if (i < warmup) return;
      const m1 = managerCpuUs(mode);
      out[k].wall.push(ms);
      out[k].cpu += childrenCpuMs() - cpu0;
      if (m0 === undefined || m1 === undefined) out[k].managerSeen = false;
      else out[k].manager += (m1 - m0) / 1000;
    });
  }
  return out.map((o) => {
    o.wall.sort((a, b) => a - b);
    return { min: o.wall[0], median: o.wall[Math.floor(o.wall.length / 2)], runs, cpu: o.cpu / runs, manager: o.managerSeen ? o.manager / runs : undefined };
  });
}

function printCpu(rows) {
  console.log(`${'CPU per run (mean), ms'.padEnd(48)} ${'run'.padStart(8)} ${'systemd'.padStart(8)}`);
  for (const r of rows) console.log(`${r.name.padEnd(48)} ${r.cpu.toFixed(1).padStart(8)} ${r.manager === undefined ? '       -' : r.manager.toFixed(1).padStart(8)}`);
}

/** What a limit adds, against what a run costs over Node's own start: a ratio that carries from a slow machine (TCG) to a fast one. */
function printRatio(rows) {
  const by = (prefix) => rows.find((r) => r.name.startsWith(prefix));
  const node = by('node -e 0');
  const none = by('run --rm IMAGE true');
  const mem = by('run --rm --memory 64m');
  const off = by('run --rm --cgroups disabled');
  for (const stat of ['min', 'median']) {
    const ratio = (mem[stat] - none[stat]) / (none[stat] - node[stat]);
    const cg = (none[stat] - off[stat]) / (off[stat] - node[stat]);
    console.log(`${stat}: (--memory - no limit) / (no limit - node -e 0) = ${ratio.toFixed(3)}; (no limit - --cgroups disabled) / (--cgroups disabled - node -e 0) = ${cg.toFixed(3)}`);
  }
}

/**
 * The scope alone, rootless on a systemd host: systemd-run --user --scope
 * around /bin/true against /bin/true (what each run paid when skiff started
 * that program), and skiff's own StartTransientUnit (its debug line: from
 * the helper's spawn to the helper in the scope).
 */
function printScopePieces(mode) {
  const systemdRun = ['systemd-run', '--user', '--scope', '--quiet', '--collect', '-p', 'Delegate=yes', 'true'];
  const env = { PATH: CLEAN_PATH, HOME: process.env.HOME ?? '/', ...mode.env };
  const pieces = timeWithCpu([{ argv: ['true'], env }, { argv: systemdRun, env }], runs, mode);
  const inScope = [];
  for (let i = 0; i < runs; i++) {
    const r = mode.sh([skiff, '--log-level', 'debug', 'run', '--rm', '--network', 'none', '--memory', '64m', 'bench-busybox', 'true']);
    const m = /in skiff-[0-9a-f]+\.scope ([\d.]+) ms after its spawn/.exec(r.stderr);
    if (m) inScope.push(Number(m[1]));
  }
  inScope.sort((a, b) => a - b);
  console.log(`\nthe scope alone, ${mode.name} (${runs} runs)`);
  console.log(`${'/bin/true'.padEnd(48)} min ${pieces[0].min.toFixed(1)} median ${pieces[0].median.toFixed(1)} ms; CPU ${pieces[0].cpu.toFixed(1)} ms, systemd ${pieces[0].manager?.toFixed(1) ?? '-'} ms`);
  console.log(`${'systemd-run --user --scope … true'.padEnd(48)} min ${pieces[1].min.toFixed(1)} median ${pieces[1].median.toFixed(1)} ms; CPU ${pieces[1].cpu.toFixed(1)} ms, systemd ${pieces[1].manager?.toFixed(1) ?? '-'} ms`);
  if (inScope.length > 0) console.log(`${"skiff's StartTransientUnit (spawn to in scope)".padEnd(48)} min ${inScope[0].toFixed(1)} median ${inScope[inScope.length >> 1].toFixed(1)} ms`);
  else console.log('(skiff placed no helper in a scope: no debug line)');
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
    // Without any cgroup: what the container's cgroup costs a run that asks for no limit.
    commands.splice(1, 0, { name: 'run --rm --cgroups disabled IMAGE true', argv: [skiff, ...run, '--cgroups', 'disabled', 'bench-busybox', 'true'] });
    const timed = timeWithCpu(commands.map((c) => ({ argv: asUser(mode.owner, c.argv), env: { PATH: CLEAN_PATH, HOME: process.env.HOME ?? '/', ...mode.env } })), runs, mode);
    const rows = commands.map((c, k) => ({ name: c.name, ...timed[k] }));
    printTable(`run --network none with and without limits, ${mode.name} (${runs} rounds, interleaved)`, rows, 'run --rm IMAGE true');
    printCpu(rows);
    if (limited.status !== 0) console.log(`(--memory refused here: ${limited.stderr.trim().split('\n')[0]})`);
    else printRatio(rows);
    if (limited.status === 0 && !isRoot) printScopePieces(mode);

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
