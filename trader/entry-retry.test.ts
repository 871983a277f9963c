import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishSnapshot } from '../core/recommendations.js';
import { until } from '../testing/until.js';
import { recommendation, startTraderFixture } from '../testing/trader.js';

describe('an entry the exchange failed to take for a passing reason', () => {
  let f: Awaited<ReturnType<typeof startTraderFixture>>;

  beforeAll(async () => {
    f = await startTraderFixture({ sizing: { mode: 'fixed', usdt: 100 }, leverage: 2, minScore: 0 });
    f.tr.lines.length = 0;
  });
  afterAll(async () => f.close());
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(f.tr.lines.slice(-30).join(''));
  });

  it('is tried again at the next look, and enters once', { timeout: 60_000 }, async () => {
    const { t, r, d, acct } = f;
    // The entry order gets a 503 once (the first attempt goes out without a lookup); nothing else fails.
    await t.admin('POST', '/faults', { fail5xx: { count: 1, status: 503, pathPrefix: '/fapi/v1/order' } });
    const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=BNBUSDT')).markPrice;
    await publishSnapshot(r.redis, [recommendation({ symbol: 'BNBUSDT', entry: mark, stopLoss: mark * 0.95, takeProfit: mark * 1.08 })]);
    await until(async () => (await t.admin<{ positions: unknown[]; openAlgoOrders: number }>('GET', `/accounts/${acct.id}`)).openAlgoOrders === 2, 30_000);
    const view = await t.admin<{ positions: unknown[]; trades: number }>('GET', `/accounts/${acct.id}`);
    expect(view.positions).toHaveLength(1);
    expect(view.trades).toBe(1);
    // The failed attempt was recorded (REJECTED); the entry that went through is the same order
    // (one client id), so its row ends FILLED, once the records are written.
    const entries = () => d.db.selectFrom('orders').select(['status']).where('account_id', '=', acct.id).where('purpose', '=', 'entry').execute();
    await until(async () => (await entries()).some((e) => e.status === 'FILLED'), 10_000);
    expect((await entries()).map((e) => e.status)).toEqual(['FILLED']);
  });
});
