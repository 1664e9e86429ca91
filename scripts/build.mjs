// One build: the TypeScript CLI bundled by esbuild into dist/, and the C helper.
// `node scripts/build.mjs [--ts-only|--helper-only]`
//
// What ships is start-up's call (design.md, decision 8): CommonJS, because Node
// 20 compiles ES modules without a code cache, in one file for the hot path
// (dist/skiff.cjs); modules that only some commands need (help with yargs, and
// later the registry client and tar) are separate files under dist/lazy/, loaded
// by the import() that names them in the source.
//
// A build never changes files a reader may be loading: the bundles are written
// into a new directory of .dist-builds/, and dist, a symlink, is then pointed
// at it by one rename (bin/skiff resolves it once, so a process loads every
// bundle from one build). The helper is linked to a temporary file and renamed
// into place (helpers-c/Makefile), before dist moves. A build killed midway
// leaves the old build in use and a directory the next build removes.
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const mode = process.argv[2] ?? '';

/** Source modules that load on demand: lib path -> dist/lazy file name. */
const LAZY_MODULES = {
  'lib/cli/help.ts': 'help',
  'lib/store/index.ts': 'store',
  'lib/images/pull.ts': 'pull',
  // Writing a layer (tar, zlib, zstd, the helper): only a pull that fetches one.
  'lib/store/layer-write.ts': 'layer-write',
  // The registry client (node:http, zod): pull and everything that resolves images.
  'lib/registry/client.ts': 'registry',
  // skiff login (node:http, zod) and logout (the credential files only).
  'lib/registry/login.ts': 'registry-login',
  'lib/registry/credentials.ts': 'registry-credentials',
  // skiff build (dockerfile-ast, @balena/dockerignore): only build loads it.
  'lib/build/index.ts': 'build',
  // What only a build that runs steps needs: the parser (a cached build reads
  // the parsed Dockerfile from the store), a step's container, its layer.
  'lib/build/dockerfile.ts': 'build-parser',
  'lib/build/workspace.ts': 'build-workspace',
  'lib/build/layer.ts': 'build-layer',
  'lib/build/archive.ts': 'build-archive',
  // The seccomp compiler: only for filters the build did not precompile (--cap-add, seccomp=FILE).
  'lib/oci/seccomp/index.ts': 'seccomp',
};

// Every command is its own bundle too (dist/lazy/cmd-NAME.cjs): dist/skiff.cjs
// keeps only dispatch, so `skiff ps` compiles ps's code and nothing else's.
for (const file of readdirSync(path.join(root, 'lib/cli/commands'))) {
  if (file.endsWith('.ts')) LAZY_MODULES[`lib/cli/commands/${file}`] = `cmd-${file.slice(0, -3)}`;
}

/** `dir`: where the importing bundle sits relative to dist/lazy ('./lazy/' for dist/skiff.cjs, './' inside dist/lazy). */
function lazyModulesPlugin(dir = './lazy/') {
  return {
    name: 'skiff-lazy-modules',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        const source = path.relative(root, path.resolve(args.resolveDir, args.path)).replace(/\.js$/, '.ts');
        const name = LAZY_MODULES[source];
        if (name === undefined) return undefined;
        // Resolved at run time relative to the importing bundle.
        return { path: `${dir}${name}.cjs`, external: true };
      });
    },
  };
}

/**
 * The default seccomp filter, compiled now rather than at every `run`
 * (lib/oci/seccomp/default.ts reads it): the compiler itself, bundled and run.
 */
async function precompileSeccomp() {
  const out = await build({
    absWorkingDir: root,
    entryPoints: ['lib/oci/seccomp/precompile.ts'],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    write: false,
    logLevel: 'warning',
  });
  const mod = { exports: {} };
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(mod, mod.exports, createRequire(import.meta.url));
  return mod.exports.precompileDefaultSeccomp();
}

const distLink = path.join(root, 'dist');
const buildsDir = path.join(root, '.dist-builds');

