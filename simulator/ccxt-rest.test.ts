import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccxtErrors as ccxt } from '../core/exchange/ccxt-binance.js';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import type { BinanceClient } from '../core/exchange/binance-client.js';

const BTC = 'BTC/USDT:USDT';
const ETH = 'ETH/USDT:USDT';

describe('ccxt binanceusdm REST against the simulator', () => {
  let t: TestSimulator;
  let account: TestAccount;
  let ex: BinanceClient;
  let mark: number;

  beforeAll(async () => {
    t = await startTestSimulator();
    account = t.account(10_000);
    ex = await t.client(account);
    await ex.loadMarkets();
    mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=BTCUSDT')).markPrice;
  });
  afterAll(async () => t.close());

  it('loads markets with the real filters and every order type ats uses', async () => {
    const btc = ex.market(BTC);
    expect(btc).toMatchObject({ id: 'BTCUSDT', swap: true, linear: true, settle: 'USDT', active: true });
    expect(btc.precision).toMatchObject({ amount: 0.001, price: 0.1 });
    expect(btc.limits.cost?.min).toBe(100);
    expect(btc.info.orderTypes).toEqual(expect.arrayContaining(['MARKET', 'LIMIT', 'STOP_MARKET', 'TAKE_PROFIT_MARKET']));
    expect(Object.keys(ex.markets as object)).toHaveLength(6);
  });

  it('fetches mark prices, tickers and OHLCV', async () => {
    const marks = await ex.fetchMarkPrices();
    expect(Object.keys(marks)).toContain(BTC);
    expect(marks[BTC]!.markPrice).toBeCloseTo(mark, 0);
    const tickers = await ex.fetchTickers([BTC, ETH]);
    expect(tickers[ETH]!.last).toBeGreaterThan(0);
    expect(tickers[BTC]!.high).toBeGreaterThanOrEqual(tickers[BTC]!.low!);
    const candles = await ex.fetchOHLCV(BTC, '1h', undefined, 50);
    expect(candles).toHaveLength(50);
    for (const [time, open, high, low, close] of candles) {
      expect(time! % 3_600_000).toBe(0);
      expect(high).toBeGreaterThanOrEqual(Math.max(open!, close!));
      expect(low).toBeLessThanOrEqual(Math.min(open!, close!));
    }
    const fifteen = await ex.fetchOHLCV(BTC, '15m', undefined, 8);
    expect(fifteen[1]![0]! - fifteen[0]![0]!).toBe(900_000);
  });

  it('reads balance, sets leverage and margin mode, and reports MarginModeAlreadySet', async () => {
    const balance = await ex.fetchBalance();
    expect(balance.USDT).toMatchObject({ free: 10_000, used: 0, total: 10_000 });
    expect((await ex.setLeverage(7, ETH)).leverage).toBe(7);
    await ex.setMarginMode('isolated', ETH);
    await expect(ex.setMarginMode('isolated', ETH)).rejects.toThrow(ccxt.MarginModeAlreadySet);
  });

  it('places market and limit orders, fetches, lists and cancels them, and lists fills', async () => {
    const { askPrice } = await t.admin<{ askPrice: number }>('GET', '/price?symbol=BTCUSDT');
    const entry = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'ats-rest-entry-1' });
    expect(entry).toMatchObject({ status: 'closed', filled: 0.01, clientOrderId: 'ats-rest-entry-1', side: 'buy' });
    // A small market buy takes the best ask.
    expect(entry.average).toBe(askPrice);

    const below = Math.round(mark * 0.97);
    const limit = await ex.createOrder(BTC, 'limit', 'buy', 0.01, below, { clientOrderId: 'ats-rest-limit-1' });
    expect(limit.status).toBe('open');
    const fetched = await ex.fetchOrder(limit.id!, BTC);
    expect(fetched).toMatchObject({ id: limit.id, status: 'open', price: below, type: 'limit' });
    expect((await ex.fetchOpenOrders(BTC)).map((o) => o.id)).toEqual([limit.id]);
    const cancelled = await ex.cancelOrder(limit.id!, BTC);
    expect(cancelled.status).toBe('canceled');
    expect(await ex.fetchOpenOrders(BTC)).toHaveLength(0);

    const fills = await ex.fetchMyTrades(BTC);
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({ order: entry.id, side: 'buy', amount: 0.01 });
    expect(fills[0]!.fee?.cost).toBeCloseTo(0.01 * entry.average! * 0.0005, 6);
  });

  it('places stop-loss and take-profit through the algo endpoints and lists them with {trigger:true}', async () => {
    const sl = await ex.createOrder(BTC, 'market', 'sell', undefined as unknown as number, undefined, {
      stopLossPrice: Math.round(mark * 0.9),
      closePosition: true,
    });
    const tp = await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { takeProfitPrice: Math.round(mark * 1.1), reduceOnly: true });
    expect(sl).toMatchObject({ status: 'open', triggerPrice: Math.round(mark * 0.9) });
    expect(tp).toMatchObject({ status: 'open', triggerPrice: Math.round(mark * 1.1), amount: 0.01 });
    expect(await ex.fetchOpenOrders(BTC)).toHaveLength(0);
    const triggers = await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true });
    expect(triggers.map((o) => o.id).sort()).toEqual([sl.id, tp.id].sort());
    const one = await ex.fetchOrder(tp.id!, BTC, { trigger: true });
    expect(one).toMatchObject({ id: tp.id, status: 'open' });
    await ex.cancelOrder(tp.id!, BTC, { trigger: true });
    expect(await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true })).toHaveLength(1);
  });

  it('reports positions with side, size, entry and unrealized PnL', async () => {
    const positions = await ex.fetchPositions();
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ symbol: BTC, side: 'long', contracts: 0.01, marginMode: 'cross' });
    expect(positions[0]!.entryPrice).toBeGreaterThan(mark * 0.999);
    expect(positions[0]!.entryPrice).toBeLessThan(mark * 1.001);
    await t.admin('POST', '/price', { symbol: 'BTCUSDT', price: mark + 1000 });
    const moved = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=BTCUSDT')).markPrice;
    const [after] = await ex.fetchPositions();
    expect(after!.unrealizedPnl).toBeCloseTo(0.01 * (moved - after!.entryPrice!), 1);
  });
});
