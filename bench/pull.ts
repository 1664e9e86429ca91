// Issue 3's benchmark: cold `skiff pull` from the real registry (Debian's
// docker-registry on 127.0.0.1, started by the test harness) of two images the
// bench builds and pushes:
//  (a) "big": one ~300 MiB layer, mostly random bytes with some text, gzip;
//  (b) "debian": one ~120 MB layer of many small files taken from this
//      machine's /usr (a debootstrap-sized tree), gzip.
// Each pull is cold: a fresh store (SKIFF_ROOT), and, when run as root, the page
// cache dropped before it. As root it pulls as root and rootless (as
// SKIFF_BENCH_USER, default skifftest, with a store that user owns). Baselines
// from the same run: downloading the same blobs with curl and gunzipping them to
// /dev/null (the layers of an image in parallel, as skiff fetches them), the
// download alone, GNU tar extracting the same stream, and `node -e 0`; rootless
// `podman pull` and `skopeo copy` side by side when installed. Timings are
// printed, never asserted. Run by bench/pull.mjs (this file is bundled first).
//
//   BENCH_RUNS=3 (default) node bench/pull.mjs
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pushImage, startRegistry, type PushedImage, type TestRegistry } from '../test/integration/registry-harness.js';
import { bigLayer, debianLikeLayer } from './images.js';
import { CLEAN_PATH, asUser, hasCommand, installCopy, lookupUser, type User } from './lib.mjs';

const projectRoot = process.env['SKIFF_BENCH_ROOT'] ?? process.cwd();
const runs = Number(process.env['BENCH_RUNS'] ?? 3);
const isRoot = process.getuid?.() === 0;
const MB = 1e6;

/** Podman 4.3.1, rootless, native overlay, measured elsewhere on this machine kind (issue 3): not measured here. */
const PODMAN_REFERENCE = {
  big: { seconds: 3.73, compressedMB: 363, note: 'the 363 MB image' },
  debian: { seconds: 2.26, compressedMB: 49, note: 'Debian, 49 MB gzip, 121 MB tar, 6,655 entries' },
} as const;

// ---------------------------------------------------------------------------
// Images

interface BenchImage {
  key: 'big' | 'debian';
  title: string;
  pushed: PushedImage;
  compressed: number;
  uncompressed: number;
  entries: number;
}

function describe(key: BenchImage['key'], title: string, pushed: PushedImage, entries: number): BenchImage {
  return {
    key,
    title,
    pushed,
    compressed: pushed.layers.reduce((n, l) => n + l.size, 0),
    uncompressed: pushed.layers.reduce((n, l) => n + l.tar.length, 0),
    entries,
  };
}

// ---------------------------------------------------------------------------
// Running things

/** Runs argv to completion; resolves to its wall time in ms; rejects with its stderr if it fails. */
function wall(argv: string[], env: Record<string, string>, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { env: { PATH: CLEAN_PATH, ...env }, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${argv.join(' ')} failed (${code ?? signal}): ${err.trim()}`));
    });
  });
}

/** Cold: dirty pages written and the page cache dropped (root only; else a no-op). */
function dropCaches(): void {
  if (!isRoot) return;
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

interface Mode {
  name: 'root' | 'rootless';
  user: User | null;
  /** A directory this mode's user owns, for stores. */
  dir: string;
  env: Record<string, string>;
}

/**
 * Removes a store. Rootless stores may hold sub-ID-owned files: root removes
 * them directly; a user does it from `unshare -r`, which is enough here because
 * every file of the bench's images belongs to the image's root (the user).
 */
function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  if (isRoot) rmSync(dir, { recursive: true, force: true });
  else execFileSync('unshare', ['-r', 'rm', '-rf', dir]);
}

interface Contender {
  name: string;
  /** The command for one cold run into a fresh store under `store` (which does not exist yet). */
  argv(ref: string, store: string, mode: Mode): string[];
  env?(store: string, mode: Mode): Record<string, string>;
  /** Prepare `store` (as the mode's user) before timing. */
  prepare?(store: string, mode: Mode): void;
  /** Remove `store` afterwards, when removeTree cannot. */
  remove?(store: string): void;
}

function makeDirFor(dir: string, user: User | null): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user) chownSync(dir, user.uid, user.gid);
}

function contenders(skiff: string): Contender[] {
  const list: Contender[] = [
    {
      name: 'skiff pull',
      argv: (ref) => [skiff, 'pull', '-q', '--tls-verify=false', ref],
      env: (store) => ({ SKIFF_ROOT: store }),
    },
  ];
  if (hasCommand('podman')) {
    list.push({
      name: 'podman pull',
      // Rootless Podman here needs runc (its default crun is not installed); a store of its own.
      argv: (ref, store) => ['podman', '--root', `${store}/storage`, '--runroot', `${store}/run`, '--runtime', 'runc', 'pull', '-q', '--tls-verify=false', ref],
      env: (store) => ({ XDG_RUNTIME_DIR: `${store}/xdg` }),
      prepare: (store, mode) => {
        makeDirFor(store, mode.user);
        makeDirFor(`${store}/xdg`, mode.user);
      },
      // Its layers hold sub-ID-owned files: only root or Podman's own user namespace can remove them.
      ...(isRoot ? {} : { remove: (store: string) => execFileSync('podman', ['unshare', 'rm', '-rf', store]) }),
    });
  }
  if (hasCommand('skopeo')) {
    list.push({
      name: 'skopeo copy docker:// oci: (no unpack)',
      argv: (ref, store) => ['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${store}/oci:bench`],
      prepare: (store, mode) => makeDirFor(store, mode.user),
    });
  }
  return list;
}

