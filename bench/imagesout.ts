// Issue 13's benchmark: images out of the store and back, skiff against
// Podman in the same run, on the two images of bench/pull (bench/images.ts):
// (a) one ~300 MiB layer, (b) a Debian-sized layer of ~6,900 files.
//
//   push cold   to an empty registry (a fresh docker-registry on 127.0.0.1
//               per run): every layer compressed and uploaded
//   push again  the same image to the same place: nothing to send
//   save        docker-archive to a file
//   load        that archive (skiff's) into an empty store
//
// Each tool first pulls the images into a store of its own (not timed). As
// root it runs as root and rootless (SKIFF_BENCH_USER, default skifftest);
// Podman runs rootless with --runtime runc (its default crun is not installed
// here), with --root/--runroot of its own. The page cache is dropped before
// each timed run when root. Baselines of the same run: `node -e 0`, `gzip -1`
// of the layer's tar (one core), `cp` of the archive, GNU `tar -xf` of it.
// Timings are printed, never asserted.
//
//   BENCH_RUNS=3 (default) node bench/imagesout.mjs
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { pushImage, startRegistry, type PushedImage, type TestRegistry } from '../test/integration/registry-harness.js';
import { bigLayer, debianLikeLayer } from './images.js';
import { CLEAN_PATH, asUser, hasCommand, installCopy, lookupUser, type User } from './lib.mjs';

const projectRoot = process.env['SKIFF_BENCH_ROOT'] ?? process.cwd();
const runs = Number(process.env['BENCH_RUNS'] ?? 3);
const isRoot = process.getuid?.() === 0;

interface Mode {
  name: 'root' | 'rootless';
  user: User | null;
  dir: string;
  env: Record<string, string>;
}

/** CPU seconds (user + system) of the last command `wall` ran, when GNU time is there to count them. */
let lastCpu: number | undefined;
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/**
 * Runs argv; resolves to its wall time in ms, and sets lastCpu to the CPU
 * seconds it and its children used (through GNU time): on a loaded machine
 * the wall time says little, the CPU time still compares the work done.
 */
function wall(argv: string[], env: Record<string, string>, cwd: string): Promise<number> {
  const full = gnuTime ? [gnuTime, '-f', 'cpu %U %S', ...argv] : argv;
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(full[0]!, full.slice(1), { env: { PATH: CLEAN_PATH, ...env }, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(err);
      lastCpu = m ? Number(m[1]) + Number(m[2]) : undefined;
      if (code === 0) resolve(ms);
      else reject(new Error(`${argv.join(' ')} failed (${code ?? signal}): ${err.trim()}`));
    });
  });
}

function dropCaches(): void {
  if (!isRoot) return;
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

function makeDirFor(dir: string, user: User | null): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user) chownSync(dir, user.uid, user.gid);
}

function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  if (isRoot) rmSync(dir, { recursive: true, force: true });
  else execFileSync('unshare', ['-r', 'rm', '-rf', dir]);
}

/** One tool's commands, with a store of its own under `store`. */
interface Tool {
  name: string;
  prepare(store: string, mode: Mode): void;
  env(store: string, mode: Mode): Record<string, string>;
  pull(ref: string, store: string): string[];
  push(ref: string, dest: string, store: string): string[];
  save(ref: string, file: string, store: string): string[];
  load(file: string, store: string): string[];
  remove?(store: string): void;
}

/** Podman's run roots (short paths in /tmp): removed at the end. */
const podmanRunroots = new Map<string, string>();

