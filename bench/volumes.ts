// Issue 11's benchmark (`npm run bench volumes`): what a mount adds to
// `run --rm --network none IMAGE true`, what --userns keep-id adds (its first run copies the
// image's layers once; later runs reuse the copy), and the write throughput
// of `dd` into a bind mount against the host's own, root and rootless.
//
// Baselines measured in the same run: `node -e 0`, the same `run` without
// mounts, busybox's dd on the host into the same directory, and, when it is
// installed, Podman (`--runtime runc`, its own store) with the same flags.
// Timings are printed, never asserted. Run by bench/volumes.mjs (bundled first).
//
// Every run, skiff's as Podman's, is --network none, and each group of rows
// is timed in turns: on the default network (pasta) a run waits 200-460 ms
// for pasta's own start-up, and twenty runs of one row then twenty of the
// next meet different loads; together they buried what a mount adds (the
// figures of 2026-12-06, a named volume at +43 ms and a tmpfs at +34 ms over
// the plain run, were that spread). Measured in turns with --network none
// (2026-12-07, rootless, 20 rounds, a quiet spell of a shared machine): plain
// 77.5 ms minimum, a bind +1.4, a named volume +0.3, a tmpfs +2.4; CPU time
// of the whole process tree (perf stat task-clock, minimum) the same for all
// four, 71-72 ms; the helper's debug log shows each mount made within 1 ms.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { busyboxLayer, pushImage, startRegistry, type TestRegistry } from '../test/integration/registry-harness.js';
import { CLEAN_PATH, asUser, hasCommand, installCopy, lookupUser, printTable, timeCommand, timeInterleaved, type Timing, type User } from './lib.mjs';

const projectRoot = process.env['SKIFF_BENCH_ROOT'] ?? process.cwd();
const runs = Number(process.env['BENCH_RUNS'] ?? 20);
const ddMiB = Number(process.env['BENCH_DD_MIB'] ?? 128);
const isRoot = process.getuid?.() === 0;

interface Mode {
  name: 'root' | 'rootless';
  user: User | null;
  dir: string;
  store: string;
  env: Record<string, string>;
}

