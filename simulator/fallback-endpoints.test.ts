import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSimulator, type TestSimulator } from '../testing/simulator.js';
import { signedFetch } from '../testing/signed-fetch.js';

/** The endpoints a client falls back to, each answering as Binance documents it. */
describe('fallback endpoints', () => {
  let t: TestSimulator;
  let call: ReturnType<typeof signedFetch>;
  let mark: number;
  beforeAll(async () => {
    t = await startTestSimulator();
    const a = t.account(50_000);
    call = signedFetch(t.url, a.apiKey, a.apiSecret);
    mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=BTCUSDT')).markPrice;
  });
  afterAll(async () => t.close());

  const limitBuy = (price: number, id: string) => ({
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    quantity: '0.010',
    price: price.toFixed(1),
    timeInForce: 'GTC',
    newClientOrderId: id,
  });

  it('openOrder finds an open order and answers -2013 once it is not open', async () => {
    const placed = (await call('POST', '/fapi/v1/order', limitBuy(mark * 0.97, 'fb-open'))).body;
    expect((await call('GET', '/fapi/v1/openOrder', { symbol: 'BTCUSDT', origClientOrderId: 'fb-open' })).body).toMatchObject({
      orderId: placed.orderId,
      status: 'NEW',
    });
    await call('DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: placed.orderId });
    expect((await call('GET', '/fapi/v1/openOrder', { symbol: 'BTCUSDT', orderId: placed.orderId })).body).toEqual({
      code: -2013,
      msg: 'Order does not exist.',
    });
  });

  it('balance (v2 and v3) and symbolConfig', async () => {
    for (const path of ['/fapi/v2/balance', '/fapi/v3/balance']) {
      const [usdt] = (await call('GET', path)).body;
      expect(Object.keys(usdt)).toEqual([
        'accountAlias',
        'asset',
        'balance',
        'crossWalletBalance',
        'crossUnPnl',
        'availableBalance',
        'maxWithdrawAmount',
        'marginAvailable',
        'updateTime',
      ]);
      expect(usdt).toMatchObject({ asset: 'USDT', balance: '50000.00000000' });
    }
    await call('POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: 10 });
    expect((await call('GET', '/fapi/v1/symbolConfig', { symbol: 'BTCUSDT' })).body).toEqual([
      { symbol: 'BTCUSDT', marginType: 'CROSSED', isAutoAddMargin: 'false', leverage: 10, maxNotionalValue: '40000000' },
    ]);
  });

  it('batchOrders places and cancels several at once, a refused one answering in its place', async () => {
    const placed = (
      await call('POST', '/fapi/v1/batchOrders', {
        batchOrders: JSON.stringify([limitBuy(mark * 0.97, 'fb-b1'), limitBuy(mark * 0.96, 'fb-b2'), limitBuy(mark * 1.2, 'fb-b3')]),
      })
    ).body;
    expect(placed).toHaveLength(3);
    expect(placed[0]).toMatchObject({ clientOrderId: 'fb-b1', status: 'NEW' });
    expect(placed[2]).toMatchObject({ code: -4016 });
    const cancelled = (await call('DELETE', '/fapi/v1/batchOrders', { symbol: 'BTCUSDT', origClientOrderIdList: JSON.stringify(['fb-b1', 'fb-b2', 'nope']) }))
      .body;
    expect(cancelled.map((o: { status?: string; code?: number }) => o.status ?? o.code)).toEqual(['CANCELED', 'CANCELED', -2011]);
  });

  it('algo orders: all of them listed, the open ones cancelled at once', async () => {
    await call('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010' });
    const stop = (id: string, f: number) =>
      call('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: 'BTCUSDT',
        side: 'SELL',
        type: 'STOP_MARKET',
        triggerPrice: (mark * f).toFixed(1),
        closePosition: true,
        clientAlgoId: id,
      });
    await stop('fb-s1', 0.9);
    await stop('fb-s2', 0.8);
    expect((await call('DELETE', '/fapi/v1/algoOpenOrders', { symbol: 'BTCUSDT' })).body).toEqual({
      code: 200,
      msg: 'The operation of cancel all open order is done.',
    });
    const all = (await call('GET', '/fapi/v1/allAlgoOrders', { symbol: 'BTCUSDT' })).body;
    expect(all.map((a: { clientAlgoId: string; algoStatus: string }) => `${a.clientAlgoId}:${a.algoStatus}`)).toEqual(['fb-s1:CANCELED', 'fb-s2:CANCELED']);
  });

  it('income lists realized PnL and commission per fill, filtered by type', async () => {
    await call('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.010', reduceOnly: true });
    const income = (await call('GET', '/fapi/v1/income', { symbol: 'BTCUSDT' })).body;
    expect(Object.keys(income[0])).toEqual(['symbol', 'incomeType', 'income', 'asset', 'info', 'time', 'tranId', 'tradeId']);
    expect(income.filter((r: { incomeType: string }) => r.incomeType === 'COMMISSION')).toHaveLength(2);
    expect(income.filter((r: { incomeType: string }) => r.incomeType === 'REALIZED_PNL')).toHaveLength(1);
    const fees = (await call('GET', '/fapi/v1/income', { symbol: 'BTCUSDT', incomeType: 'COMMISSION' })).body;
    expect(fees.every((r: { income: string }) => Number(r.income) < 0)).toBe(true);
  });

  it('price klines of the mark and of the index, and the position mode', async () => {
    const markK = (await call('GET', '/fapi/v1/markPriceKlines', { symbol: 'BTCUSDT', interval: '1h', limit: 3 }, false)).body;
    const indexK = (await call('GET', '/fapi/v1/indexPriceKlines', { pair: 'BTCUSDT', interval: '1h', limit: 3 }, false)).body;
    expect(markK).toHaveLength(3);
    expect(markK[0]).toHaveLength(12);
    expect(markK[0][5]).toBe('0');
    expect(indexK[0][0]).toBe(markK[0][0]);
    expect((await call('GET', '/fapi/v1/positionSide/dual')).body).toEqual({ dualSidePosition: false });
    expect((await call('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'false' })).body).toEqual({
      code: -4059,
      msg: 'No need to change position side.',
    });
  });
});
