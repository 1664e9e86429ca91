import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    pool: 'forks',
    // Integration tests mostly wait on processes, the kernel and sockets, not
    // the CPU: two files side by side take less time than one at a
    // time, even on two cores. Each file has stores of its own (harness.ts).
    // SKIFF_TEST_WORKERS=1 runs them one at a time.
    maxWorkers: Number(process.env['SKIFF_TEST_WORKERS'] ?? 2),
    minWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    globalSetup: ['test/integration/global-setup.ts'],
  },
});