/** Builds the bundles into a new directory of .dist-builds/ (its name holds this process's pid); returns it. */
async function buildTypeScript() {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const seccomp = await precompileSeccomp();
  mkdirSync(buildsDir, { recursive: true });
  // Not mkdtemp, which makes it 0700: readable by whom the umask lets read, as dist was (rootless users run it).
  const out = path.join(buildsDir, `build-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(out);
  const common = {
    absWorkingDir: root,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    define: { __SKIFF_VERSION__: JSON.stringify(pkg.version), __SKIFF_SECCOMP_PRECOMPILED__: JSON.stringify(seccomp) },
    plugins: [lazyModulesPlugin()],
    logLevel: 'warning',
  };
  await build({ ...common, entryPoints: ['lib/cli/main.ts'], outfile: path.join(out, 'skiff.cjs') });
  // Loaded first by bin/skiff, before any other bundle: so itself compiled without the cache.
  await build({ ...common, entryPoints: ['lib/code-cache.ts'], outfile: path.join(out, 'code-cache.cjs') });
  for (const [source, name] of Object.entries(LAZY_MODULES)) {
    // ESM dependencies (yargs) read import.meta.url, which CommonJS lacks.
    await build({
      ...common,
      entryPoints: [source],
      outfile: path.join(out, 'lazy', `${name}.cjs`),
      plugins: [lazyModulesPlugin('./')],
      define: { ...common.define, 'import.meta.url': '__skiffImportMetaUrl' },
      banner: { js: "var __skiffImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    });
  }
  return out;
}

/** The build dist points to, or undefined (none yet, or the old layout: dist a directory). */
function currentBuild() {
  try {
    return path.resolve(root, readlinkSync(distLink));
  } catch {
    return undefined;
  }
}

/**
 * Points dist at `out` with one rename of a new symlink over it, then removes
 * the builds no process can still be starting from: all but this one and the
 * one before (a process that resolved dist just before keeps loading from
 * it), and builds in progress (their pid alive) stay.
 */
function publish(out) {
  const previous = currentBuild();
  const link = path.join(root, `.dist-link-${process.pid}`);
  rmSync(link, { force: true });
  symlinkSync(path.relative(root, out), link);
  try {
    renameSync(link, distLink);
  } catch (err) {
    if (err.code !== 'EISDIR' && err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    // dist as a directory (a build before this layout): moved aside once, removed below.
    renameSync(distLink, path.join(buildsDir, `old-${process.pid}`));
    renameSync(link, distLink);
  }
  for (const name of readdirSync(buildsDir)) {
    const dir = path.join(buildsDir, name);
    if (dir === out || dir === previous) continue;
    const pid = /^build-(\d+)-/.exec(name)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && processAlive(Number(pid))) continue;
    rmSync(dir, { recursive: true, force: true });
  }
  // A link a killed build made and never renamed.
  for (const name of readdirSync(root)) {
    const pid = /^\.dist-link-(\d+)$/.exec(name)?.[1];
    if (pid !== undefined && !processAlive(Number(pid))) rmSync(path.join(root, name), { force: true });
  }
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code !== 'ESRCH';
  }
}

function buildHelper() {
  const cc = process.env.CC ?? 'cc';
  const probe = spawnSync(cc, ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    console.error(`skiff build: no C compiler found ("${cc}"): install one, e.g. 'apt-get install gcc libc6-dev', or set CC`);
    process.exit(1);
  }
  // The headers the helper needs, checked first so that a missing package is one clear line.
  const headers = ['sys/mount.h', 'linux/capability.h', 'sys/signalfd.h'].map((h) => `#include <${h}>`).join('\n');
  const pre = spawnSync(cc, ['-E', '-x', 'c', '-o', '/dev/null', '-'], { input: headers, stdio: ['pipe', 'ignore', 'pipe'] });
  if (pre.status !== 0) {
    console.error(`skiff build: C headers are missing (${String(pre.stderr).split('\n')[0]}): install them, e.g. 'apt-get install libc6-dev linux-libc-dev'`);
    process.exit(1);
  }
  try {
    execFileSync('make', ['-s', '-C', path.join(root, 'helpers-c')], { stdio: 'inherit', env: { ...process.env, CC: cc } });
  } catch {
    console.error('skiff build: building helpers-c failed (see the compiler output above)');
    process.exit(1);
  }
}

/**
 * esbuild leaves import('./lazy/x.cjs') as it is; Node would send those
 * through the ES module loader, which costs ~70 ms of CPU for a large bundle.
 * A require() of the same file is the same module object, loaded as CommonJS.
 * The same for Node's own modules (import('node:crypto')): the bundles are
 * compiled through vm.Script with their code cache (lib/code-cache.ts), where
 * Node 20 has no import() without an experimental flag; require() gives the
 * same module, whose named exports are what the code takes.
 */
function requireLazyModules(out) {
  const files = [path.join(out, 'skiff.cjs'), ...Object.values(LAZY_MODULES).map((n) => path.join(out, 'lazy', `${n}.cjs`))];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const out = text
      .replace(/\bimport\("(\.\/(?:lazy\/)?[\w-]+\.cjs)"\)/g, 'Promise.resolve().then(() => require("$1"))')
      .replace(/\bimport\("(node:[\w/]+)"\)/g, 'Promise.resolve().then(() => require("$1"))');
    if (out !== text) writeFileSync(file, out);
  }
  for (const file of files) {
    const left = /\bimport\("[^"]*"\)/.exec(readFileSync(file, 'utf8'));
    if (left) {
      console.error(`skiff build: ${path.relative(out, file)} still has ${left[0]}, which the code cache's loader cannot run: make it a require() here`);
      process.exit(1);
    }
  }
}

const out = mode !== '--helper-only' ? await buildTypeScript() : undefined;
if (out !== undefined) requireLazyModules(out);
// The helper first: a reader between the two renames pairs the new helper
// with the old bundles, whose keys it still takes (a changed protocol
// version is refused in one line either way).
if (mode !== '--ts-only') buildHelper();
if (out !== undefined) publish(out);
