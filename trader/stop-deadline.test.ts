import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishSnapshot } from '../core/recommendations.js';
import { until } from '../testing/until.js';
import { recommendation, startTraderFixture } from '../testing/trader.js';

interface SimAccountView {
  openAlgoOrders: number;
  positions: Array<{ symbol: string }>;
}

describe('a stop-loss the exchange will not take', () => {
  let f: Awaited<ReturnType<typeof startTraderFixture>>;

  beforeAll(async () => {
    f = await startTraderFixture({ sizing: { mode: 'fixed', usdt: 100 }, leverage: 3, stopLossDeadlineSeconds: 3 });
  });
  afterAll(async () => f.close());

  it('closes the position at market once stopLossDeadlineSeconds have passed, and says why as an error', { timeout: 60_000 }, async () => {
    const { t, r, d, acct, tr } = f;
    const sim = () => t.admin<SimAccountView>('GET', `/accounts/${acct.id}`);
    // Every conditional-order request fails with 503; plain orders still go through.
    await t.admin('POST', '/faults', { fail5xx: { count: 100_000, status: 503, pathPrefix: '/fapi/v1/algoOrder' } });
    const { markPrice } = await t.admin<{ markPrice: number }>('GET', '/price?symbol=XRPUSDT');
    await publishSnapshot(r.redis, [recommendation({ symbol: 'XRPUSDT', entry: markPrice, stopLoss: markPrice * 0.95, takeProfit: markPrice * 1.05 })]);

    await until(async () => (await sim()).positions.length === 1, 20_000);
    const opened = Date.now();
    await until(async () => (await sim()).positions.length === 0, 20_000);
    const unprotectedMs = Date.now() - opened;
    // The deadline (3 s) plus at most a retry interval and the close itself.
    expect(unprotectedMs).toBeGreaterThanOrEqual(2_500);
    expect(unprotectedMs).toBeLessThan(7_000);
    expect((await sim()).openAlgoOrders).toBe(0);
    const line = tr.lines.find((l) => l.includes('stop-loss could not be placed in time: closing the position at market'));
    expect(JSON.parse(line!)).toMatchObject({ level: 50, account_id: acct.id, symbol: 'XRPUSDT', deadlineSeconds: 3 });

    // Once the exchange answers again, the records settle: the close is there, with its fill.
    await t.admin('DELETE', '/faults');
    await until(async () => (await d.db.selectFrom('positions').select('status').executeTakeFirst())?.status === 'closed', 20_000);
    const orders = await d.db.selectFrom('orders').select(['purpose', 'status']).orderBy('id').execute();
    expect(orders.filter((o) => o.purpose === 'close')).toEqual([{ purpose: 'close', status: 'FILLED' }]);
    expect(await d.db.selectFrom('trades').select('id').execute()).toHaveLength(2);
  });
});