function must(mode: Mode, argv: string[], env: Record<string, string> = {}): string {
  const full = asUser(mode.user, argv);
  const r = spawnSync(full[0]!, full.slice(1), { env: { PATH: CLEAN_PATH, ...mode.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${mode.name}: ${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim().slice(-800)}`);
  return `${r.stdout}${r.stderr}`;
}

function makeDirFor(dir: string, user: User | null, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
  chmodSync(dir, mode);
  if (user) chownSync(dir, user.uid, user.gid);
}

/** Wall seconds of writing ddMiB MiB with fsync into dir by busybox dd, run through `prefix` (the host, or a container). */
function ddSeconds(mode: Mode, prefix: string[], dir: string, env: Record<string, string> = {}): number {
  const start = process.hrtime.bigint();
  must(mode, [...prefix, 'sh', '-c', `dd if=/dev/zero of=${dir}/dd.out bs=1M count=${ddMiB} conv=fsync 2>/dev/null; rm -f ${dir}/dd.out`], env);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const podmanDirs: string[] = [];
const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${ms.toFixed(1)} ms`;

function benchMode(mode: Mode, skiff: string, ref: string): void {
  const who = mode.user ? `${mode.name} (${mode.user.name})` : mode.name;
  const env = { SKIFF_ROOT: mode.store };
  const s = (...args: string[]) => [skiff, ...args];
  must(mode, s('pull', '-q', '--tls-verify=false', ref), env);
  const bind = path.join(mode.dir, 'bind');
  makeDirFor(bind, mode.user, 0o777);
  const binds = [1, 2, 3, 4].map((i) => path.join(mode.dir, `bind${i}`));
  for (const b of binds) makeDirFor(b, mode.user, 0o777);
  must(mode, s('volume', 'create', 'benchvol'), env);

  // keep-id's first run copies the layers: three fresh stores, one cold run each.
  const keepIdCold: number[] = [];
  if (mode.user) {
    for (let i = 0; i < 3; i++) {
      const store = path.join(mode.dir, `cold${i}`);
      makeDirFor(store, mode.user, 0o700);
      must(mode, s('pull', '-q', '--tls-verify=false', ref), { SKIFF_ROOT: store });
      const t = timeCommand(asUser(mode.user, s('run', '--rm', '--network', 'none', '--userns', 'keep-id', ref, 'true')), { runs: 1, warmup: 0, env: { ...mode.env, SKIFF_ROOT: store } });
      keepIdCold.push(t.median);
    }
  }

  // Each group of rows is timed in turns (bench/lib.mjs timeInterleaved), so that a drifting load meets every row alike.
  const rows: Array<{ name: string } & Timing> = [];
  const group = (list: Array<[string, string[], Record<string, string>]>) => {
    const timings = timeInterleaved(list.map(([, argv, extra]) => ({ argv: asUser(mode.user, argv), env: { ...mode.env, ...extra } })), { runs });
    list.forEach(([name], i) => rows.push({ name, ...timings[i]! }));
  };
  const run = (...args: string[]) => s('run', '--rm', '--network', 'none', ...args, ref, 'true');
  group([
    ['node -e 0', ['node', '-e', '0'], {}],
    ['skiff run --rm IMAGE true', run(), env],
    ['skiff … -v DIR:/d', run('-v', `${bind}:/d`), env],
    ['skiff … -v DIR1..4 (four binds)', run(...binds.flatMap((b, i) => ['-v', `${b}:/d${i}`])), env],
    ['skiff … -v NAME:/d (named volume)', run('-v', 'benchvol:/d'), env],
    ['skiff … --tmpfs /d', run('--tmpfs', '/d'), env],
    ...(mode.user
      ? ([
          ['skiff … --userns keep-id (copy made)', run('--userns', 'keep-id'), env],
          ['skiff … --userns keep-id -v DIR:/d', run('--userns', 'keep-id', '-v', `${bind}:/d`), env],
        ] as Array<[string, string[], Record<string, string>]>)
      : []),
  ]);

  if (hasCommand('podman')) {
    const pdir = mkdtempSync('/tmp/pv-');
    makeDirFor(pdir, mode.user, 0o700);
    podmanDirs.push(pdir);
    makeDirFor(path.join(pdir, 'xdg'), mode.user, 0o700);
    const penv = { XDG_RUNTIME_DIR: path.join(pdir, 'xdg') };
    const p = (...args: string[]) => ['podman', '--root', path.join(pdir, 'r'), '--runroot', path.join(pdir, 'rr'), '--runtime', 'runc', ...args];
    try {
      must(mode, p('pull', '-q', '--tls-verify=false', ref), penv);
      must(mode, p('volume', 'create', 'benchvol'), penv);
      group([
        ['podman run --rm IMAGE true', p('run', '--rm', '--network', 'none', ref, 'true'), penv],
        ['podman … -v DIR:/d', p('run', '--rm', '--network', 'none', '-v', `${bind}:/d`, ref, 'true'), penv],
        ['podman … -v NAME:/d', p('run', '--rm', '--network', 'none', '-v', 'benchvol:/d', ref, 'true'), penv],
        ...(mode.user ? ([['podman … --userns keep-id', p('run', '--rm', '--network', 'none', '--userns', 'keep-id', ref, 'true'), penv]] as Array<[string, string[], Record<string, string>]>) : []),
      ]);
    } catch (err) {
      console.log(`podman: skipped (${err instanceof Error ? err.message.slice(0, 300) : String(err)})`);
    }
  }
  printTable(`run with mounts, ${who} (${runs} runs each, after 3 warm-up runs)`, rows, 'node -e 0');
  const med = (name: string) => rows.find((r) => r.name === name)?.median ?? NaN;
  const min = (name: string) => rows.find((r) => r.name === name)?.min ?? NaN;
  for (const [what, of] of [['medians', med], ['minima', min]] as const) {
    const plain = of('skiff run --rm IMAGE true');
    console.log(
      `added per mount (${what}, over the plain run): bind ${signed(of('skiff … -v DIR:/d') - plain)}, ` +
        `four binds ${signed((of('skiff … -v DIR1..4 (four binds)') - plain) / 4)} each, named volume ${signed(of('skiff … -v NAME:/d (named volume)') - plain)}, ` +
        `tmpfs ${signed(of('skiff … --tmpfs /d') - plain)} (target: under 5 ms per mount)`,
    );
  }
  const plain = med('skiff run --rm IMAGE true');
  if (mode.user) {
    console.log(
      `keep-id: +${(med('skiff … --userns keep-id (copy made)') - plain).toFixed(1)} ms per run once the copy exists; ` +
        `first run on a fresh store (copies the image's layers): ${keepIdCold.map((x) => x.toFixed(0)).join(', ')} ms`,
    );
  }

  // dd into the bind mount against the host's own dd into the same directory (busybox's dd both sides);
  // the container's figure less a `run … true` timed beside it (busybox dd here prints no rate).
  const host: number[] = [];
  const inBind: number[] = [];
  for (let i = 0; i < 3; i++) {
    host.push(ddSeconds(mode, ['/bin/busybox'], bind));
    const start = process.hrtime.bigint();
    must(mode, s('run', '--rm', '--network', 'none', '-v', `${bind}:/d`, ref, 'true'), env);
    const overhead = Number(process.hrtime.bigint() - start) / 1e9;
    inBind.push(ddSeconds(mode, s('run', '--rm', '--network', 'none', '-v', `${bind}:/d`, ref), '/d', env) - overhead);
  }
  const mbps = (xs: number[]) => ddMiB / [...xs].sort((a, b) => a - b)[1]!;
  console.log(`dd of ${ddMiB} MiB with fsync, median of 3: host ${mbps(host).toFixed(0)} MiB/s, into the bind mount ${mbps(inBind).toFixed(0)} MiB/s (ratio ${(mbps(inBind) / mbps(host)).toFixed(2)})`);
}

async function main(): Promise<void> {
  const work = mkdtempSync('/tmp/skiff-bench-volumes-');
  chmodSync(work, 0o755);
  let reg: TestRegistry | undefined;
  try {
    const skiff = installCopy(projectRoot, path.join(work, 'skiff'));
    const modes: Mode[] = [];
    const addMode = (name: Mode['name'], user: User | null, home: string) => {
      const dir = path.join(work, name);
      makeDirFor(dir, user);
      const mode: Mode = { name, user, dir, store: path.join(dir, 'store'), env: { HOME: home } };
      makeDirFor(mode.store, user, 0o700);
      modes.push(mode);
    };
    addMode(isRoot ? 'root' : 'rootless', null, process.env['HOME'] ?? '/');
    const user = isRoot ? lookupUser(process.env['SKIFF_BENCH_USER'] ?? 'skifftest') : null;
    if (user) addMode('rootless', user, user.home);
    else if (isRoot) console.log('(no test user: rootless runs skipped; scripts/create-test-user.sh makes one)');
    console.log(`bench/volumes: ${runs} runs per timing; node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; podman ${hasCommand('podman') ? 'installed' : 'not installed'}`);
    const script = path.join(work, 'make-busybox-rootfs.sh');
    cpSync(path.join(projectRoot, 'scripts/make-busybox-rootfs.sh'), script);
    const imageRootfs = path.join(work, 'image-rootfs');
    must(modes[0]!, ['sh', script, imageRootfs]);
    reg = await startRegistry();
    await pushImage(reg, 'busybox', 'latest', { format: 'docker', layers: [{ entries: busyboxLayer(imageRootfs), compression: 'gzip' }], config: { Cmd: ['sh'] } });
    const ref = `${reg.host}/busybox:latest`;
    for (const mode of modes) benchMode(mode, skiff, ref);
    console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    await reg?.stop();
    try {
      if (isRoot) rmSync(work, { recursive: true, force: true });
      else spawnSync('unshare', ['-r', 'rm', '-rf', work], { stdio: 'inherit' });
    } catch (err) {
      console.error(`bench/volumes: could not remove ${work}: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const d of podmanDirs) {
      // A failed podman run can leave its overlay mounted (root): lazily unmounted first, and a leftover is only reported.
      spawnSync('umount', ['-R', '-l', path.join(d, 'r', 'overlay')], { stdio: 'ignore' });
      spawnSync('podman', ['unshare', 'rm', '-rf', d], { stdio: 'ignore' });
      try {
        rmSync(d, { recursive: true, force: true });
      } catch (err) {
        console.error(`bench/volumes: could not remove ${d}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

main().catch((err: unknown) => {
  console.error(`bench/volumes: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
