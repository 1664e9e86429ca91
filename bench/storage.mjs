// Issue 16's storage benchmark (`npm run bench storage`): vfs against overlay on a Debian-sized image; see bench/storage.ts.
import { runBundled } from './bundled.mjs';

await runBundled('storage');
