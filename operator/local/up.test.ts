import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../core/db/embedded.js';
import { spawnAts, type AtsProcess } from '../../core/testing/processes.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../../core/testing/services.js';
import { until } from '../../marketdata/testing.js';
import { readStatuses } from '../inspect-commands.js';
import { decimal } from '../../core/decimal.js';
import { readRuntimeFile } from '../../core/runtime-file.js';
import { recordedLedger } from '../../trader/testing.js';
import { DEFAULT_UP } from '../up-command.js';

describe('ats up', () => {
  let r: TestRedis;
  let d: TestDatabase;
  let up: AtsProcess;
  let state: string;

  beforeAll(async () => {
    r = createTestRedis();
    d = await createTestDatabase({ migrate: false });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(up?.output.join('').slice(-3000));
  });
  afterAll(async () => {
    // Its children stop by themselves once it is gone (ATS_PARENT_PID).
    up?.child.kill('SIGKILL');
    if (state) rmSync(state, { recursive: true, force: true });
    await r.cleanup();
    await d.drop();
  });

  it('brings every example account to Running, trades within minutes, and stops cleanly on Ctrl-C', { timeout: 240_000 }, async () => {
    state = mkdtempSync(join(tmpdir(), 'ats-up-'));
    up = spawnAts(['up', '--accounts', 'examples', '--sim-port', String(await freePort())], { ...r.env, DATABASE_URL: d.url, ATS_STATE_DIR: state });
    await until(async () => {
      const statuses = await readStatuses(r.redis);
      return statuses.length === 3 && statuses.every((s) => s.phase === 'Running');
    }, 90_000, 500);
    await until(async () => (await d.db.selectFrom('trades').select('id').execute()).length > 0, 150_000, 1_000);
    expect(up.output.join('')).toContain('ats is up.');

    // The ledger: for every account, the exchange's wallet change equals the recorded realized
    // PnL minus fees, exactly, read at a moment when every fill the exchange made is recorded.
    const sim = readRuntimeFile(state)!.simulatorUrl!;
    await until(async () => {
      const accounts = (await (await fetch(`${sim}/_sim/accounts`)).json()) as Array<{ id: string; walletBalance: string; trades: number }>;
      for (const a of accounts) {
        const ledger = await recordedLedger(d.db, a.id);
        if (ledger.fills !== a.trades) return false;
        expect(decimal.eq(ledger.fillsNet, decimal.sub(a.walletBalance, DEFAULT_UP.balance)), a.id).toBe(true);
      }
      return accounts.length === 3;
    }, 60_000, 1_000);

    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    expect(up.output.join('')).toContain('stopped.');
  });
});
