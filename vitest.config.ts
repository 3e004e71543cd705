import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most tests wait on a database, a socket or a child process, not on the CPU: on a 2-core
    // machine the default (cores - 1 = one file at a time) leaves the run idle half the time.
    maxWorkers: 3,
  },
});
