import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    pool: 'forks',
    // One file at a time by default (vitest's own default on 2 cores). Each
    // file has stores of its own (harness.ts), so SKIFF_TEST_WORKERS=2 runs
    // two side by side: on this 2-core machine that took 888 s against 949 s,
    // but 065-run-image then ran 5x slower and timed out, so it is opt-in.
    maxWorkers: Number(process.env['SKIFF_TEST_WORKERS'] ?? 1),
    minWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    globalSetup: ['test/integration/global-setup.ts'],
  },
});
