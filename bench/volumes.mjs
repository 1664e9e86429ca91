// Issue 11's benchmark (`npm run bench volumes`): mounts, keep-id and dd into a bind mount; see bench/volumes.ts.
import { runBundled } from './bundled.mjs';

await runBundled('volumes');