function tools(skiff: string): Tool[] {
  const list: Tool[] = [
    {
      name: 'skiff',
      prepare: (store, mode) => makeDirFor(store, mode.user),
      env: (store) => ({ SKIFF_ROOT: store }),
      pull: (ref) => [skiff, 'pull', '-q', '--tls-verify=false', ref],
      push: (ref, dest) => [skiff, 'push', '-q', '--tls-verify=false', ref, dest],
      save: (ref, file) => [skiff, 'save', '-o', file, ref],
      load: (file) => [skiff, 'load', '-q', '-i', file],
    },
  ];
  if (hasCommand('podman')) {
    // Podman refuses a runroot of 50 characters or more: a short one beside each store.
    const runroots = podmanRunroots;
    const podman = (store: string) => ['podman', '--root', `${store}/storage`, '--runroot', runroots.get(store)!, '--runtime', 'runc'];
    list.push({
      name: 'podman',
      prepare: (store, mode) => {
        makeDirFor(store, mode.user);
        makeDirFor(`${store}/xdg`, mode.user);
        const run = mkdtempSync('/tmp/skb-');
        if (mode.user) chownSync(run, mode.user.uid, mode.user.gid);
        runroots.set(store, run);
      },
      env: (store) => ({ XDG_RUNTIME_DIR: `${store}/xdg` }),
      pull: (ref, store) => [...podman(store), 'pull', '-q', '--tls-verify=false', ref],
      push: (ref, dest, store) => [...podman(store), 'push', '-q', '--tls-verify=false', ref, `docker://${dest}`],
      save: (ref, file, store) => [...podman(store), 'save', '-q', '-o', file, ref],
      load: (file, store) => [...podman(store), 'load', '-q', '-i', file],
      ...(isRoot ? {} : { remove: (store: string) => execFileSync('podman', ['unshare', 'rm', '-rf', store]) }),
    });
  }
  return list;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row {
  name: string;
  samples: number[];
  /** CPU seconds of each sample, when measured. */
  cpu: number[];
}

function printTable(title: string, rows: Row[], pairs: [string, string][]): void {
  console.log(`\n${title} (${runs} runs each; seconds)`);
  console.log(`${'what'.padEnd(52)} ${'min'.padStart(7)} ${'median'.padStart(7)} ${'cpu med'.padStart(8)}`);
  for (const r of rows) {
    if (r.samples.length === 0) continue;
    const cpu = r.cpu.length > 0 ? median(r.cpu).toFixed(2) : '';
    console.log(`${r.name.padEnd(52)} ${(Math.min(...r.samples) / 1000).toFixed(3).padStart(7)} ${(median(r.samples) / 1000).toFixed(3).padStart(7)} ${cpu.padStart(8)}`);
  }
  for (const [a, b] of pairs) {
    const ra = rows.find((r) => r.name === a);
    const rb = rows.find((r) => r.name === b);
    if (!ra?.samples.length || !rb?.samples.length) continue;
    const cpu = ra.cpu.length && rb.cpu.length ? `, CPU ${(median(rb.cpu) / median(ra.cpu)).toFixed(2)}×` : '';
    console.log(`  ${b} ÷ ${a}: wall ${(median(rb.samples) / median(ra.samples)).toFixed(2)}×${cpu} (above 1: skiff faster)`);
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync('/tmp/skiff-bench-imagesout-');
  chmodSync(work, 0o755);
  const registries: TestRegistry[] = [];
  const cleanup = async () => {
    for (const r of registries.splice(0)) await r.stop();
    removeTree(work);
    for (const run of podmanRunroots.values()) removeTree(run);
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().finally(() => process.exit(143)));
  try {
    const skiff = installCopy(projectRoot, path.join(work, 'skiff'));
    const user = isRoot ? lookupUser(process.env['SKIFF_BENCH_USER'] ?? 'skifftest') : null;
    const modes: Mode[] = [];
    const rootDir = path.join(work, 'root');
    makeDirFor(rootDir, null);
    modes.push({ name: isRoot ? 'root' : 'rootless', user: null, dir: rootDir, env: { HOME: process.env['HOME'] ?? '/' } });
    if (user) {
      const dir = path.join(work, 'user');
      makeDirFor(dir, user);
      modes.push({ name: 'rootless', user, dir, env: { HOME: user.home } });
    }
    console.log(`bench/imagesout: ${runs} runs each, ${isRoot ? 'page cache dropped before each timed run' : 'NOT root: caches not dropped'}; node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const t = Date.now();
    const source = await startRegistry();
    registries.push(source);
    const images: { key: string; title: string; pushed: PushedImage }[] = [
      { key: 'big', title: '(a) one ~300 MiB layer', pushed: await pushImage(source, 'bench/big', 'latest', { format: 'docker', layers: [{ entries: bigLayer(), compression: 'gzip' }] }) },
      { key: 'debian', title: '(b) Debian-sized layer', pushed: await pushImage(source, 'bench/debian', 'latest', { format: 'docker', layers: [{ entries: debianLikeLayer().entries, compression: 'gzip' }] }) },
    ];
    console.log(`images built and pushed to ${source.url} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const all = tools(skiff);
    const base = { HOME: process.env['HOME'] ?? '/' };
    for (const img of images) {
      const ref = img.pushed.reference;
      const rows: Row[] = [];
      const row = (name: string) => {
        const r: Row = { name, samples: [], cpu: [] };
        rows.push(r);
        return r;
      };
      /** One timed run into a row, with its CPU time. */
      const time = async (r: Row, argv: string[], env: Record<string, string>) => {
        r.samples.push(await wall(argv, env, work));
        if (lastCpu !== undefined) r.cpu.push(lastCpu);
      };
      const tarFile = path.join(work, `${img.key}.tar`);
      writeFileSync(tarFile, img.pushed.layers[0]!.tar);
      chmodSync(tarFile, 0o644);
      const nodeRow = row('node -e 0');
      const gzipRow = row('gzip -1 of the layer tar (one core)');
      const pairs: [string, string][] = [];
      for (const mode of modes) {
        for (const tool of all) {
          if (tool.name === 'podman' && mode.name === 'root' && modes.length > 1) continue; // Podman side by side rootless
          const label = `${mode.name}${mode.user ? ` (${mode.user.name})` : ''}`;
          const store = path.join(mode.dir, `${tool.name}-${img.key}`);
          tool.prepare(store, mode);
          const env = { ...mode.env, ...tool.env(store, mode) };
          await wall(asUser(mode.user, tool.pull(ref, store)), env, work);
          const push = row(`${tool.name} push, cold, ${label}`);
          const again = row(`${tool.name} push again (unchanged), ${label}`);
          const save = row(`${tool.name} save (docker-archive), ${label}`);
          const load = row(`${tool.name} load of skiff's archive, ${label}`);
          if (tool.name === 'podman') {
            for (const op of ['push, cold', 'push again (unchanged)', 'save (docker-archive)', "load of skiff's archive"]) pairs.push([`skiff ${op}, ${label}`, `podman ${op}, ${label}`]);
          }
          const cp = row(`cp of the archive, ${label}`);
          const untar = row(`tar -xf of the archive, ${label}`);
          for (let i = 0; i < runs; i++) {
            const dest = await startRegistry();
            registries.push(dest);
            const target = `${dest.host}/${tool.name}-${img.key}:${i}`;
            dropCaches();
            await time(push, asUser(mode.user, tool.push(ref, target, store)), env);
            await time(again, asUser(mode.user, tool.push(ref, target, store)), env);
            await dest.stop();
            registries.splice(registries.indexOf(dest), 1);
            const archive = path.join(mode.dir, `${tool.name}-${img.key}-${i}.tar`);
            dropCaches();
            await time(save, asUser(mode.user, tool.save(ref, archive, store)), env);
            const skiffArchive = path.join(mode.dir, `skiff-${img.key}-${i}.tar`);
            if (!existsSync(skiffArchive)) throw new Error('skiff runs first: its archive is what both load');
            const fresh = path.join(mode.dir, `${tool.name}-load-${i}`);
            tool.prepare(fresh, mode);
            dropCaches();
            await time(load, asUser(mode.user, tool.load(skiffArchive, fresh)), { ...mode.env, ...tool.env(fresh, mode) });
            if (tool.remove) tool.remove(fresh);
            else removeTree(fresh);
            if (tool.name === 'skiff') {
              dropCaches();
              await time(cp, asUser(mode.user, ['cp', archive, `${archive}.copy`]), mode.env);
              rmSync(`${archive}.copy`, { force: true });
              const dir = path.join(mode.dir, `untar-${i}`);
              makeDirFor(dir, mode.user);
              dropCaches();
              await time(untar, asUser(mode.user, ['tar', '-xf', archive, '-C', dir]), mode.env);
              removeTree(dir);
            } else {
              rmSync(archive, { force: true });
            }
          }
          if (tool.remove) tool.remove(store);
          else removeTree(store);
        }
      }
      for (let i = 0; i < runs; i++) {
        dropCaches();
        await time(nodeRow, ['node', '-e', '0'], base);
        dropCaches();
        await time(gzipRow, ['sh', '-c', `gzip -1 -c ${tarFile} > /dev/null`], base);
      }
      const layer = img.pushed.layers[0]!;
      printTable(`${img.title}: ${(layer.size / 1e6).toFixed(1)} MB gzip, ${(layer.tar.length / 1e6).toFixed(1)} MB tar, archive ${(statSync(tarFile).size / 1e6).toFixed(1)} MB`, rows, pairs);
    }
    console.log(`\nload average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}; total ${((Date.now() - t) / 1000).toFixed(0)} s`);
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(`bench/imagesout: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
