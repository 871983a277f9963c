import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{cli,console,core,local,operator,trader,marketdata,simulator,charts,testing}/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Kills what a test file spawned and removes its temp folders, whether it passed or failed.
    setupFiles: ['testing/setup.ts'],
    // Two cores: a few files at a time keep the real Postgres/Redis/simulator tests honest.
    maxWorkers: 2,
  },
});
