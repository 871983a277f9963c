import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishSnapshot } from '../core/recommendations.js';
import { startOwnRedis, createTestDatabase, type OwnRedis, type TestDatabase } from '../testing/services.js';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import { until } from '../testing/until.js';
import { recommendation, testTrader, writeConfig } from '../testing/trader.js';

interface SimAccountView {
  openAlgoOrders: number;
  trades: number;
  positions: Array<{ symbol: string; positionAmt: string }>;
}

const CONFIG = { sizing: { mode: 'fixed', usdt: 100 }, leverage: 3 };

describe('Redis killed mid-trade and back empty', () => {
  let t: TestSimulator;
  let r: OwnRedis;
  let d: TestDatabase;
  let acct: TestAccount;
  let tr: ReturnType<typeof testTrader>;

  beforeAll(async () => {
    t = await startTestSimulator();
    r = await startOwnRedis();
    d = await createTestDatabase();
    acct = t.account(5_000);
    await writeConfig(r, acct.id, CONFIG);
    tr = testTrader(r, t.url, d.db, acct);
    await tr.trader.start();
    await until(() => tr.trader.state === 'active');
  }, 60_000);
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(tr.lines.slice(-80).join(''));
  });
  afterAll(async () => {
    await tr.close();
    await r.cleanup();
    await d.drop();
    await t.close();
  });

  const sim = () => t.admin<SimAccountView>('GET', `/accounts/${acct.id}`);
  const mark = async (symbol: string) => (await t.admin<{ markPrice: number }>('GET', `/price?symbol=${symbol}`)).markPrice;
  const positions = () => d.db.selectFrom('positions').selectAll().where('account_id', '=', acct.id).orderBy('id').execute();

  it(
    'finds every record: a position closed while Redis was gone is settled, one still open keeps its key and stop, a new one gets its own row',
    { timeout: 120_000 },
    async () => {
      const xrp = await mark('XRPUSDT');
      const doge = await mark('DOGEUSDT');
      const a = recommendation({ id: 'rec-a', symbol: 'XRPUSDT', entry: xrp, stopLoss: xrp * 0.95, takeProfit: xrp * 1.05 });
      const c = recommendation({ id: 'rec-c', symbol: 'DOGEUSDT', entry: doge, stopLoss: doge * 0.95, takeProfit: doge * 1.05 });
      await publishSnapshot(r.redis, [a, c]);
      await until(async () => (await sim()).openAlgoOrders === 4 && (await positions()).length === 2, 30_000);

      r.crash();
      // The take-profit closes XRP while the trader can track nothing.
      await t.admin('POST', '/price', { symbol: 'XRPUSDT', price: xrp * 1.06 });
      await until(async () => (await sim()).positions.every((p) => p.symbol !== 'XRPUSDT'), 20_000);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await r.restart();
      await writeConfig(r, acct.id, CONFIG); // as the operator does on its next pass

      await until(async () => (await positions()).find((p) => p.recommendation_id === 'rec-a')?.status === 'closed', 30_000);
      const [closed, open] = await positions();
      expect(open).toMatchObject({ position_key: 'rec-c', status: 'open', symbol: 'DOGEUSDT' });
      const closedTrades = await d.db.selectFrom('trades').selectAll().where('symbol', '=', 'XRPUSDT').execute();
      expect(closedTrades).toHaveLength(2);
      expect(closedTrades.every((x) => x.position_key === 'rec-a')).toBe(true);
      expect(Number(closed!.realized_pnl)).toBeCloseTo(
        closedTrades.reduce((s, x) => s + Number(x.realized_pnl), 0),
        8,
      );
      // The stop-loss left behind by the take-profit is cancelled; DOGE keeps its own two.
      await until(async () => (await sim()).openAlgoOrders === 2, 20_000);
      expect(tr.lines.some((l) => l.includes('Redis had lost the tracking state: rebuilt from the records'))).toBe(true);
      expect(tr.lines.some((l) => l.includes('adopted a position ats did not open'))).toBe(false);

      // A new position on the closed symbol gets a row of its own.
      const xrpNow = await mark('XRPUSDT');
      const b = recommendation({ id: 'rec-b', symbol: 'XRPUSDT', entry: xrpNow, stopLoss: xrpNow * 0.95, takeProfit: xrpNow * 1.05 });
      await publishSnapshot(r.redis, [b]);
      await until(async () => (await positions()).length === 3 && (await sim()).openAlgoOrders === 4, 30_000);
      const rows = await positions();
      expect(rows.map((p) => [p.position_key, p.status])).toEqual([
        ['rec-a', 'closed'],
        ['rec-c', 'open'],
        ['rec-b', 'open'],
      ]);
      expect(rows[0]).toEqual(closed);
      await until(async () => (await d.db.selectFrom('trades').select('id').execute()).length === (await sim()).trades, 20_000);
    },
  );
});
