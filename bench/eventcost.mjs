// Issue 16: what the event log costs a `run --rm`, measured inside the
// process, where the noise of a whole run cannot hide it. The events module
// (lib/containers/events.ts over lib/events/log.ts) is bundled as the CLI
// bundles it, and fresh Node processes each write what a foreground
// `run --rm` writes: create, init, start, attach, died, remove (six lines).
// Per process it reports, with process.hrtime and process.cpuUsage:
//   first: the first six events of the process (what a CLI run pays: first
//          calls, the clock's first read), the bundle loaded with V8's code
//          cache as bin/skiff loads it, and after the calls a run has made
//          before its first event (the store's locations, writes and stats of
//          the container's record) have been made once, so that their
//          first-call cost is not counted against events;
//   steady: the mean of the next BENCH_ITER sequences of six.
// The same with --events-backend none (SKIFF_EVENTS_BACKEND=none) is the
// baseline: what is left is building the record's event object.
// With SKIFF_BENCH_BEFORE=DIR (a checkout of an earlier skiff with its
// node_modules) that version's events module is measured in the same turns.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_PATH } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 40);
const iterations = Number(process.env.BENCH_ITER ?? 1000);
const before = process.env.SKIFF_BENCH_BEFORE;
const work = mkdtempSync('/tmp/skiff-eventcost-');

const CHILD = `
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');
const [bundle, iterationsText, work] = process.argv.slice(2);
const iterations = Number(iterationsText);
// Loaded as bin/skiff loads a bundle (lib/code-cache.ts): with V8's code
// cache of an earlier process, written after that one ran, so it holds the
// functions the events took too.
const cacheFile = bundle + '.v8cache';
let cachedData;
try { cachedData = fs.readFileSync(cacheFile); } catch {}
const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, require, mod, bundle, path.dirname(bundle));
const ev = mod.exports;
// What run has done before its first event: its store's locations found,
// the container's record written and read.
ev.currentStoreLocations();
const scratch = work + '/scratch';
fs.writeFileSync(scratch, '{}');
fs.statSync(scratch);
fs.readFileSync(scratch);
const fd = fs.openSync(scratch, 'w'); fs.writeSync(fd, Buffer.from('x')); fs.closeSync(fd);
const record = { Id: 'c'.repeat(64), Name: 'bench_events', Image: 'localhost:5000/busybox:latest', Config: { Labels: {} } };
function sequence() {
  ev.containerEvent(record, 'create');
  ev.startedEvents(record, true);
  ev.containerEvent(record, 'died', 0);
  ev.containerEvent(record, 'remove');
}
let c0 = process.cpuUsage(), w0 = process.hrtime.bigint();
sequence();
let w1 = process.hrtime.bigint(), c1 = process.cpuUsage(c0);
const first = { wall: Number(w1 - w0) / 1e3, cpu: c1.user + c1.system };
c0 = process.cpuUsage(); w0 = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) sequence();
w1 = process.hrtime.bigint(); c1 = process.cpuUsage(c0);
if (cachedData === undefined || script.cachedDataRejected) fs.writeFileSync(cacheFile, script.createCachedData());
process.stdout.write(JSON.stringify({ cached: cachedData !== undefined && !script.cachedDataRejected, first, steady: { wall: Number(w1 - w0) / 1e3 / iterations, cpu: (c1.user + c1.system) / iterations } }));
`;

async function bundle(checkout, name) {
  const outfile = path.join(work, `${name}.cjs`);
  const contents = "export * from './lib/containers/events.ts'; export { currentStoreLocations } from './lib/locations.ts';";
  await build({ stdin: { contents, resolveDir: checkout, loader: 'ts', sourcefile: 'eventcost-entry.ts' }, bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'error' });
  return outfile;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const min = (xs) => Math.min(...xs);

try {
  writeFileSync(path.join(work, 'child.cjs'), CHILD);
  const variants = [];
  const now = await bundle(root, 'now');
  variants.push({ name: 'this skiff, event log on', bundle: now, env: {} });
  variants.push({ name: 'this skiff, --events-backend none', bundle: now, env: { SKIFF_EVENTS_BACKEND: 'none' } });
  if (before) variants.push({ name: `before (${path.basename(before)}), event log on`, bundle: await bundle(before, 'before'), env: {} });
  for (const [i, v] of variants.entries()) {
    v.runroot = path.join(work, `run${i}`);
    // The events directory exists, as it does after a user's first event.
    mkdirSync(path.join(v.runroot, 'events'), { recursive: true, mode: 0o700 });
    v.samples = [];
  }
  const empty = spawnSync(process.execPath, ['-e', '0']);
  if (empty.status !== 0) throw new Error('node -e 0 failed');
  for (let r = 0; r < runs + 2; r++) {
    for (const v of variants) {
      const log = path.join(v.runroot, 'events', 'events.log');
      try {
        if (statSync(log).size > 200_000) truncateSync(log, 0);
      } catch {
        // not written yet
      }
      const res = spawnSync(process.execPath, [path.join(work, 'child.cjs'), v.bundle, String(iterations), work], {
        env: { PATH: CLEAN_PATH, HOME: '/nonexistent', SKIFF_RUNROOT: v.runroot, SKIFF_EVENTS_LOGFILE_MAX_SIZE: '1g', ...v.env },
        encoding: 'utf8',
      });
      if (res.status !== 0) throw new Error(`${v.name}: ${res.stderr}`);
      const sample = JSON.parse(res.stdout);
      if (r >= 2 && !sample.cached) throw new Error(`${v.name}: V8 refused the code cache`);
      if (r >= 2) v.samples.push(sample);
    }
  }
  console.log(`\nevent log cost in-process: six events (a run --rm's), ${runs} fresh processes each, in turns; steady = mean of ${iterations} more`);
  console.log(`${'variant'.padEnd(40)} ${'first wall µs min/med'.padStart(22)} ${'first CPU µs min/med'.padStart(22)} ${'steady wall µs'.padStart(15)} ${'steady CPU µs'.padStart(14)}`);
  for (const v of variants) {
    const fw = v.samples.map((s) => s.first.wall);
    const fc = v.samples.map((s) => s.first.cpu);
    const sw = v.samples.map((s) => s.steady.wall);
    const sc = v.samples.map((s) => s.steady.cpu);
    console.log(
      `${v.name.padEnd(40)} ${`${min(fw).toFixed(0)} / ${median(fw).toFixed(0)}`.padStart(22)} ${`${min(fc).toFixed(0)} / ${median(fc).toFixed(0)}`.padStart(22)} ${median(sw).toFixed(1).padStart(15)} ${median(sc).toFixed(1).padStart(14)}`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
