// `skiff quadlet`: a systemd generator with the interface of Podman's quadlet
// binary (docs/systemd.md): [-user] [-dryrun] [-v] [-no-kmsg-log]
// [NORMAL-DIR [EARLY-DIR [LATE-DIR]]]; QUADLET_UNIT_DIRS overrides where
// .container files are read from.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool } from '../args.js';
import { SkiffError } from '../../errors.js';
import { installRoot } from '../../paths.js';

export const spec: CommandSpec = {
  name: 'quadlet',
  summary: 'Generate systemd services from Quadlet .container files (a systemd generator, as Podman\'s quadlet)',
  usage: '[-user] [-dryrun] [-v] [-no-kmsg-log] [NORMAL-DIR [EARLY-DIR [LATE-DIR]]]',
  positionals: 'interspersed',
  maxPositionals: 3,
  flags: [
    { name: 'user', type: 'boolean', describe: 'Read the user\'s unit directories (a user generator)' },
    { name: 'dryrun', type: 'boolean', describe: 'Print the services on stdout instead of writing them' },
    { name: 'verbose', type: 'boolean', describe: 'Say which files are read (-v)' },
    { name: 'no-kmsg-log', type: 'boolean', describe: 'Accepted: skiff quadlet logs to stderr only, never to /dev/kmsg' },
  ],
};

/** Go's flag package, which quadlet uses, takes -user as --user. */
export function normalizeArgv(argv: string[]): string[] {
  const single: Record<string, string> = { '-user': '--user', '-dryrun': '--dryrun', '-v': '--verbose', '-no-kmsg-log': '--no-kmsg-log' };
  return argv.map((a) => single[a] ?? a);
}

/** The quadlet source files by name, the first directory holding a name winning. */
function sourceFiles(dirs: string[], verbose: boolean): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    if (verbose) process.stderr.write(`skiff quadlet: reading ${dir}\n`);
    for (const name of names) if (!found.has(name) && name.includes('.')) found.set(name, path.join(dir, name));
  }
  return found;
}

/** [Install]'s WantedBy= and RequiredBy=: a generated unit cannot be enabled, so its links are made here, as quadlet does. */
function installLinks(unitfile: typeof import('../../system/unitfile.js'), outDir: string, unitName: string, text: string): void {
  const { parseUnitFile, splitWords } = unitfile;
  const install = parseUnitFile(text, unitName).find((s) => s.name === 'Install');
  for (const e of install?.entries ?? []) {
    const suffix = e.key === 'WantedBy' ? 'wants' : e.key === 'RequiredBy' ? 'requires' : undefined;
    if (!suffix) continue;
    for (const target of splitWords(e.value, unitName)) {
      const dir = path.join(outDir, `${target}.${suffix}`);
      mkdirSync(dir, { recursive: true });
      rmSync(path.join(dir, unitName), { force: true });
      symlinkSync(path.join('..', unitName), path.join(dir, unitName));
    }
  }
}

export async function run(args: ParsedArgs): Promise<number> {
  const dryrun = flagBool(args, 'dryrun');
  const verbose = flagBool(args, 'verbose');
  const outDir = args.positionals[0];
  if (!dryrun && outDir === undefined) throw new SkiffError('skiff quadlet needs the generator\'s output directory (or -dryrun)');
  const unitfile = await import('../../system/unitfile.js');
  const { containerToService, unitDirectories, OTHER_QUADLET_TYPES } = await import('../../system/quadlet.js');
  const { spec: runSpec } = await import('./run.js');
  const runFlags = new Set(runSpec.flags.map((f) => f.name));
  const ctx = { runFlags, skiff: [process.execPath, path.join(installRoot(), 'bin/skiff')] };
  const dirs = unitDirectories(flagBool(args, 'user'), process.env, process.getuid?.() ?? 0, homedir());
  let failed = false;
  for (const [name, file] of sourceFiles(dirs, verbose)) {
    const ext = path.extname(name);
    if (OTHER_QUADLET_TYPES.includes(ext)) {
      process.stderr.write(`skiff quadlet: ${file}: ${ext} files are not supported by skiff (only .container)\n`);
      failed = true;
      continue;
    }
    if (ext !== '.container') continue;
    if (verbose) process.stderr.write(`skiff quadlet: loading ${file}\n`);
    let unit;
    try {
      unit = containerToService(file, readFileSync(file, 'utf8'), ctx);
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      process.stderr.write(`skiff quadlet: ${err.message}\n`);
      failed = true;
      continue;
    }
    if (dryrun) {
      process.stdout.write(`---${unit.name}---\n${unit.text}\n`);
      continue;
    }
    mkdirSync(outDir!, { recursive: true });
    const target = path.join(outDir!, unit.name);
    const tmp = `${target}.tmp-${process.pid}`;
    writeFileSync(tmp, unit.text, { mode: 0o644 });
    renameSync(tmp, target);
    installLinks(unitfile, outDir!, unit.name, unit.text);
    if (verbose) process.stderr.write(`skiff quadlet: wrote ${target}\n`);
  }
  if (verbose && !existsSync(dirs[0]!)) process.stderr.write(`skiff quadlet: ${dirs[0]} does not exist\n`);
  return failed ? 1 : 0;
}
