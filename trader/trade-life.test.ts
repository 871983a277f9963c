import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishSnapshot } from '../core/recommendations.js';
import { redisKeys, statsDay } from '../core/redis-contract.js';
import type { TestDatabase, TestRedis } from '../testing/services.js';
import type { TestAccount, TestSimulator } from '../testing/simulator.js';
import { until } from '../testing/until.js';
import { recommendation, startTraderFixture } from '../testing/trader.js';

describe("a trade's full life", () => {
  let f: Awaited<ReturnType<typeof startTraderFixture>>;
  let t: TestSimulator;
  let r: TestRedis;
  let d: TestDatabase;
  let alice: TestAccount;

  beforeAll(async () => {
    f = await startTraderFixture({ sizing: { mode: 'fixed', usdt: 200 }, leverage: 5, minScore: 0.5 });
    ({ t, r, d, acct: alice } = f);
  });
  afterAll(async () => f.close());

  it('enters, protects, closes at the take-profit, cancels the stop-loss and records it all', async () => {
    const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=ETHUSDT')).markPrice;
    const rec = recommendation({ symbol: 'ETHUSDT', entry: mark, stopLoss: Math.round(mark * 0.97), takeProfit: Math.round(mark * 1.04) });
    await publishSnapshot(r.redis, [rec]);

    // Entry, then stop-loss and take-profit on the exchange.
    await until(async () => (await t.admin<{ openAlgoOrders: number }>('GET', `/accounts/${alice.id}`)).openAlgoOrders === 2);
    const open = await t.admin<{ positions: Array<{ positionAmt: string; entryPrice: string }> }>('GET', `/accounts/${alice.id}`);
    const amount = Number(open.positions[0]!.positionAmt);
    const entryPrice = Number(open.positions[0]!.entryPrice);
    expect(amount).toBeCloseTo(Math.floor((200 * 5) / mark / 0.001) * 0.001, 6);
    await until(async () => (await r.redis.hget(redisKeys.positions(alice.id), 'ETHUSDT')) !== null);

    // The price moves through the take-profit.
    const exit = Math.round(mark * 1.045 * 100) / 100;
    await t.admin('POST', '/price', { symbol: 'ETHUSDT', price: exit });
    await until(async () => (await t.admin<{ openAlgoOrders: number; positions: unknown[] }>('GET', `/accounts/${alice.id}`)).openAlgoOrders === 0, 15_000);
    await until(
      async () => (await d.db.selectFrom('positions').select('status').where('account_id', '=', alice.id).executeTakeFirst())?.status === 'closed',
      15_000,
    );

    const position = await d.db.selectFrom('positions').selectAll().where('account_id', '=', alice.id).executeTakeFirstOrThrow();
    const trades = await d.db.selectFrom('trades').selectAll().where('account_id', '=', alice.id).orderBy('traded_at').execute();
    expect(trades).toHaveLength(2);
    const exitFill = Number(trades[1]!.price);
    const grossPnl = (exitFill - entryPrice) * amount;
    const fees = (entryPrice + exitFill) * amount * 0.0005;
    expect(position).toMatchObject({ symbol: 'ETHUSDT', side: 'long', status: 'closed', recommendation_id: rec.id });
    expect(Number(position.realized_pnl)).toBeCloseTo(grossPnl, 6);
    expect(Number(position.fees)).toBeCloseTo(fees, 6);
    // The take-profit is a market order when it triggers: it fills at the book's bid, a little under the price.
    const { bidPrice } = await t.admin<{ bidPrice: number }>('GET', '/price?symbol=ETHUSDT');
    expect(Number(position.exit_price)).toBe(bidPrice);
    expect(bidPrice).toBeLessThan(exit);
    expect(trades.reduce((s, x) => s + Number(x.commission), 0)).toBeCloseTo(fees, 6);

    await until(async () => (await d.db.selectFrom('orders').select('purpose').where('account_id', '=', alice.id).execute()).length === 3);
    const orders = await d.db.selectFrom('orders').selectAll().where('account_id', '=', alice.id).execute();
    const byPurpose = Object.fromEntries(orders.map((o) => [o.purpose, o.status]));
    expect(byPurpose).toEqual({ entry: 'FILLED', take_profit: 'FINISHED', stop_loss: 'CANCELED' });
    expect(orders.every((o) => o.recommendation_id === rec.id || o.purpose !== 'entry')).toBe(true);

    // Redis runtime state follows.
    expect(await r.redis.hlen(redisKeys.positions(alice.id))).toBe(0);
    expect(await r.redis.hlen(redisKeys.pendingOrders(alice.id))).toBe(0);
    const stats = await r.redis.hgetall(redisKeys.stats(alice.id, statsDay()));
    expect(Number(stats.orders_placed)).toBe(3);
    expect(Number(stats.positions_closed)).toBe(1);
    const heartbeat = JSON.parse((await r.redis.get(redisKeys.heartbeat(`trader:${alice.id}`)))!);
    expect(heartbeat).toMatchObject({ state: 'active', openPositions: 0 });
  });
});

describe('a limit entry that does not fill', () => {
  let f: Awaited<ReturnType<typeof startTraderFixture>>;
  let t: TestSimulator;
  let r: TestRedis;
  let d: TestDatabase;
  let acct: TestAccount;

  beforeAll(async () => {
    f = await startTraderFixture({ entryType: 'limit', sizing: { mode: 'fixed', usdt: 100 }, leverage: 2 });
    ({ t, r, d, acct } = f);
  });
  afterAll(async () => f.close());

  it('is cancelled when its recommendation expires, and the symbol is free again', async () => {
    const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=ETHUSDT')).markPrice;
    // Below the market, but within the exchange's price band (PERCENT_PRICE refuses a limit 5 % off the mark).
    const entry = Math.round(mark * 0.97 * 100) / 100;
    const rec = recommendation({ symbol: 'ETHUSDT', entry, stopLoss: entry * 0.95, takeProfit: entry * 1.1, expiresAt: Date.now() + 3_000 });
    await publishSnapshot(r.redis, [rec]);
    await until(async () => (await t.admin<{ openOrders: number }>('GET', `/accounts/${acct.id}`)).openOrders === 1);
    await until(async () => (await t.admin<{ openOrders: number }>('GET', `/accounts/${acct.id}`)).openOrders === 0, 15_000);
    await until(async () => (await r.redis.hlen(redisKeys.pendingOrders(acct.id))) === 0);
    await until(async () => (await d.db.selectFrom('orders').select('status').where('account_id', '=', acct.id).executeTakeFirst())?.status === 'CANCELED');
    expect((await t.admin<{ positions: unknown[] }>('GET', `/accounts/${acct.id}`)).positions).toEqual([]);
  });
});
