// Issue 10's benchmark (`npm run bench network`): what the default network
// costs and carries, against --network none, node -e 0 and rootless Podman's
// default (slirp4netns on Podman 4, with `--runtime runc`), same run:
//  (1) run --rm --rootfs busybox true: default network, --network none,
//      --network slirp4netns; podman run --rm --rootfs busybox true;
//  (2) 1 GiB from the host into a container through a published port (the
//      container's nc reads it to /dev/null), wall time and MiB/s;
//  (3) ab -n 20000 -c 32 against busybox httpd behind -p: requests per second.
// As root it runs as root and rootless (SKIFF_BENCH_USER, default skifftest);
// Podman rootless only. Timings are printed, never asserted.
//
//   BENCH_RUNS=20 (default) node bench/network.mjs
//   BENCH_THROUGHPUT=0: the start-up table only (no 1 GiB, no ab)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_PATH, asUser, hasCommand, installCopy, lookupUser, printTable, timeCommand } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 20);
const GiB = 1 << 30;
const work = mkdtempSync('/tmp/skiff-bench-net-');
chmodSync(work, 0o755);
const skiff = installCopy(root, path.join(work, 'skiff'));
const isRoot = process.getuid() === 0;
const user = isRoot ? lookupUser(process.env.SKIFF_BENCH_USER ?? 'skifftest') : null;
const podman = hasCommand('podman') && hasCommand('runc');

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

/** Sends `bytes` to 127.0.0.1:port and resolves with the ms until the receiver closed. */
function sendBytes(port, bytes) {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1 << 20);
    const start = process.hrtime.bigint();
    const sock = connect(port, '127.0.0.1');
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!sock.write(chunk)) return sock.once('drain', pump);
      }
      sock.end();
    };
    sock.on('connect', pump);
    sock.on('error', reject);
    sock.on('close', () => resolve(Number(process.hrtime.bigint() - start) / 1e6));
    sock.resume();
  });
}

/** The engine's container: a receiver of bytes and an httpd, each behind a published port. */
async function throughput(label, mode, engine, runFlags = []) {
  const sinkPort = await freePort();
  const webPort = await freePort();
  const sink = exec(mode, [...engine, 'run', '-d', ...runFlags, '-p', `${sinkPort}:5000`, '--rootfs', mode.rootfs, 'sh', '-c', 'nc -l -p 5000 > /dev/null']);
  const web = exec(mode, [...engine, 'run', '-d', ...runFlags, '-p', `${webPort}:80`, '--rootfs', mode.rootfs, 'sh', '-c', 'mkdir -p /tmp/w && echo hello > /tmp/w/index.html && exec httpd -f -p 80 -h /tmp/w']);
  try {
    await waitForPort(webPort);
    await new Promise((r) => setTimeout(r, 300));
    const ms = await sendBytes(sinkPort, GiB);
    const ab = spawnSync('ab', ['-q', '-n', '20000', '-c', '32', `http://127.0.0.1:${webPort}/`], { encoding: 'utf8' });
    const rps = Number(/Requests per second:\s+([\d.]+)/.exec(ab.stdout)?.[1] ?? NaN);
    const failed = Number(/Failed requests:\s+(\d+)/.exec(ab.stdout)?.[1] ?? NaN);
    console.log(`${label.padEnd(40)} 1 GiB in ${(ms / 1000).toFixed(2)} s = ${((GiB / (1 << 20)) / (ms / 1000)).toFixed(0)} MiB/s; ab -n 20000 -c 32: ${rps.toFixed(0)} req/s (${failed} failed)`);
  } finally {
    exec(mode, [...engine, 'rm', '-f', sink, web]);
  }
}

const modes = [];
if (isRoot) modes.push(makeMode('root', null));
if (!isRoot || user) modes.push(makeMode('rootless', user));
try {
  for (const mode of modes) {
    const t = (argv) => timeCommand(asUser(mode.user, argv), { runs, env: mode.env });
    const rows = [
      { name: 'node -e 0', ...t(['node', '-e', '0']) },
      { name: 'skiff run --rm --network none true', ...t([skiff, 'run', '--rm', '--network', 'none', '--rootfs', mode.rootfs, 'true']) },
      { name: 'skiff run --rm true (default: pasta)', ...t([skiff, 'run', '--rm', '--rootfs', mode.rootfs, 'true']) },
      { name: 'skiff run --rm --network slirp4netns true', ...t([skiff, 'run', '--rm', '--network', 'slirp4netns', '--rootfs', mode.rootfs, 'true']) },
    ];
    if (podman && mode.user) {
      rows.push({ name: 'podman run --rm --network none true', ...t([...mode.podmanArgs, 'run', '--rm', '--network', 'none', '--rootfs', mode.rootfs, 'true']) });
      rows.push({ name: 'podman run --rm true (default)', ...t([...mode.podmanArgs, 'run', '--rm', '--rootfs', mode.rootfs, 'true']) });
    }
    printTable(`run --rm --rootfs busybox true, ${mode.name} (${runs} runs each)`, rows, 'node -e 0');
    if (process.env.BENCH_THROUGHPUT === '0') continue;
    console.log(`\nthroughput through a published port, ${mode.name}`);
    await throughput('skiff (pasta)', mode, [skiff]);
    await throughput('skiff --network slirp4netns', mode, [skiff], ['--network', 'slirp4netns']);
    if (podman && mode.user) await throughput('podman (default)', mode, mode.podmanArgs);
  }
} finally {
  if (isRoot) rmSync(work, { recursive: true, force: true });
  else execFileSync('unshare', ['-r', 'rm', '-rf', work]);
}
