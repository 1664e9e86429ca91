// Issue 10's benchmark (`npm run bench network`): what the default network
// costs and carries, against --network none, node -e 0 and rootless Podman's
// default (slirp4netns on Podman 4, with `--runtime runc`), same run:
//  (1) run --rm --rootfs busybox true: default network, --network none,
//      --network slirp4netns; podman run --rm --rootfs busybox true;
//  (2) 1 GiB from the host's 127.0.0.1 into a container through a published
//      port, into two receivers in the same container, each checking what
//      arrived: busybox nc | wc -c (nc reads 1 KiB at a time: slow even on
//      the host's own loopback) and busybox nc -e dd bs=1M iflag=fullblock
//      (large reads; dd writes back "1024+0 records in"). nc's stdin stays
//      open (a FIFO it holds both ends of): Debian 12's pasta drops the rest
//      of what the host sends once the container has shut down its own
//      sending side (an nc with an empty stdin), ~15% of 64 MiB here. Wall
//      time until the receiver closed, MiB/s, and the CPU seconds per GiB of
//      the process holding the published port (pasta, skiff's own
//      forwarder, Podman's rootlessport): Debian 12's pasta spins on a
//      receiver slower than the sender (see docs/how-it-works.md);
//  (3) ab -n 20000 -c 32 against busybox httpd behind -p: requests per second
//      (ab -r: errors are counted, not fatal; apache2-utils; skipped without).
// Each engine twice: -p H:C and -p 127.0.0.1:H:C (skiff: its own splice
// forwarder either way, helpers-c/src/net_forward.h; pasta for -p H:C with
// --network pasta:--ipv4-only, an option that keeps the port pasta's;
// Podman: rootlessport either way); and -p H:C with the client on the
// host's own address (skiff-forward's transparent path, pasta's tap path).
// The same busybox receivers and httpd on the host's loopback, without a
// container, are the baseline of (2) and (3).
// Both tables run interleaved, round by round (a loaded machine's
// drift hits each alike). As root it runs as root and rootless
// (SKIFF_BENCH_USER, default skifftest); Podman rootless only. Timings are
// printed, never asserted.
//
//   BENCH_RUNS=20 (default) node bench/network.mjs
//   BENCH_THROUGHPUT=0: the start-up table only (no 1 GiB, no ab)
//   BENCH_STARTUP=0: the throughput table only; BENCH_TP_ROUNDS=3 (default) its rounds
//   BENCH_MODES=rootless (or root): one of the two when run as root
//   BENCH_TP_TARGETS=pasta,own,podman: only the throughput rows whose label has one of the words
//   SKIFF_BENCH_BEFORE=DIR (a built checkout of an earlier skiff): its
//     --network none, default and --network slirp4netns rows too, in the same rounds
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_PATH, asUser, hasCommand, installCopy, lookupUser, printTable } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 20);
const tpRounds = Number(process.env.BENCH_TP_ROUNDS ?? 3);
const GiB = 1 << 30;
const work = mkdtempSync('/tmp/skiff-bench-net-');
chmodSync(work, 0o755);
const skiff = installCopy(root, path.join(work, 'skiff'));
const beforeRoot = process.env.SKIFF_BENCH_BEFORE;
if (beforeRoot && !existsSync(path.join(beforeRoot, 'dist'))) throw new Error(`SKIFF_BENCH_BEFORE=${beforeRoot} holds no built skiff (npm run build there)`);
const skiffBefore = beforeRoot ? installCopy(beforeRoot, path.join(work, 'skiff-before')) : undefined;
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
 * Sends `bytes` to host:port (127.0.0.1, or the host's own address) and resolves with the ms until the
 * receiver closed and what it wrote back. Half-open: the container's nc
 * ends its own sending side at once (its stdin is empty), which must not
 * end ours.
 */
function sendBytes(port, bytes, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1 << 20);
    const start = process.hrtime.bigint();
    const sock = connect({ port, host, allowHalfOpen: true });
    let sent = 0;
    let ended = false;
    let reply = '';
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
    sock.on('data', (d) => (reply += d));
    sock.on('close', () => (ended ? resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, reply }) : reject(new Error('closed early'))));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The counts the sink container's nc|wc printed so far (one line per connection). */
