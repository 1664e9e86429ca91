// `npm run test:vm [FILE…]`, or `npm run test:vm -- --bench NAME…` (bench/NAME.mjs
// run in the VM as the test user instead of the tests): the opt-in tier for what this kind of host is not
// (design.md, decision 14): cgroup v2 delegated to a user, and systemd user
// sessions. It builds skiff, builds the VM image once (test/vm/build-image.sh,
// cached under $SKIFF_VM_DIR or ~/.cache/skiff-vm), puts the build and the
// tests on a second disk, boots the VM under qemu (TCG, no network), streams
// its serial console here, and ends with the count read from the disk:
// "N passed, N failed, N skipped".
//
// Environment: SKIFF_VM_DIR (image cache), SKIFF_VM_SMP (vCPUs, default 1),
// SKIFF_VM_MEMORY (MiB, default 1536), SKIFF_VM_TIMEOUT (seconds, default 1800),
// SKIFF_VM_REBUILD=1 (build the image again), BENCH_RUNS (with --bench).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { countReport } from '../../scripts/vitest-count.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vmDir = path.join(root, 'test/vm');
const started = Date.now();
const seconds = (ms) => (ms / 1000).toFixed(1);

function fail(line) {
  console.error(`test:vm: ${line}`);
  process.exit(1);
}

