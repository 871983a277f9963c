import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishSnapshot } from '../core/recommendations.js';
import { redisKeys } from '../core/redis-contract.js';
import { provisionPoolLogins, type AdminLogins, type Logins } from '../operator/logins.js';
import { spawnAts, type AtsProcess } from '../testing/processes.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../testing/services.js';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import { tempDir } from '../testing/temp.js';
import { until } from '../testing/until.js';
import { recommendation, writeConfig } from '../testing/trader.js';

interface SimAccountView {
  openAlgoOrders: number;
  trades: number;
  positions: Array<{ symbol: string; positionAmt: string }>;
  stopSymbols: string[];
}

const GOOD = 10;

describe('a trader pool: many accounts in one process', () => {
  let t: TestSimulator;
  let r: TestRedis;
  let d: TestDatabase;
  let admin: AdminLogins;
  let logins: Logins;
  let dir: string;
  const accounts: TestAccount[] = [];
  let bad: TestAccount;
  const procs: AtsProcess[] = [];

  const put = (a: TestAccount, secret = a.apiSecret) => {
    writeFileSync(join(dir, `${a.id}.apiKey`), a.apiKey);
    writeFileSync(join(dir, `${a.id}.apiSecret`), secret);
  };
  const members = () => [...accounts.map((a) => a.id), bad.id];
  const addRow = (id: string) =>
    d.db
      .insertInto('accounts')
      .values({ id, name: id, exchange: 'simulator', key_fingerprint: null, last_error: null, updated_at: new Date().toISOString() })
      .onConflict((c) => c.column('id').doNothing())
      .execute();
  const start = () => {
    const p = spawnAts(['pool', '--pool', 'pool-1', '--credentials-dir', dir, '--port', '0'], {
      REDIS_KEY_PREFIX: r.prefix,
      REDIS_URL: logins.redisUrl,
      DATABASE_URL: logins.databaseUrl,
      ATS_EXCHANGE: t.url,
      LOG_LEVEL: 'info',
    });
    procs.push(p);
    return p;
  };
  const state = async (id: string) => JSON.parse((await r.redis.get(redisKeys.heartbeat(`trader:${id}`))) ?? '{}').state as string | undefined;
  const view = (a: TestAccount) => t.admin<SimAccountView>('GET', `/accounts/${a.id}`);
  const mark = async (symbol: string) => (await t.admin<{ markPrice: number }>('GET', `/price?symbol=${symbol}`)).markPrice;
  const enter = async (symbol: string) => {
    const m = await mark(symbol);
    const rec = recommendation({ symbol, entry: m, stopLoss: m * 0.95, takeProfit: m * 1.08 });
    await publishSnapshot(r.redis, [rec]);
    return rec;
  };

  beforeAll(async () => {
    t = await startTestSimulator();
    r = createTestRedis();
    d = await createTestDatabase();
    dir = tempDir('ats-pool-secret');
    for (let i = 0; i < GOOD; i += 1) accounts.push(t.account(5_000));
    bad = t.account(5_000);
    for (const a of [...accounts, bad]) {
      // A long stop-loss deadline: the kill test leaves positions unprotected on purpose until the restart.
      await writeConfig(r, a.id, { sizing: { mode: 'fixed', usdt: 100 }, leverage: 2, maxOpenPositions: 5, stopLossDeadlineSeconds: 300 });
      await addRow(a.id);
      put(a, a === bad ? 'not-the-secret' : a.apiSecret);
    }
    admin = { db: d.db, databaseUrl: d.url, redis: r.redis, redisUrl: r.env.REDIS_URL, keyPrefix: r.prefix };
    logins = await provisionPoolLogins(admin, 'pool-1', members());
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') for (const p of procs) console.log(p.output.join('').slice(-8000));
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await r.cleanup();
    await d.drop();
    await t.close();
  });

  it('trades every account with its own key, records and logins; a rejected key stops only its account', { timeout: 120_000 }, async () => {
    const pool = start();
    await until(async () => (await Promise.all(accounts.map((a) => state(a.id)))).every((s) => s === 'active'), 60_000);
    await until(async () => (await state(bad.id)) === 'error', 30_000);

    const rec = await enter('BNBUSDT');
    await until(async () => (await Promise.all(accounts.map(view))).every((v) => v.openAlgoOrders === 2), 60_000);
    expect((await view(bad)).trades).toBe(0);
    // Each account's rows carry its own id, written through its own role.
    await until(async () => (await d.db.selectFrom('orders').select('id').where('recommendation_id', '=', rec.id).execute()).length === 3 * GOOD, 20_000);
    const rows = await d.db.selectFrom('orders').select(['account_id', 'purpose']).where('recommendation_id', '=', rec.id).execute();
    for (const a of accounts)
      expect(
        rows
          .filter((o) => o.account_id === a.id)
          .map((o) => o.purpose)
          .sort(),
      ).toEqual(['entry', 'stop_loss', 'take_profit']);
    // No key material in what the pool wrote.
    const output = pool.output.join('');
    for (const a of [...accounts, bad]) expect(output).not.toContain(a.apiSecret);
    expect(output).not.toContain(new URL(logins.databaseUrl).password);
  });

  it('follows accounts that leave and join without restarting the others', { timeout: 90_000 }, async () => {
    const pool = procs.at(-1)!;
    const leaving = accounts.pop()!;
    rmSync(join(dir, `${leaving.id}.apiKey`));
    rmSync(join(dir, `${leaving.id}.apiSecret`));
    await until(async () => (await state(leaving.id)) === 'stopped', 30_000);
    // Its protective orders stay on the exchange.
    expect((await view(leaving)).openAlgoOrders).toBe(2);

    const joining = t.account(5_000);
    await writeConfig(r, joining.id, { sizing: { mode: 'fixed', usdt: 100 }, leverage: 2, stopLossDeadlineSeconds: 300 });
    await addRow(joining.id);
    accounts.push(joining);
    // What the operator does: the pool's logins now cover the account, then its files appear.
    await provisionPoolLogins(admin, 'pool-1', members(), logins);
    put(joining);
    await until(async () => (await state(joining.id)) === 'active', 30_000);
    expect(pool.child.exitCode).toBeNull();
    expect((await Promise.all(accounts.map((a) => state(a.id)))).every((s) => s === 'active')).toBe(true);
  });

  it('killed with kill -9 under load, comes back with every position protected, no entry twice and no record lost', { timeout: 150_000 }, async () => {
    // Protective orders fail for now: the entries go through, their protection does not.
    await t.admin('POST', '/faults', { fail5xx: { count: 100_000, status: 503, pathPrefix: '/fapi/v1/algoOrder' } });
    const rec = await enter('ETHUSDT');
    await until(async () => (await Promise.all(accounts.map(view))).every((v) => v.positions.some((p) => p.symbol === 'ETHUSDT')), 60_000);
    const unprotected = await Promise.all(accounts.map(view));
    expect(unprotected.every((v) => !v.stopSymbols.includes('ETHUSDT'))).toBe(true);
    const pool = procs.at(-1)!;
    pool.child.kill('SIGKILL');
    expect(await pool.exited).toBe('SIGKILL');

    await t.admin('DELETE', '/faults');
    start();
    await until(async () => (await Promise.all(accounts.map(view))).every((v) => v.stopSymbols.includes('ETHUSDT')), 60_000);
    for (const a of accounts) {
      const v = await view(a);
      expect(v.positions.filter((p) => p.symbol === 'ETHUSDT')).toHaveLength(1);
      // One entry per recommendation, never two (the account that joined took the BNB one too, still open then).
      expect(v.trades).toBe(2);
    }
    await until(
      async () =>
        (await d.db.selectFrom('orders').select('id').where('recommendation_id', '=', rec.id).where('status', '!=', 'REJECTED').execute()).length >=
        3 * accounts.length,
      30_000,
    );
    for (const a of accounts) {
      const entries = await d.db
        .selectFrom('orders')
        .select('status')
        .where('account_id', '=', a.id)
        .where('recommendation_id', '=', rec.id)
        .where('purpose', '=', 'entry')
        .execute();
      expect(entries.map((e) => e.status)).toEqual(['FILLED']);
      const open = await d.db
        .selectFrom('positions')
        .select('symbol')
        .where('account_id', '=', a.id)
        .where('status', '=', 'open')
        .where('symbol', '=', 'ETHUSDT')
        .execute();
      expect(open).toHaveLength(1);
    }
  });
});
