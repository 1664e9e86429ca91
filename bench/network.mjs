// Issue 10's benchmark (`npm run bench network`): what the default network
// costs and carries, against --network none, node -e 0 and rootless Podman's
// default (slirp4netns on Podman 4, with `--runtime runc`), same run:
//  (1) run --rm --rootfs busybox true: default network, --network none,
//      --network slirp4netns; podman run --rm --rootfs busybox true;
//  (2) 1 GiB from the host into a container through a published port (the
//      container's nc counts it with wc -c, and the count is checked), wall
//      time until the container has closed the connection, and MiB/s. nc's
//      stdin stays open (a FIFO it holds both ends of): Debian 12's pasta drops the rest of what the host
//      sends once the container has shut down its own sending side (an nc
//      with an empty stdin), ~15% of 64 MiB here; slirp4netns does not;
//  (3) ab -n 20000 -c 32 against busybox httpd behind -p: requests per second
//      (ab -r: errors are counted, not fatal; apache2-utils; skipped without).
// The start-up commands run interleaved, round by round (a loaded machine's
// drift hits each alike). As root it runs as root and rootless
// (SKIFF_BENCH_USER, default skifftest); Podman rootless only. Timings are
// printed, never asserted.
//
//   BENCH_RUNS=20 (default) node bench/network.mjs
//   BENCH_THROUGHPUT=0: the start-up table only (no 1 GiB, no ab)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_PATH, asUser, hasCommand, installCopy, lookupUser, printTable } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 20);
const GiB = 1 << 30;
const work = mkdtempSync('/tmp/skiff-bench-net-');
chmodSync(work, 0o755);
const skiff = installCopy(root, path.join(work, 'skiff'));
const isRoot = process.getuid() === 0;
const user = isRoot ? lookupUser(process.env.SKIFF_BENCH_USER ?? 'skifftest') : null;
const podman = hasCommand('podman') && hasCommand('runc');
const hasAb = hasCommand('ab');

function makeMode(name, owner) {
  const dir = path.join(work, name);
  mkdirSync(dir);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const script = path.join(work, 'mk.sh');
  cpSync(path.join(root, 'scripts/make-busybox-rootfs.sh'), script);
  chmodSync(script, 0o755);
  const rootfs = path.join(dir, 'rootfs');
  const argv = asUser(owner, ['sh', script, rootfs]);
  execFileSync(argv[0], argv.slice(1));
  const store = path.join(dir, 'store');
  const podmanRoot = path.join(dir, 'podman');
  for (const d of [store, podmanRoot]) {
    mkdirSync(d);
    if (owner) chownSync(d, owner.uid, owner.gid);
  }
  const env = { SKIFF_ROOT: store, HOME: owner ? owner.home : '/root', ...(owner ? { XDG_RUNTIME_DIR: path.join(dir, 'run') } : {}) };
  if (owner) {
    mkdirSync(env.XDG_RUNTIME_DIR, { mode: 0o700 });
    chownSync(env.XDG_RUNTIME_DIR, owner.uid, owner.gid);
  }
  return { name, user: owner, rootfs, env, podmanArgs: ['podman', '--root', path.join(podmanRoot, 'root'), '--runroot', path.join(podmanRoot, 'run'), '--runtime', 'runc'] };
}