function onPath(program) {
  return spawnSync('/bin/sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

// --- what the host needs ------------------------------------------------------
const cacheRoot = process.env.SKIFF_VM_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'skiff-vm');
const imageKey = createHash('sha256')
  .update(readFileSync(path.join(vmDir, 'build-image.sh')))
  .update(readFileSync(path.join(vmDir, 'guest/skiff-vm-test')))
  .update(readFileSync(path.join(vmDir, 'guest/skiff-vm-test.service')))
  .update(process.version)
  .digest('hex')
  .slice(0, 16);
const imageDir = path.join(cacheRoot, imageKey);
const needImage = process.env.SKIFF_VM_REBUILD === '1' || !existsSync(path.join(imageDir, 'image.json'));
const programs = { 'qemu-system-x86_64': 'qemu-system-x86', mke2fs: 'e2fsprogs', debugfs: 'e2fsprogs' };
if (needImage) programs.debootstrap = 'debootstrap';
const missing = Object.keys(programs).filter((p) => !onPath(p) && !existsSync(`/usr/sbin/${p}`) && !existsSync(`/sbin/${p}`));
if (missing.length > 0) {
  const pkgs = [...new Set(missing.map((p) => programs[p]))].join(' ');
  fail(`${missing.join(', ')} not found: run \`sh scripts/install-system-deps.sh --vm\` (apt-get install ${pkgs})`);
}
const sbin = (p) => (onPath(p) ? p : existsSync(`/usr/sbin/${p}`) ? `/usr/sbin/${p}` : `/sbin/${p}`);
if (needImage && process.getuid?.() !== 0) {
  fail(`the VM image is not built yet and debootstrap needs root: run \`sudo npm run test:vm\` once (it is cached in ${cacheRoot})`);
}

// --- the project's build --------------------------------------------------------
const build = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'], cwd: root });
if (build.status !== 0) fail('the build failed (above)');

// --- the image, once --------------------------------------------------------------
if (needImage) {
  const t0 = Date.now();
  const partial = `${imageDir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(cacheRoot, { recursive: true });
  console.error(`test:vm: building the VM image in ${imageDir} (once; a few minutes)`);
  const r = spawnSync('sh', [path.join(vmDir, 'build-image.sh'), partial, process.execPath], { stdio: 'inherit' });
  if (r.status !== 0) {
    rmSync(partial, { recursive: true, force: true });
    fail('building the VM image failed (above)');
  }
  writeFileSync(path.join(partial, 'image.json'), `${JSON.stringify({ built: new Date().toISOString(), buildSeconds: (Date.now() - t0) / 1000 })}\n`);
  rmSync(imageDir, { recursive: true, force: true });
  renameSync(partial, imageDir);
}
const image = JSON.parse(readFileSync(path.join(imageDir, 'image.json'), 'utf8'));

// --- the payload disk: the build, the tests, and what they run ------------------------
const work = mkdtempSync(path.join(tmpdir(), 'skiff-vm-'));
const stage = path.join(work, 'payload');
const skipModules = new Set(['typescript', '.vite', '.cache']);
for (const part of ['bin', 'dist', 'package.json', 'helpers-c/skiff-helper', 'scripts', 'bench', 'test/skip.ts', 'test/integration', 'test/vm', 'node_modules']) {
  // dist is a symlink to the current build (scripts/build.mjs): that build's files.
  cpSync(part === 'dist' ? realpathSync(path.join(root, part)) : path.join(root, part), path.join(stage, part), {
    recursive: true,
    filter: (src) => !(part === 'node_modules' && skipModules.has(path.basename(src)) && path.dirname(src) === path.join(root, 'node_modules')),
  });
}
// The tests' static probe (test/integration/probe.c), built here: the VM has no compiler.
const probe = spawnSync('cc', ['-O2', '-static', '-o', path.join(stage, 'test/vm/probe'), path.join(root, 'test/integration/probe.c')], { stdio: ['ignore', 'ignore', 'inherit'] });
if (probe.status !== 0) console.error('test:vm: the static probe could not be built (install gcc and libc6-dev): the tests that need it are skipped');
const bench = process.argv[2] === '--bench' ? process.argv.slice(3) : undefined;
if (bench !== undefined) {
  const known = ['limits'];
  if (bench.length === 0 || bench.some((b) => !known.includes(b))) fail(`--bench runs in the VM only what needs no registry or Podman: ${known.join(', ')}`);
  // Line 1: the benchmarks; line 2: BENCH_RUNS.
  writeFileSync(path.join(stage, '.vm-bench'), `${bench.join(' ')}\n${process.env.BENCH_RUNS ?? '20'}\n`);
}
const files = bench === undefined ? process.argv.slice(2).map((f) => path.relative(root, path.resolve(f))) : [];
writeFileSync(path.join(stage, '.vm-args'), files.join(' '));
const payload = path.join(work, 'payload.img');
const du = spawnSync('du', ['-sm', stage], { encoding: 'utf8' });
const payloadMb = Number(du.stdout.split('\t')[0]) + 256;
const mk = spawnSync(sbin('mke2fs'), ['-q', '-t', 'ext4', '-d', stage, payload, `${payloadMb}M`], { stdio: ['ignore', 'ignore', 'inherit'] });
if (mk.status !== 0) fail('mke2fs could not make the payload disk');
rmSync(stage, { recursive: true, force: true });

// --- boot ---------------------------------------------------------------------------------
const smp = process.env.SKIFF_VM_SMP ?? '1';
const memory = process.env.SKIFF_VM_MEMORY ?? '1536';
const timeoutMs = Number(process.env.SKIFF_VM_TIMEOUT ?? '1800') * 1000;
const cmdline = 'root=/dev/vda rw console=ttyS0 quiet loglevel=3 systemd.unified_cgroup_hierarchy=1 systemd.show_status=error panic=-1';
const qemuArgs = [
  '-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-smp', smp, '-m', memory,
  '-nodefaults', '-display', 'none', '-no-reboot', '-nic', 'none', '-serial', 'stdio',
  '-device', 'virtio-rng-pci',
  '-kernel', path.join(imageDir, 'vmlinuz'), '-initrd', path.join(imageDir, 'initrd.img'), '-append', cmdline,
  '-drive', `file=${path.join(imageDir, 'base.img')},format=raw,if=virtio,snapshot=on`,
  '-drive', `file=${payload},format=raw,if=virtio`,
];
const bootStarted = Date.now();
let unitAt = 0;
const qemu = spawn('qemu-system-x86_64', qemuArgs, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: work } });
let pending = '';
qemu.stdout.setEncoding('utf8').on('data', (chunk) => {
  pending += chunk.replace(/\r/g, '');
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (unitAt === 0 && line.startsWith('skiff-vm: unit started')) unitAt = Date.now();
    process.stdout.write(`${line}\n`);
  }
});
const timer = setTimeout(() => {
  console.error(`test:vm: the VM did not finish within ${timeoutMs / 1000} s: stopping it`);
  qemu.kill('SIGKILL');
}, timeoutMs);
const exit = await new Promise((resolve) => qemu.on('close', (code, signal) => resolve({ code, signal })));
clearTimeout(timer);
if (pending !== '') process.stdout.write(`${pending}\n`);

// --- results ------------------------------------------------------------------------------
const report = path.join(work, 'report.json');
spawnSync(sbin('debugfs'), ['-R', `dump /.vm-results/report.json ${report}`, payload], { stdio: 'ignore' });
const statusFile = path.join(work, 'status');
spawnSync(sbin('debugfs'), ['-R', `dump /.vm-results/status ${statusFile}`, payload], { stdio: 'ignore' });
const guestStatus = existsSync(statusFile) ? readFileSync(statusFile, 'utf8').trim() : 'none';
const count = bench === undefined ? countReport(report) : undefined;
const imageLine = needImage ? `image built in ${seconds(image.buildSeconds * 1000)} s` : `image cached (built ${image.built} in ${seconds(image.buildSeconds * 1000)} s)`;
const bootLine = unitAt ? `boot to the test unit ${seconds(unitAt - bootStarted)} s` : 'the test unit never started';
console.error(`test:vm: ${imageLine}; ${bootLine}; whole run ${seconds(Date.now() - started)} s (qemu ${exit.signal ?? `exit ${exit.code}`}, -smp ${smp})`);
rmSync(work, { recursive: true, force: true });
if (bench !== undefined) {
  if (guestStatus !== '0') fail(`the benchmarks failed in the VM (status ${guestStatus}; above)`);
  process.exit(0);
}
console.log(count.line);
process.exit(count.failed === 0 ? 0 : 1);
