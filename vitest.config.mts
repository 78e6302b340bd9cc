import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One Temporal dev server for the whole suite; each test file gets its own
    // task queues and emulator.
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    // Two cores: the dev server, a worker and the emulator already compete for them.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