// ---------------------------------------------------------------------------
// Results

interface Row {
  name: string;
  samples: number[];
  /** Compressed bytes this row moves (0 for node -e 0). */
  bytes: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const min = (xs: number[]) => Math.min(...xs);

function printImageTable(img: BenchImage, rows: Row[], baseline: Row): void {
  const ref = PODMAN_REFERENCE[img.key];
  const refRate = ref.compressedMB / ref.seconds;
  console.log(`\n${img.title}: ${img.pushed.layers.length} layer, ${(img.compressed / MB).toFixed(1)} MB gzip, ${(img.uncompressed / MB).toFixed(1)} MB tar, ${img.entries} tar entries (${runs} cold runs each)`);
  console.log(`${'what'.padEnd(50)} ${'min s'.padStart(7)} ${'median s'.padStart(9)} ${'MB/s'.padStart(7)}  ${'÷ dl+gunzip'.padStart(11)}  ${'Podman ref: speed×'.padStart(18)}  ${'time×'.padStart(6)}`);
  for (const r of rows) {
    const med = median(r.samples) / 1000;
    const moves = r.bytes > 0;
    const rate = moves ? (r.bytes / MB / med).toFixed(1) : '';
    const vsBase = moves ? `${(median(r.samples) / median(baseline.samples)).toFixed(2)}×` : '';
    const speed = moves ? `${(r.bytes / MB / med / refRate).toFixed(2)}×` : '';
    const time = moves ? `${(ref.seconds / med).toFixed(2)}×` : '';
    console.log(`${r.name.padEnd(50)} ${(min(r.samples) / 1000).toFixed(3).padStart(7)} ${med.toFixed(3).padStart(9)} ${rate.padStart(7)}  ${vsBase.padStart(11)}  ${speed.padStart(18)}  ${time.padStart(6)}`);
  }
  console.log(`${'Podman 4.3.1 rootless (reference, NOT measured)'.padEnd(50)} ${''.padStart(7)} ${ref.seconds.toFixed(3).padStart(9)} ${refRate.toFixed(1).padStart(7)}  (${ref.note}; issue 3)`);
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const work = mkdtempSync('/tmp/skiff-bench-pull-');
  chmodSync(work, 0o755);
  let reg: TestRegistry | undefined;
  const cleanup = async () => {
    await reg?.stop();
    reg = undefined;
    removeTree(work);
  };
  const onSignal = (s: NodeJS.Signals) => {
    void cleanup().finally(() => process.exit(s === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
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
    } else if (isRoot) {
      console.log('(no user skifftest: rootless runs skipped; scripts/create-test-user.sh makes one)');
    }
    const caches = isRoot ? 'page cache dropped before each run' : 'NOT root: page cache not dropped, runs are not fully cold';
    console.log(`bench/pull: ${runs} runs each, ${caches}; node ${process.version}; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);

    const t = Date.now();
    reg = await startRegistry();
    const big = bigLayer();
    const bigImage = describe('big', '(a) big layer', await pushImage(reg, 'bench/big', 'latest', { format: 'docker', layers: [{ entries: big, compression: 'gzip' }] }), big.length);
    const deb = debianLikeLayer();
    const debImage = describe('debian', '(b) Debian-sized', await pushImage(reg, 'bench/debian', 'latest', { format: 'docker', layers: [{ entries: deb.entries, compression: 'gzip' }] }), deb.entries.length);
    const files = deb.entries.filter((e) => e.type === '0').length;
    console.log(`registry ${reg.url} (docker-registry), images built and pushed in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    console.log(`(b) is ${deb.dirs.join(' ')} from this machine: ${deb.entries.length} entries, ${files} regular files`);

    const tools = contenders(skiff);
    for (const img of [bigImage, debImage]) {
      const ref = img.pushed.reference;
      const urls = img.pushed.layers.map((l) => `${reg!.url}/v2/${img.pushed.repo}/blobs/${l.digest}`);
      const baseEnv = { HOME: process.env['HOME'] ?? '/' };
      // The layers at once, as skiff fetches them (each image here has one layer).
      const parallel = async (cmd: (url: string, i: number) => string) => {
        dropCaches();
        const start = process.hrtime.bigint();
        await Promise.all(urls.map((u, i) => wall(['sh', '-c', cmd(u, i)], baseEnv, work)));
        return Number(process.hrtime.bigint() - start) / 1e6;
      };
      const rows: Row[] = [];
      const row = (name: string, bytes: number) => {
        const r = { name, samples: [] as number[], bytes };
        rows.push(r);
        return r;
      };
      const nodeRow = row('node -e 0 (cold cache, like the pulls)', 0);
      const dlGunzip = row('curl | gunzip > /dev/null (download+gunzip)', img.compressed);
      const dlOnly = row('curl > /dev/null (download only)', img.compressed);
      const gnuTar = row(`curl | tar -xzf - (GNU tar, as ${isRoot ? 'root' : 'this user'})`, img.compressed);
      const pullRows = modes.flatMap((mode) => tools.map((tool) => ({ mode, tool, row: row(`${tool.name}, ${mode.name}${mode.user ? ` (${mode.user.name})` : ''}`, img.compressed) })));

      // Runs interleaved, so that a noisy moment on the machine spreads over all rows.
      for (let i = 0; i < runs; i++) {
        dropCaches();
        nodeRow.samples.push(await wall(['node', '-e', '0'], baseEnv, work));
        dlGunzip.samples.push(await parallel((u) => `curl -sfS '${u}' | gunzip > /dev/null`));
        dlOnly.samples.push(await parallel((u) => `curl -sfS -o /dev/null '${u}'`));
        const tarDir = path.join(rootDir, `tar-${i}`);
        mkdirSync(tarDir);
        gnuTar.samples.push(await parallel((u, n) => `mkdir ${tarDir}/${n} && curl -sfS '${u}' | tar -xzf - -C ${tarDir}/${n}`));
        removeTree(tarDir);
        for (const p of pullRows) {
          const store = path.join(p.mode.dir, `store-${i}`);
          p.tool.prepare?.(store, p.mode);
          const env = { ...p.mode.env, ...(p.tool.env?.(store, p.mode) ?? {}) };
          dropCaches();
          p.row.samples.push(await wall(asUser(p.mode.user, p.tool.argv(ref, store, p.mode)), env, work));
          if (p.tool.remove) p.tool.remove(store);
          else removeTree(store);
        }
      }
      printImageTable(img, rows, dlGunzip);
    }
    console.log(
      [
        '',
        'Columns: "÷ dl+gunzip" is median time over the download+gunzip median (target for skiff: ≤ 1.5×); "Podman ref:',
        'speed×" is MB/s over the Podman reference\'s MB/s and "time×" the reference time over this median (targets for',
        'skiff: ≥ 1.5×; the reference images differ in size, so compare speed for (a) and time for (b), whose entry count',
        'and tar size match). MB = 10^6 bytes of the compressed blobs.',
        `total ${((Date.now() - t) / 1000).toFixed(0)} s`,
      ].join('\n'),
    );
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(`bench/pull: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