function sinkCounts(mode, engine, id) {
  return exec(mode, [...engine, 'logs', id]).split('\n').filter((l) => l.trim() !== '').map(Number);
}
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** The pid of the process (in this network namespace) listening on TCP port: pasta, Podman's rootlessport, the host's own receiver. */
function listenerPid(port) {
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && Number.parseInt(f[1].split(':')[1], 16) === port) inodes.add(`socket:[${f[9]}]`);
    }
  }
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {
        // gone
      }
    }
  }
  return null;
}

/** CPU seconds a process has used (all its threads), and its name. */
function cpuOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), s: (Number(f[11]) + Number(f[12])) / CLK_TCK };
}

/**
 * Two receivers of the same 1 GiB, each counting what arrived:
 *  - "nc|wc": busybox nc piped into wc -c, as a tutorial would; busybox nc
 *    reads the socket 1 KiB at a time (poll, read, write per KiB), so it is
 *    slow even on the host's own loopback, and what it measures is mostly
 *    how a forwarder behaves against a receiver slower than the sender;
 *  - "dd": busybox nc -e hands the socket itself to dd bs=1M
 *    iflag=fullblock, which reads in large blocks and writes its record
 *    count back ("1024+0 records in" is exactly 1 GiB): what the path
 *    carries when the receiver keeps up.
 */
const RECEIVERS = ['nc|wc', 'dd'];
const SINK_PORTS = { 'nc|wc': 5000, dd: 5001 };
const SINK_SCRIPT = [
  'rm -f /tmp/sink-in && mkfifo /tmp/sink-in && exec 3<>/tmp/sink-in',
  '(while :; do nc -l -p 5000 <&3 | wc -c; done) &',
  'while :; do nc -l -p 5001 -e sh -c "dd bs=1M iflag=fullblock of=/dev/null 2>&1"; done',
].join('\n');
const WEB_SCRIPT = 'mkdir -p /tmp/w && echo hello > /tmp/w/index.html && exec httpd -f -p 80 -h /tmp/w';

/**
 * 1 GiB into one receiver of `target`: retried (bounded) while nothing
 * listens yet (pasta and slirp4netns reset such a connection); a run
 * counts only when the receiver got every byte. Also the CPU the
 * process holding the published port used meanwhile.
 */
async function sinkOnce(target, receiver) {
  const port = target.ports[receiver];
  for (let attempt = 0; attempt < 40; attempt++) {
    // On the host itself the listener is the receiver, which ends with the connection: no forwarder to measure.
    const holder = target.forwarded ? listenerPid(port) : null;
    const cpu0 = holder === null ? null : cpuOf(holder);
    const before = receiver === 'nc|wc' ? target.counts().length : 0;
    const sent = await sendBytes(port, GiB, target.client).catch(() => null);
    const cpu1 = holder === null ? null : cpuOf(holder);
    let ok = false;
    if (sent !== null && receiver === 'dd') ok = /^1024\+0 records in$/m.test(sent.reply);
    if (sent !== null && receiver === 'nc|wc') {
      let counts = target.counts();
      for (let i = 0; i < 50 && counts.length === before; i++) {
        await sleep(100);
        counts = target.counts();
      }
      ok = counts.length > before && counts[counts.length - 1] === GiB;
    }
    if (ok) return { ms: sent.ms, cpu: cpu0 && cpu1 ? cpu1.s - cpu0.s : NaN, holder: cpu0?.name ?? '-' };
    await sleep(250);
  }
  throw new Error(`no complete 1 GiB transfer into ${target.label} (${receiver})`);
}

/**
 * An engine's sink (both receivers) and httpd, each behind published ports
 * (on `hostIp` when given: -p 127.0.0.1:H:C); or the same busybox programs
 * on the host itself.
 */
