import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../core/redis-contract.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../testing/services.js';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import { until } from '../testing/until.js';
import { recommendation, testTrader, writeConfig } from '../testing/trader.js';
import { clientOrderId } from './client-order-id.js';
import { RuntimeState } from './runtime-state.js';

/**
 * kill -9 can land between the moment a trader tracks a filled entry in Redis and the moment its
 * rows reach the outbox. The state that leaves behind is built here exactly (the entry on the
 * exchange, the position tracked, the intent still pending, no rows), and the next start must
 * complete the records.
 */
describe('trader killed after tracking a position, before writing its rows', () => {
  let t: TestSimulator;
  let r: TestRedis;
  let d: TestDatabase;
  let acct: TestAccount;
  let tr: ReturnType<typeof testTrader> | undefined;

  beforeAll(async () => {
    t = await startTestSimulator();
    r = createTestRedis();
    d = await createTestDatabase();
    acct = t.account(5_000);
    await writeConfig(r, acct.id, { sizing: { mode: 'fixed', usdt: 100 }, leverage: 2 });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(tr?.lines.slice(-60).join(''));
  });
  afterAll(async () => {
    await tr?.close();
    await r.cleanup();
    await d.drop();
    await t.close();
  });

  it('writes the position and its entry order on the next start, protects it and forgets the intent', { timeout: 60_000 }, async () => {
    const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=BNBUSDT')).markPrice;
    const rec = recommendation({ id: 'rec-killed', symbol: 'BNBUSDT', entry: mark, stopLoss: Math.round(mark * 0.95), takeProfit: Math.round(mark * 1.08) });
    const entryId = clientOrderId(acct.id, rec.id, 'entry');
    const client = await t.client(acct);
    const amount = 0.3;
    await client.createOrder('BNB/USDT:USDT', 'market', 'buy', amount, undefined, { clientOrderId: entryId });
    const position = (await client.fetchPositions(['BNB/USDT:USDT']))[0]!;

    // What the killed run left in Redis: the intent, the tracked position (no entry order id yet) and the marker.
    const runtime = new RuntimeState(r.redis, acct.id);
    const openedAt = Date.now() - 1_000;
    await runtime.setPending({
      clientOrderId: entryId,
      recommendationId: rec.id,
      symbol: 'BNBUSDT',
      purpose: 'entry',
      side: 'buy',
      amount,
      stopLoss: rec.stopLoss,
      takeProfit: rec.takeProfit,
      createdAt: openedAt,
      expiresAt: rec.expiresAt,
    });
    await runtime.setPosition({
      symbol: 'BNBUSDT',
      side: 'long',
      amount,
      entryPrice: Number(position.entryPrice),
      markPrice: mark,
      unrealizedPnl: 0,
      stopLoss: rec.stopLoss,
      takeProfit: rec.takeProfit,
      recommendationId: rec.id,
      openedAt,
    });
    await r.redis.set(redisKeys.tracking(acct.id), String(openedAt));

    tr = testTrader(r, t.url, d.db, acct);
    await tr.trader.start();
    const rows = (table: 'orders' | 'positions' | 'trades') => d.db.selectFrom(table).selectAll().where('account_id', '=', acct.id).execute();
    await until(async () => (await rows('orders')).length === 3 && (await rows('trades')).length === 1, 20_000);

    const orders = await d.db.selectFrom('orders').selectAll().where('account_id', '=', acct.id).orderBy('purpose').execute();
    expect(orders.map((o) => [o.purpose, o.status, o.client_order_id === entryId || o.purpose !== 'entry'])).toEqual([
      ['entry', 'FILLED', true],
      ['stop_loss', 'NEW', true],
      ['take_profit', 'NEW', true],
    ]);
    expect(await rows('positions')).toEqual([expect.objectContaining({ position_key: rec.id, status: 'open', symbol: 'BNBUSDT', recommendation_id: rec.id })]);
    expect(await r.redis.hlen(redisKeys.pendingOrders(acct.id))).toBe(0);
    expect(tr.lines.some((l) => l.includes('adopted a position'))).toBe(false);
  });
});
