// `npm run bench [NAME]`: runs the benchmarks in bench/ (default: all).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = ['runtime', 'lifecycle', 'pull', 'hotpaths', 'seccomp', 'walks', 'imagesout', 'build', 'events', 'eventcost', 'volumes', 'limits', 'network', 'storage'];
const chosen = process.argv.length > 2 ? process.argv.slice(2) : all;
for (const name of chosen) {
  if (!all.includes(name)) {
    console.error(`bench: unknown benchmark "${name}" (have: ${all.join(', ')})`);
    process.exit(2);
  }
  const r = spawnSync(process.execPath, [path.join(here, `${name}.mjs`)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
