// Issue 16's benchmark: what the event log costs and how fast `events` reads it.
// (1) `skiff run --rm --rootfs busybox true` with the event log on (the
//     default, five events: create, init, start, attach, died, remove) and
//     with --events-backend none, against `node -e 0`, root and rootless;
// (2) `skiff events --stream=false` over a log of 10,000 container events,
//     printed in the default format and as json, and with a filter that
//     matches none, against `node -e 0` (rootless, in a runtime directory of
//     its own: root's /run/skiff is shared).
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asUser, installCopy, lookupUser, printTable, timeCommand } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 30);
const work = mkdtempSync('/tmp/skiff-bench-');
chmodSync(work, 0o755);
const skiff = installCopy(root, path.join(work, 'skiff'));
const isRoot = process.getuid() === 0;
const user = isRoot ? lookupUser(process.env.SKIFF_BENCH_USER ?? 'skifftest') : null;

function makeRootfs(dir, owner) {
  const script = path.join(work, 'mk.sh');
  cpSync(path.join(root, 'scripts/make-busybox-rootfs.sh'), script);
  chmodSync(script, 0o755);
  const rootfs = path.join(dir, 'rootfs');
  const argv = asUser(owner, ['sh', script, rootfs]);
  execFileSync(argv[0], argv.slice(1));
  return rootfs;
}

const modes = [];
if (isRoot) {
  const dir = path.join(work, 'root');
  mkdirSync(dir);
  modes.push({ name: 'root', user: null, dir, rootfs: makeRootfs(dir, null) });
}
if (!isRoot || user) {
  const dir = path.join(work, 'user');
  mkdirSync(dir);
  if (user) chownSync(dir, user.uid, user.gid);
  modes.push({ name: 'rootless', user, dir, rootfs: makeRootfs(dir, user) });
}

try {
  for (const mode of modes) {
    const store = path.join(mode.dir, 'store');
    const runtime = path.join(mode.dir, 'runtime');
    mkdirSync(store);
    mkdirSync(runtime, { mode: 0o700 });
    if (mode.user) {
      chownSync(store, mode.user.uid, mode.user.gid);
      chownSync(runtime, mode.user.uid, mode.user.gid);
    }
    const env = { SKIFF_ROOT: store, HOME: mode.user ? mode.user.home : '/root', ...(mode.user ? { XDG_RUNTIME_DIR: runtime } : {}) };
    const t = (argv, extra = {}) => timeCommand(asUser(mode.user, argv), { runs, env: { ...env, ...extra } });
    const base = t(['node', '-e', '0']);
    const rows = [
      { name: 'node -e 0', ...base },
      { name: 'skiff run --rm true (event log on)', ...t([skiff, 'run', '--rm', '--rootfs', mode.rootfs, 'true']) },
      { name: 'skiff --events-backend none run --rm true', ...t([skiff, '--events-backend', 'none', 'run', '--rm', '--rootfs', mode.rootfs, 'true']) },
      { name: 'skiff run --rm true (event log on, again)', ...t([skiff, 'run', '--rm', '--rootfs', mode.rootfs, 'true']) },
      { name: 'skiff --events-backend none run --rm true (again)', ...t([skiff, '--events-backend', 'none', 'run', '--rm', '--rootfs', mode.rootfs, 'true']) },
    ];
    if (mode.user) {
      // 10,000 events of 2,000 containers, as skiff writes them.
      const log = path.join(runtime, 'skiff', 'events', 'events.log');
      mkdirSync(path.dirname(log), { recursive: true });
      const lines = [];
      const t0 = BigInt(Date.now() - 3_600_000) * 1_000_000n;
      for (let i = 0; i < 10_000; i++) {
        const id = (i % 2000).toString(16).padStart(64, 'c');
        const status = ['create', 'init', 'start', 'died', 'remove'][i % 5];
        const ns = t0 + BigInt(i) * 1_000_000n;
        lines.push(`{${status === 'died' ? '"ContainerExitCode":0,' : ''}"ID":"${id}","Image":"registry.example/library/busybox:latest","Name":"c${i % 2000}","Status":"${status}","time":${ns / 1_000_000_000n},"timeNano":${ns},"Type":"container","Attributes":{"team":"bench"}}\n`);
      }
      writeFileSync(log, lines.join(''));
      execFileSync('chown', ['-R', `${mode.user.uid}:${mode.user.gid}`, path.join(runtime, 'skiff')]);
      const big = { SKIFF_EVENTS_LOGFILE_MAX_SIZE: '64m' };
      rows.push(
        { name: 'skiff events --stream=false (10,000 events)', ...t([skiff, 'events', '--stream=false'], big) },
        { name: 'skiff events --stream=false --format json', ...t([skiff, 'events', '--stream=false', '--format', 'json'], big) },
        { name: "… --format '{{.Status}} {{.Name}}'", ...t([skiff, 'events', '--stream=false', '--format', '{{.Status}} {{.Name}}'], big) },
        { name: '… --filter container=none (no match)', ...t([skiff, 'events', '--stream=false', '--filter', 'container=none'], big) },
      );
    }
    printTable(`events (${mode.name}), ${runs} runs`, rows, 'node -e 0');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
