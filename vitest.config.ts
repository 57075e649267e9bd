import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration suites boot emulators on free ports; keep files apart so each has its own runtime.
    fileParallelism: true,
    pool: 'forks',
  },
});
