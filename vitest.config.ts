import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
    // One embedded stack (Postgres, Azurite, Cosmos) and one local Functions host for the whole run.
    globalSetup: ['test/setup/global.ts'],
    setupFiles: ['test/setup/env.ts'],
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one on the 2-core CI machine. Most files wait on the
    // Functions host and the embedded services (other processes), and each owns its tenants, so two run well.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 90_000,
    teardownTimeout: 30_000,
  },
});
