import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../core/db/embedded.js';
import { spawnAts, type AtsProcess } from '../../core/testing/processes.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../../core/testing/services.js';
import { until } from '../../marketdata/testing.js';
import { readStatuses } from '../inspect-commands.js';

describe('ats up', () => {
  let r: TestRedis;
  let d: TestDatabase;
  let up: AtsProcess;

  beforeAll(async () => {
    r = createTestRedis();
    d = await createTestDatabase({ migrate: false });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(up?.output.join('').slice(-3000));
  });
  afterAll(async () => {
    up?.child.kill('SIGKILL');
    await r.cleanup();
    await d.drop();
  });

  it('brings every example account to Running, trades within minutes, and stops cleanly on Ctrl-C', { timeout: 240_000 }, async () => {
    const state = mkdtempSync(join(tmpdir(), 'ats-up-'));
    up = spawnAts(['up', '--accounts', 'examples', '--sim-port', String(await freePort())], { ...r.env, DATABASE_URL: d.url, ATS_STATE_DIR: state });
    await until(async () => {
      const statuses = await readStatuses(r.redis);
      return statuses.length === 3 && statuses.every((s) => s.phase === 'Running');
    }, 90_000, 500);
    await until(async () => (await d.db.selectFrom('trades').select('id').execute()).length > 0, 150_000, 1_000);
    expect(up.output.join('')).toContain('ats is up.');

    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    expect(up.output.join('')).toContain('stopped.');
  });
});
