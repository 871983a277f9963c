import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decimal } from '../core/decimal.js';
import { publishSnapshot } from '../core/recommendations.js';
import type { TestDatabase, TestRedis } from '../testing/services.js';
import type { TestAccount, TestSimulator } from '../testing/simulator.js';
import { until } from '../testing/until.js';
import { recommendation, recordedLedger, startTraderFixture, writeConfig } from '../testing/trader.js';

interface Summary {
  walletBalance: string;
  openOrders: number;
  openAlgoOrders: number;
  positions: Array<{ symbol: string; positionAmt: string }>;
}

/**
 * The records agree with the exchange to the last digit: over a run of closes by take-profit,
 * stop-loss and by hand, a re-entry of the same symbol and a partly filled entry, the wallet's
 * change equals the recorded realized PnL minus fees, and every fill belongs to exactly one position.
 */
describe('the ledger', () => {
  const BALANCE = 5_000;
  const CONFIG = { sizing: { mode: 'fixed', usdt: 200 }, leverage: 5, minScore: 0.5 };
  let f: Awaited<ReturnType<typeof startTraderFixture>>;
  let t: TestSimulator;
  let r: TestRedis;
  let d: TestDatabase;
  let acct: TestAccount;
  const summary = () => t.admin<Summary>('GET', `/accounts/${acct.id}`);
  const mark = async (symbol: string) => (await t.admin<{ markPrice: number }>('GET', `/price?symbol=${symbol}`)).markPrice;
  const setPrice = (symbol: string, price: number) => t.admin('POST', '/price', { symbol, price });
  const positionsOf = (symbol: string) =>
    d.db.selectFrom('positions').selectAll().where('account_id', '=', acct.id).where('symbol', '=', symbol).orderBy('opened_at').execute();
  const closedCount = async (symbol: string) => (await positionsOf(symbol)).filter((p) => p.status === 'closed').length;
  const protectedOn = async (symbol: string) => (await summary()).positions.some((p) => p.symbol === symbol) && (await summary()).openAlgoOrders === 2;
  const flat = async () => {
    const s = await summary();
    return s.positions.length === 0 && s.openAlgoOrders === 0 && s.openOrders === 0;
  };

  beforeAll(async () => {
    f = await startTraderFixture(CONFIG, BALANCE);
    ({ t, r, d, acct } = f);
  });
  afterAll(async () => f.close());

  it('keeps a take-profit close and a re-entry of the same symbol within the minute apart', async () => {
    const m = await mark('ETHUSDT');
    const first = recommendation({ id: 'eth-long', symbol: 'ETHUSDT', entry: m, stopLoss: Math.round(m * 0.97), takeProfit: Math.round(m * 1.03) });
    await publishSnapshot(r.redis, [first]);
    await until(() => protectedOn('ETHUSDT'));
    const exit = Math.round(m * 1.035 * 100) / 100;
    await setPrice('ETHUSDT', exit);
    await until(flat, 15_000);
    // Right away, the other way on the same symbol; closed by its stop-loss.
    const second = recommendation({
      id: 'eth-short',
      side: 'short',
      symbol: 'ETHUSDT',
      entry: exit,
      stopLoss: Math.round(exit * 1.02),
      takeProfit: Math.round(exit * 0.95),
    });
    await publishSnapshot(r.redis, [second]);
    await until(() => protectedOn('ETHUSDT'), 15_000);
    await setPrice('ETHUSDT', Math.round(exit * 1.025 * 100) / 100);
    await until(flat, 15_000);
    await until(async () => (await closedCount('ETHUSDT')) === 2, 15_000);

    const [long, short] = await positionsOf('ETHUSDT');
    expect(long).toMatchObject({ side: 'long', position_key: 'eth-long', status: 'closed' });
    expect(short).toMatchObject({ side: 'short', position_key: 'eth-short', status: 'closed' });
    for (const p of [long!, short!]) {
      const fills = await d.db.selectFrom('trades').selectAll().where('account_id', '=', acct.id).where('position_key', '=', p.position_key).execute();
      expect(fills).toHaveLength(2);
      expect(decimal.eq(p.realized_pnl, decimal.sum(fills.map((x) => x.realized_pnl)))).toBe(true);
      expect(decimal.eq(p.fees, decimal.sum(fills.map((x) => x.commission)))).toBe(true);
      const closing = fills.find((x) => x.side === (p.side === 'long' ? 'sell' : 'buy'))!;
      expect(decimal.eq(p.exit_price!, closing.price)).toBe(true);
      expect(closing.client_order_id).toMatch(p.side === 'long' ? /^ats-t-/ : /^ats-s-/);
    }
    expect(Number(long!.realized_pnl)).toBeGreaterThan(0);
    expect(Number(short!.realized_pnl)).toBeLessThan(0);
  });

  it('records a position the user closed by hand, with its own fills', async () => {
    const m = await mark('BNBUSDT');
    await publishSnapshot(r.redis, [
      recommendation({ id: 'bnb-long', symbol: 'BNBUSDT', entry: m, stopLoss: Math.round(m * 0.95), takeProfit: Math.round(m * 1.05) }),
    ]);
    await until(() => protectedOn('BNBUSDT'));
    await setPrice('BNBUSDT', Math.round(m * 1.01 * 100) / 100);
    const user = await t.client(acct);
    const amount = Number((await summary()).positions[0]!.positionAmt);
    await user.createOrder('BNB/USDT:USDT', 'market', 'sell', amount, undefined, { reduceOnly: true });
    // The stop-loss and take-profit left behind are cancelled, and the position is settled.
    await until(flat, 15_000);
    await until(async () => (await closedCount('BNBUSDT')) === 1, 15_000);
    const [p] = await positionsOf('BNBUSDT');
    expect(Number(p!.realized_pnl)).toBeGreaterThan(0);
    expect(Number(p!.exit_price)).toBeCloseTo(m * 1.01, 1);
  });

  it('records a partly filled limit entry as the position it became', async () => {
    await writeConfig(r, acct.id, { ...CONFIG, entryType: 'limit' });
    const m = await mark('SOLUSDT');
    const entry = Math.round(m * 0.99 * 100) / 100;
    const rec = recommendation({
      id: 'sol-long',
      symbol: 'SOLUSDT',
      entry,
      stopLoss: Math.round(entry * 0.95 * 100) / 100,
      takeProfit: Math.round(entry * 1.05 * 100) / 100,
      expiresAt: Date.now() + 6_000,
    });
    await publishSnapshot(r.redis, [rec]);
    await until(async () => (await summary()).openOrders === 1);
    await t.admin('POST', '/faults', { partialFill: { count: 1, ratio: 0.4 } });
    await setPrice('SOLUSDT', entry);
    await setPrice('SOLUSDT', m);
    await until(() => protectedOn('SOLUSDT'));
    // The rest of the entry is cancelled when the recommendation expires.
    await until(async () => (await summary()).openOrders === 0, 15_000);
    await setPrice('SOLUSDT', Math.round(entry * 1.06 * 100) / 100);
    await until(flat, 15_000);
    await until(async () => (await closedCount('SOLUSDT')) === 1, 15_000);
    const [p] = await positionsOf('SOLUSDT');
    const order = await d.db
      .selectFrom('orders')
      .selectAll()
      .where('account_id', '=', acct.id)
      .where('purpose', '=', 'entry')
      .where('symbol', '=', 'SOLUSDT')
      .executeTakeFirstOrThrow();
    expect(order.status).toBe('CANCELED');
    expect(Number(order.filled_quantity)).toBeGreaterThan(0);
    expect(Number(order.filled_quantity)).toBeLessThan(Number(order.quantity));
    expect(p!.quantity).toBe(order.filled_quantity);
    expect(Number(p!.realized_pnl)).toBeGreaterThan(0);
  });

  it('records the funding a position pays at a funding time, as the exchange printed it', async () => {
    await writeConfig(r, acct.id, CONFIG);
    const m = await mark('ETHUSDT');
    const rec = recommendation({ id: 'eth-funded', symbol: 'ETHUSDT', entry: m, stopLoss: Math.round(m * 0.9), takeProfit: Math.round(m * 1.1) });
    await publishSnapshot(r.redis, [rec]);
    await until(() => protectedOn('ETHUSDT'));
    const { nextFundingTime } = (await (await fetch(`${t.url}/fapi/v1/premiumIndex?symbol=ETHUSDT`)).json()) as { nextFundingTime: number };
    const { marketTime } = await t.admin<{ marketTime: number }>('GET', '/price?symbol=ETHUSDT');
    await t.admin('POST', '/clock', { advanceMs: nextFundingTime - marketTime + 1 });
    await until(async () => (await d.db.selectFrom('funding_payments').select('amount').where('account_id', '=', acct.id).execute()).length === 1, 15_000);
    const [payment] = await d.db.selectFrom('funding_payments').selectAll().where('account_id', '=', acct.id).execute();
    // A long pays at ETHUSDT's positive rate.
    expect(payment).toMatchObject({ symbol: 'ETHUSDT' });
    expect(Number(payment!.amount)).toBeLessThan(0);
    await setPrice('ETHUSDT', Math.round(m * 1.12 * 100) / 100);
    await until(flat, 15_000);
    await until(async () => (await closedCount('ETHUSDT')) === 3, 15_000);
  });

  it("equals the exchange's wallet change exactly: every fill in one position, plus funding", async () => {
    const wallet = (await summary()).walletBalance;
    const ledger = await recordedLedger(d.db, acct.id);
    const change = decimal.sub(wallet, BALANCE);
    expect(ledger.fills).toBe(10);
    expect(ledger.unattributed).toBe(0);
    expect(ledger.fundingPayments).toBe(1);
    expect(decimal.eq(ledger.walletNet, change)).toBe(true);
    expect(decimal.eq(decimal.add(ledger.positionsNet, ledger.fundingNet), change)).toBe(true);
  });
});
