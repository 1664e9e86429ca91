// vitest inside the VM (test/vm/guest/in-vm.sh runs it as the test user): the
// test/vm files only, one at a time (the VM has one or two slow vCPUs), with
// the integration tests' global setup (a rootless user, busybox root filesystems).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'),
    include: ['test/vm/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    globalSetup: ['test/integration/global-setup.ts'],
  },
});
