// One build: the TypeScript CLI bundled by esbuild into dist/, and the C helper.
// `node scripts/build.mjs [--ts-only|--helper-only]`
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const mode = process.argv[2] ?? '';

async function buildTypeScript() {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  await build({
    absWorkingDir: root,
    entryPoints: { main: 'lib/cli/main.ts' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: 'dist',
    chunkNames: 'chunks/[name]-[hash]',
    define: { __SKIFF_VERSION__: JSON.stringify(pkg.version) },
    // Bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __skiffCreateRequire } from 'node:module'; const require = __skiffCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}

function buildHelper() {
  const cc = process.env.CC ?? 'cc';
  const probe = spawnSync(cc, ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    console.error(`skiff build: no C compiler found ("${cc}"): install one, e.g. 'apt-get install gcc libc6-dev', or set CC`);
    process.exit(1);
  }
  try {
    execFileSync('make', ['-s', '-C', path.join(root, 'helpers-c')], { stdio: 'inherit', env: { ...process.env, CC: cc } });
  } catch {
    console.error('skiff build: building helpers-c failed (see the compiler output above)');
    process.exit(1);
  }
}

if (mode !== '--helper-only') await buildTypeScript();
if (mode !== '--ts-only') buildHelper();