function exec(mode, argv) {
  const full = asUser(mode.user, argv);
  const r = spawnSync(full[0], full.slice(1), { env: { PATH: CLEAN_PATH, ...mode.env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.on('connect', () => (c.destroy(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/**
 * Sends `bytes` to 127.0.0.1:port and resolves with the ms until the
 * receiver closed. Half-open: the container's nc ends its own sending side
 * at once (its stdin is empty), which must not end ours.
 */
function sendBytes(port, bytes) {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1 << 20);
    const start = process.hrtime.bigint();
    const sock = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let sent = 0;
    let ended = false;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!sock.write(chunk)) return sock.once('drain', pump);
      }
      ended = true;
      sock.end();
    };
    sock.on('connect', pump);
    sock.on('error', reject);
    sock.on('close', () => (ended ? resolve(Number(process.hrtime.bigint() - start) / 1e6) : reject(new Error('closed early'))));
    sock.resume();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The counts the sink container printed so far (one line per connection). */
function sinkCounts(mode, engine, id) {
  return exec(mode, [...engine, 'logs', id]).split('\n').filter((l) => l.trim() !== '').map(Number);
}

/**
 * 1 GiB into the sink: retried (bounded) while nc is not listening yet
 * (pasta and slirp4netns reset such a connection); a run counts only when
 * the container received every byte.
 */
async function sinkTime(mode, engine, id, port) {
  for (let attempt = 0; attempt < 40; attempt++) {
    const before = sinkCounts(mode, engine, id).length;
    const ms = await sendBytes(port, GiB).catch(() => null);
    let counts = sinkCounts(mode, engine, id);
    for (let i = 0; i < 50 && counts.length === before; i++) {
      await sleep(100);
      counts = sinkCounts(mode, engine, id);
    }
    if (ms !== null && counts.length > before && counts[counts.length - 1] === GiB) return ms;
    await sleep(250);
  }
  throw new Error(`no complete 1 GiB transfer into ${id}`);
}

/** The engine's container: a receiver of bytes and an httpd, each behind a published port. */
async function throughput(label, mode, engine, runFlags = []) {
  const sinkPort = await freePort();
  const webPort = await freePort();
  const sink = exec(mode, [...engine, 'run', '-d', ...runFlags, '-p', `${sinkPort}:5000`, '--rootfs', mode.rootfs, 'sh', '-c', 'rm -f /tmp/sink-in && mkfifo /tmp/sink-in && exec 3<>/tmp/sink-in && while :; do nc -l -p 5000 <&3 | wc -c; done']);
  const web = exec(mode, [...engine, 'run', '-d', ...runFlags, '-p', `${webPort}:80`, '--rootfs', mode.rootfs, 'sh', '-c', 'mkdir -p /tmp/w && echo hello > /tmp/w/index.html && exec httpd -f -p 80 -h /tmp/w']);
  try {
    const ms = await sinkTime(mode, engine, sink, sinkPort);
    let abText = 'ab not installed (apt-get install apache2-utils)';
    if (hasAb) {
      await waitForPort(webPort);
      const ab = spawnSync('ab', ['-r', '-q', '-n', '20000', '-c', '32', `http://127.0.0.1:${webPort}/`], { encoding: 'utf8' });
      const rps = Number(/Requests per second:\s+([\d.]+)/.exec(ab.stdout)?.[1] ?? NaN);
      const failed = Number(/Failed requests:\s+(\d+)/.exec(ab.stdout)?.[1] ?? NaN);
      abText = Number.isNaN(rps) ? `ab failed: ${(ab.stderr || ab.stdout).trim().split('\n').pop()}` : `${rps.toFixed(0)} req/s (${failed} failed)`;
    }
    console.log(`${label.padEnd(32)} 1 GiB in ${(ms / 1000).toFixed(2)} s = ${((GiB / (1 << 20)) / (ms / 1000)).toFixed(0).padStart(5)} MiB/s; ab -n 20000 -c 32: ${abText}`);
    return { ms, abText };
  } finally {
    exec(mode, [...engine, 'rm', '-f', sink, web]);
  }
}

/** Each command once per round, `runs` rounds after `warmup`: min and median of each. */
function timeInterleaved(rows, mode, { runs, warmup = 3 }) {
  const env = { PATH: CLEAN_PATH, HOME: mode.env.HOME, ...mode.env };
  const samples = rows.map(() => []);
  for (let round = 0; round < warmup + runs; round++) {
    rows.forEach((row, i) => {
      const argv = asUser(mode.user, row.argv);
      const start = process.hrtime.bigint();
      const r = spawnSync(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (r.status !== 0) throw new Error(`${row.argv.join(' ')} failed (${r.status}): ${r.stderr}`);
      if (round >= warmup) samples[i].push(ms);
    });
  }
  return rows.map((row, i) => {
    const t = samples[i].sort((a, b) => a - b);
    return { name: row.name, min: t[0], median: t[Math.floor(t.length / 2)], runs };
  });
}

const modes = [];
if (isRoot) modes.push(makeMode('root', null));
if (!isRoot || user) modes.push(makeMode('rootless', user));
try {
  for (const mode of modes) {
    const rows = [
      { name: 'node -e 0', argv: ['node', '-e', '0'] },
      { name: 'skiff run --rm --network none true', argv: [skiff, 'run', '--rm', '--network', 'none', '--rootfs', mode.rootfs, 'true'] },
      { name: 'skiff run --rm true (default: pasta)', argv: [skiff, 'run', '--rm', '--rootfs', mode.rootfs, 'true'] },
      { name: 'skiff run --rm --network slirp4netns true', argv: [skiff, 'run', '--rm', '--network', 'slirp4netns', '--rootfs', mode.rootfs, 'true'] },
    ];
    if (podman && mode.user) {
      rows.push({ name: 'podman run --rm --network none true', argv: [...mode.podmanArgs, 'run', '--rm', '--network', 'none', '--rootfs', mode.rootfs, 'true'] });
      rows.push({ name: 'podman run --rm true (default)', argv: [...mode.podmanArgs, 'run', '--rm', '--rootfs', mode.rootfs, 'true'] });
    }
    const timed = timeInterleaved(rows, mode, { runs });
    printTable(`run --rm --rootfs busybox true, ${mode.name} (${runs} rounds, interleaved)`, timed, 'node -e 0');
    const by = Object.fromEntries(timed.map((r) => [r.name, r]));
    const none = by['skiff run --rm --network none true'];
    const pasta = by['skiff run --rm true (default: pasta)'];
    console.log(`default network over --network none: ${(pasta.min - none.min).toFixed(1)} ms (min), ${(pasta.median - none.median).toFixed(1)} ms (median)`);
    const podNone = by['podman run --rm --network none true'];
    const podDefault = by['podman run --rm true (default)'];
    if (podNone && podDefault) {
      console.log(`podman / skiff, median: --network none ${(podNone.median / none.median).toFixed(2)}x, default network ${(podDefault.median / pasta.median).toFixed(2)}x`);
    }
    if (process.env.BENCH_THROUGHPUT === '0') continue;
    console.log(`\nthroughput through a published port, ${mode.name}`);
    await throughput('skiff (pasta)', mode, [skiff]);
    await throughput('skiff --network slirp4netns', mode, [skiff], ['--network', 'slirp4netns']);
    if (podman && mode.user) await throughput('podman (default)', mode, mode.podmanArgs);
  }
} finally {
  // Rootless Podman leaves its pause process (the user namespace it keeps) for each runtime directory.
  for (const mode of modes) {
    if (!mode.user || !mode.env.XDG_RUNTIME_DIR) continue;
    try {
      process.kill(Number(readFileSync(path.join(mode.env.XDG_RUNTIME_DIR, 'libpod/tmp/pause.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // none
    }
  }
  if (isRoot) rmSync(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  else execFileSync('unshare', ['-r', 'rm', '-rf', work]);
}
