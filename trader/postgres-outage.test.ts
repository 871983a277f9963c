import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../core/db/connection.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../core/db/embedded.js';
import { migrateToLatest } from '../core/db/migrate.js';
import { publishSnapshot } from '../core/recommendations.js';
import { redisKeys } from '../core/redis-contract.js';
import { createTestRedis, type TestRedis } from '../testing/services.js';
import { tempDir } from '../testing/temp.js';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import { until } from '../testing/until.js';
import { recommendation, testTrader, writeConfig } from '../testing/trader.js';

describe('Postgres stopped during trading', () => {
  let t: TestSimulator;
  let r: TestRedis;
  let pg: EmbeddedDatabase;
  let db: Db;
  let stateDir: string;
  let port: number;
  let acct: TestAccount;
  let tr: ReturnType<typeof testTrader>;

  beforeAll(async () => {
    t = await startTestSimulator();
    r = createTestRedis();
    stateDir = tempDir('ats-outage');
    port = await freePort();
    pg = await startEmbeddedPostgres(stateDir, undefined, port);
    db = createDb(pg.url);
    await migrateToLatest(db);
    acct = t.account(5_000);
    await writeConfig(r, acct.id, { sizing: { mode: 'fixed', usdt: 100 }, leverage: 3 });
    tr = testTrader(r, t.url, db, acct);
    await tr.trader.start();
    await until(() => tr.trader.state === 'active');
  }, 60_000);
  afterAll(async () => {
    await tr.close();
    await db.destroy();
    await pg.stop().catch(() => undefined);
    await r.cleanup();
    await t.close();
  });

  it('keeps every record while Postgres is down and writes them all once it is back', { timeout: 90_000 }, async () => {
    const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=XRPUSDT')).markPrice;
    const rec = recommendation({ symbol: 'XRPUSDT', entry: mark, stopLoss: mark * 0.95, takeProfit: mark * 1.05 });
    await publishSnapshot(r.redis, [rec]);
    await until(async () => (await db.selectFrom('orders').select('id').execute()).length === 3, 20_000);

    await pg.stop();
    // The take-profit closes the position while nothing can be written.
    await t.admin('POST', '/price', { symbol: 'XRPUSDT', price: mark * 1.06 });
    await until(async () => (await t.admin<{ openAlgoOrders: number; positions: unknown[] }>('GET', `/accounts/${acct.id}`)).openAlgoOrders === 0, 20_000);
    await until(() => tr.lines.some((l) => l.includes('position closed')), 20_000);
    expect(await r.redis.llen(redisKeys.outbox(acct.id))).toBeGreaterThan(0);
    // Said when they are tried (records are written a moment after they are made).
    await until(() => tr.lines.some((l) => l.includes('Postgres unavailable: records wait until it is back')), 10_000);

    pg = await startEmbeddedPostgres(stateDir, undefined, port);
    await until(async () => (await r.redis.llen(redisKeys.outbox(acct.id))) === 0, 30_000);

    const position = await db.selectFrom('positions').selectAll().executeTakeFirstOrThrow();
    expect(position).toMatchObject({ status: 'closed', recommendation_id: rec.id });
    const trades = await db.selectFrom('trades').selectAll().orderBy('traded_at').execute();
    expect(trades).toHaveLength(2);
    expect(Number(position.realized_pnl)).toBeCloseTo(Number(trades[1]!.realized_pnl), 8);
    expect(Number(position.fees)).toBeCloseTo(
      trades.reduce((s, x) => s + Number(x.commission), 0),
      8,
    );
    const orders = await db.selectFrom('orders').select(['purpose', 'status']).execute();
    expect(Object.fromEntries(orders.map((o) => [o.purpose, o.status]))).toEqual({ entry: 'FILLED', take_profit: 'FINISHED', stop_loss: 'CANCELED' });
    expect(tr.lines.some((l) => l.includes('Postgres is back: writing waiting records'))).toBe(true);
  });
});