async function startTarget(label, mode, engine, runFlags = [], hostIp = '') {
  const ports = { 'nc|wc': await freePort(), dd: await freePort() };
  const webPort = await freePort();
  if (engine === null) {
    // The baseline: the same busybox receivers and httpd on the host's loopback, no container, no forwarder.
    const bb = path.join(mode.rootfs, 'bin/busybox');
    const web = mkdtempSync(path.join(work, 'www-'));
    chmodSync(web, 0o755);
    execFileSync('sh', ['-c', `echo hello > ${web}/index.html && chmod 644 ${web}/index.html`]);
    const script = SINK_SCRIPT.replaceAll('5000', String(ports['nc|wc'])).replaceAll('5001', String(ports.dd)).replaceAll('/tmp/sink-in', path.join(work, mode.name, `sink-in-${ports.dd}`));
    let printed = '';
    const argv = asUser(mode.user, [bb, 'sh', '-c', `PATH=${path.dirname(bb)}; ${script}`]);
    const sink = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], detached: true, env: { PATH: CLEAN_PATH } });
    sink.stdout.on('data', (d) => (printed += d));
    const wargv = asUser(mode.user, [bb, 'httpd', '-f', '-p', `127.0.0.1:${webPort}`, '-h', web]);
    const httpd = spawn(wargv[0], wargv.slice(1), { stdio: 'ignore', detached: true });
    await waitForPort(ports.dd);
    return { label, forwarded: false, ports, webPort, counts: () => printed.split('\n').slice(0, -1).map(Number), stop: () => [sink, httpd].forEach((p) => process.kill(-p.pid, 'SIGKILL')) };
  }
  const at = hostIp === '' ? '' : `${hostIp}:`;
  const publish = RECEIVERS.flatMap((r) => ['-p', `${at}${ports[r]}:${SINK_PORTS[r]}`]);
  const sink = exec(mode, [...engine, 'run', '-d', ...runFlags, ...publish, '--rootfs', mode.rootfs, 'sh', '-c', SINK_SCRIPT]);
  const web = exec(mode, [...engine, 'run', '-d', ...runFlags, '-p', `${at}${webPort}:80`, '--rootfs', mode.rootfs, 'sh', '-c', WEB_SCRIPT]);
  return {
    label,
    forwarded: true,
    ports,
    webPort,
    counts: () => sinkCounts(mode, engine, sink),
    stop: () => exec(mode, [...engine, 'rm', '-f', sink, web]),
  };
}

/** ab -n 20000 -c 32 against the target's httpd: requests per second, or why none. */
async function abOnce(target) {
  if (!hasAb) return { rps: NaN, cpuPerK: NaN, text: 'ab not installed (apt-get install apache2-utils)' };
  await waitForPort(target.webPort);
  const holder = target.forwarded ? listenerPid(target.webPort) : null;
  const cpu0 = holder === null ? null : cpuOf(holder);
  const ab = spawnSync('ab', ['-r', '-q', '-n', '20000', '-c', '32', `http://${target.client}:${target.webPort}/`], { encoding: 'utf8' });
  const cpu1 = holder === null ? null : cpuOf(holder);
  const rps = Number(/Requests per second:\s+([\d.]+)/.exec(ab.stdout)?.[1] ?? NaN);
  const failed = Number(/Failed requests:\s+(\d+)/.exec(ab.stdout)?.[1] ?? NaN);
  // The port holder's CPU per 1000 requests (ms): what each connection costs the forwarder.
  const cpuPerK = cpu0 && cpu1 ? ((cpu1.s - cpu0.s) * 1000) / 20 : NaN;
  return { rps, cpuPerK, text: Number.isNaN(rps) ? `ab failed: ${(ab.stderr || ab.stdout).trim().split('\n').pop()}` : `${failed} failed` };
}

/** The host's first non-loopback IPv4 address. */
function hostAddress() {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

const median = (xs) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
};
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/**
 * Every target, interleaved round by round (a loaded machine's drift hits
 * each alike): per receiver the median MiB/s of 1 GiB and the CPU seconds
 * the port's holder spent per GiB; then ab, also round by round.
 */
