import { defineConfig } from 'vitest/config';

const ALL = '{cli,console,core,local,operator,trader,marketdata,simulator,charts,testing}/**/*.test.ts';
/** The real-browser test runs ats up and chromium: alone, after the rest, so that it never slows another test's timing. */
const BROWSER = 'console/console-browser.test.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Kills what a test file spawned and removes its temp folders, whether it passed or failed.
    setupFiles: ['testing/setup.ts'],
    // Two cores: a few files at a time keep the real Postgres/Redis/simulator tests honest.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'ats', include: [ALL], exclude: ['**/node_modules/**', BROWSER], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'browser', include: [BROWSER], fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
