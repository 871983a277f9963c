import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishSnapshot } from '../core/recommendations.js';
import { redisKeys, statsDay } from '../core/redis-contract.js';
import { until } from '../testing/until.js';
import { recommendation, startTraderFixture, writeConfig } from '../testing/trader.js';

type Counters = { requestsByEndpoint: Record<string, number> };

describe('an undecided recommendation', () => {
  let f: Awaited<ReturnType<typeof startTraderFixture>>;
  const config = { sizing: { mode: 'fixed', usdt: 100 }, leverage: 2, minScore: 0, maxOpenPositions: 0 };

  beforeAll(async () => {
    // Polls every second; the periodic reconciliation and snapshots are out of the way.
    f = await startTraderFixture(config, 5_000, { recommendationPollMs: 1_000, reconcileMs: 3_600_000, snapshotMs: 3_600_000 });
  });
  afterAll(async () => f.close());

  it('costs no exchange request per poll while nothing changes, and is looked at again when the config changes', { timeout: 60_000 }, async () => {
    const { t, r, acct } = f;
    const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=ETHUSDT')).markPrice;
    const rec = recommendation({ symbol: 'ETHUSDT', entry: mark, stopLoss: Math.round(mark * 0.97), takeProfit: Math.round(mark * 1.04) });
    await publishSnapshot(r.redis, [rec]);
    // maxOpenPositions 0: denied, and not for good (a later config may allow it).
    await until(async () => (await r.redis.hget(redisKeys.stats(acct.id, statsDay()), 'denied:max_open_positions')) === '1');

    await t.admin('DELETE', '/counters');
    await new Promise((res) => setTimeout(res, 6_000));
    const { requestsByEndpoint } = await t.admin<Counters>('GET', '/counters');
    const reads = Object.entries(requestsByEndpoint).filter(([endpoint]) => endpoint.startsWith('GET /fapi/'));
    expect(reads, 'requests during six polls').toEqual([]);

    // A config change is an account event: the same recommendation is looked at again, and entered.
    await writeConfig(r, acct.id, { ...config, maxOpenPositions: 3 });
    await until(async () => (await t.admin<{ positions: unknown[] }>('GET', `/accounts/${acct.id}`)).positions.length === 1, 20_000);
  });
});

describe('an idle account with an open position (stream-first)', () => {
  let f: Awaited<ReturnType<typeof startTraderFixture>>;

  beforeAll(async () => {
    // The safety pass as deployed (10 min); snapshots every second, to show they cost nothing.
    f = await startTraderFixture({ sizing: { mode: 'fixed', usdt: 100 }, leverage: 2 }, 5_000, {
      recommendationPollMs: 1_000,
      snapshotMs: 1_000,
      reconcileMs: 600_000,
    });
  });
  afterAll(async () => f.close());

  it('costs no exchange request while nothing happens: snapshots, heartbeats and polls use what the trader knows', { timeout: 60_000 }, async () => {
    const { t, r, acct, d } = f;
    const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=ETHUSDT')).markPrice;
    await t.admin('DELETE', '/counters');
    await publishSnapshot(r.redis, [recommendation({ symbol: 'ETHUSDT', entry: mark, stopLoss: mark * 0.95, takeProfit: mark * 1.08 })]);
    await until(async () => (await t.admin<{ openAlgoOrders: number }>('GET', `/accounts/${acct.id}`)).openAlgoOrders === 2, 20_000);
    await new Promise((res) => setTimeout(res, 1_500)); // the entry's bookkeeping settles
    // A first entry reads nothing it knows: no look for open triggers before its stop-loss, and no
    // lookup of its own order (neither before sending it nor in its bookkeeping).
    const entry = (await t.admin<Counters>('GET', '/counters')).requestsByEndpoint;
    expect(
      Object.keys(entry).filter((e) => /openAlgoOrders|GET \/fapi\/v1\/order$/.test(e)),
      'lookups of the entry',
    ).toEqual([]);
    expect(entry['POST /fapi/v1/algoOrder'], 'stop-loss and take-profit').toBe(2);

    await t.admin('DELETE', '/counters');
    const before = await d.db.selectFrom('account_snapshots').select('id').where('account_id', '=', acct.id).execute();
    await new Promise((res) => setTimeout(res, 6_000));
    const { requestsByEndpoint } = await t.admin<Counters>('GET', '/counters');
    // Market data (mark prices) is shared and public; the account's own requests are what count.
    const reads = Object.entries(requestsByEndpoint).filter(
      ([endpoint]) => endpoint.startsWith('GET /fapi/') && !/premiumIndex|ticker|klines|exchangeInfo|time/.test(endpoint),
    );
    expect(reads, 'account requests in six idle seconds').toEqual([]);
    // The snapshots were still taken, valued at the shared mark prices.
    await until(async () => (await d.db.selectFrom('account_snapshots').select('id').where('account_id', '=', acct.id).execute()).length >= before.length + 4);
  });
});