async function throughput(mode, targets, rounds) {
  const started = [];
  try {
    for (const t of targets) started.push({ ...(await startTarget(t.label, mode, t.engine, t.runFlags, t.hostIp)), client: t.client ?? '127.0.0.1' });
    const load0 = loadavg();
    const res = started.map(() => ({ 'nc|wc': [], dd: [], ab: [] }));
    for (let round = 0; round < rounds; round++) {
      for (const [i, t] of started.entries()) for (const r of RECEIVERS) res[i][r].push(await sinkOnce(t, r));
    }
    for (let round = 0; round < rounds; round++) {
      for (const [i, t] of started.entries()) res[i].ab.push(await abOnce(t));
    }
    console.log(`\n1 GiB from 127.0.0.1 (or the host's own address: "from ADDR") through a published port, and ab -n 20000 -c 32 against busybox httpd, ${mode.name} (${rounds} rounds, interleaved; median; load ${load0} -> ${loadavg()})`);
    console.log(`${'target'.padEnd(30)} ${'nc|wc MiB/s'.padStart(12)} ${'dd MiB/s'.padStart(9)}  ${'port holder CPU s/GiB (nc|wc, dd)'.padEnd(40)} ab req/s (holder CPU ms/1000 requests)`);
    for (const [i, t] of started.entries()) {
      const mibs = (r) => median(res[i][r].map((x) => 1024 / (x.ms / 1000)));
      const cpu = (r) => median(res[i][r].map((x) => x.cpu));
      const holder = res[i].dd[0].holder;
      const abFails = res[i].ab.map((a) => a.text).join(', ');
      console.log(`${t.label.padEnd(30)} ${mibs('nc|wc').toFixed(0).padStart(12)} ${mibs('dd').toFixed(0).padStart(9)}  ${`${holder}: ${cpu('nc|wc').toFixed(2)}, ${cpu('dd').toFixed(2)}`.padEnd(40)} ${median(res[i].ab.map((a) => a.rps)).toFixed(0)} (${median(res[i].ab.map((a) => a.cpuPerK)).toFixed(0)}; ${abFails})`);
    }
  } finally {
    for (const t of started) t.stop();
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

/** run --rm true on each network and Podman's (and an earlier skiff's), interleaved round by round. */
function startupTable(mode) {
  const rows = [
    { name: 'node -e 0', argv: ['node', '-e', '0'] },
    { name: 'skiff run --rm --network none true', argv: [skiff, 'run', '--rm', '--network', 'none', '--rootfs', mode.rootfs, 'true'] },
    { name: 'skiff run --rm true (default: pasta)', argv: [skiff, 'run', '--rm', '--rootfs', mode.rootfs, 'true'] },
    { name: 'skiff run --rm --network slirp4netns true', argv: [skiff, 'run', '--rm', '--network', 'slirp4netns', '--rootfs', mode.rootfs, 'true'] },
  ];
  if (skiffBefore) {
    rows.push({ name: 'before: skiff run --rm --network none true', argv: [skiffBefore, 'run', '--rm', '--network', 'none', '--rootfs', mode.rootfs, 'true'] });
    rows.push({ name: 'before: skiff run --rm true (default)', argv: [skiffBefore, 'run', '--rm', '--rootfs', mode.rootfs, 'true'] });
    rows.push({ name: 'before: skiff run --rm --network slirp4netns true', argv: [skiffBefore, 'run', '--rm', '--network', 'slirp4netns', '--rootfs', mode.rootfs, 'true'] });
  }
  if (podman && mode.user) {
    rows.push({ name: 'podman run --rm --network none true', argv: [...mode.podmanArgs, 'run', '--rm', '--network', 'none', '--rootfs', mode.rootfs, 'true'] });
    rows.push({ name: 'podman run --rm true (default)', argv: [...mode.podmanArgs, 'run', '--rm', '--rootfs', mode.rootfs, 'true'] });
  }
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  const timed = timeInterleaved(rows, mode, { runs });
  printTable(`run --rm --rootfs busybox true, ${mode.name} (${runs} rounds, interleaved)`, timed, 'node -e 0');
  const by = Object.fromEntries(timed.map((r) => [r.name, r]));
  const none = by['skiff run --rm --network none true'];
  const pasta = by['skiff run --rm true (default: pasta)'];
  console.log(`default network over --network none: ${(pasta.min - none.min).toFixed(1)} ms (min), ${(pasta.median - none.median).toFixed(1)} ms (median)`);
  const oldNone = by['before: skiff run --rm --network none true'];
  const oldPasta = by['before: skiff run --rm true (default)'];
  if (oldNone && oldPasta) console.log(`before: default network over --network none: ${(oldPasta.min - oldNone.min).toFixed(1)} ms (min), ${(oldPasta.median - oldNone.median).toFixed(1)} ms (median)`);
  const slirp = by['skiff run --rm --network slirp4netns true'];
  console.log(`--network slirp4netns over --network none: ${(slirp.min - none.min).toFixed(1)} ms (min), ${(slirp.median - none.median).toFixed(1)} ms (median)`);
  const oldSlirp = by['before: skiff run --rm --network slirp4netns true'];
  if (oldNone && oldSlirp) console.log(`before: --network slirp4netns over --network none: ${(oldSlirp.min - oldNone.min).toFixed(1)} ms (min), ${(oldSlirp.median - oldNone.median).toFixed(1)} ms (median)`);
  const podNone = by['podman run --rm --network none true'];
  const podDefault = by['podman run --rm true (default)'];
  if (podNone && podDefault) {
    console.log(`podman / skiff, median: --network none ${(podNone.median / none.median).toFixed(2)}x, default network ${(podDefault.median / pasta.median).toFixed(2)}x`);
    if (oldNone && oldPasta) console.log(`podman / before, median: --network none ${(podNone.median / oldNone.median).toFixed(2)}x, default network ${(podDefault.median / oldPasta.median).toFixed(2)}x`);
  }
  console.log(`load average (1 min): ${loadBefore} before the table, ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]} after`);
}

const wanted = (process.env.BENCH_MODES ?? 'root,rootless').split(',');
const modes = [];
if (isRoot && wanted.includes('root')) modes.push(makeMode('root', null));
if ((!isRoot || user) && wanted.includes('rootless')) modes.push(makeMode('rootless', user));
try {
  for (const mode of modes) {
    if (process.env.BENCH_STARTUP !== '0') startupTable(mode);
    if (process.env.BENCH_THROUGHPUT === '0') continue;
    const targets = [
      { label: 'host loopback (no container)', engine: null },
      // pasta:--ipv4-only: an option of the user's, so pasta keeps the wildcard port (as skiff did for every -p H:C before skiff-forward took it).
      { label: 'skiff -p H:C (pasta)', engine: [skiff], runFlags: ['--network', 'pasta:--ipv4-only'] },
      { label: 'skiff -p H:C (own)', engine: [skiff] },
      { label: "skiff -p 127.0.0.1:H:C (own)", engine: [skiff], hostIp: '127.0.0.1' },
      { label: 'skiff --network slirp4netns', engine: [skiff], runFlags: ['--network', 'slirp4netns'] },
    ];
    if (podman && mode.user) {
      targets.push({ label: 'podman -p H:C', engine: mode.podmanArgs });
      targets.push({ label: 'podman -p 127.0.0.1:H:C', engine: mode.podmanArgs, hostIp: '127.0.0.1' });
    }
    // A client on the host's own address: pasta's tap path, skiff-forward's transparent one (the client's address kept), Podman's rootlessport.
    const own = hostAddress();
    if (own) {
      targets.push({ label: `skiff -p H:C (pasta) from ${own}`, engine: [skiff], runFlags: ['--network', 'pasta:--ipv4-only'], client: own });
      targets.push({ label: `skiff -p H:C (own) from ${own}`, engine: [skiff], client: own });
      if (podman && mode.user) targets.push({ label: `podman -p H:C from ${own}`, engine: mode.podmanArgs, client: own });
    }
    // BENCH_TP_TARGETS=pasta,own,podman…: a subset of the rows (by a word of their label), for a shorter run.
    const only = process.env.BENCH_TP_TARGETS?.split(',');
    if (only) targets.splice(0, targets.length, ...targets.filter((t) => only.some((w) => t.label.includes(w))));
    await throughput(mode, targets, tpRounds);
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
