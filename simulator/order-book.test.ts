import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSimulator, type TestSimulator } from '../testing/simulator.js';
import { signedFetch } from '../testing/signed-fetch.js';

interface Prices {
  markPrice: number;
  lastPrice: number;
  bidPrice: number;
  askPrice: number;
}

/** The book, price bands and trigger prices, through a client written from Binance's docs. */
describe('the simulated market: book, slippage, price bands, trigger prices', () => {
  let t: TestSimulator;
  const prices = (symbol: string) => t.admin<Prices>('GET', `/price?symbol=${symbol}`);

  beforeAll(async () => {
    // A large premium, so that the mark and the last price differ enough to tell apart.
    t = await startTestSimulator({ markPremium: 0.01 });
  });
  afterAll(async () => t.close());

  it('serves the book (depth, bookTicker) around the last price, with the spread and Binance weights', async () => {
    const a = t.account(1_000);
    const call = signedFetch(t.url, a.apiKey, a.apiSecret);
    const p = await prices('BTCUSDT');
    const depth = await call('GET', '/fapi/v1/depth', { symbol: 'BTCUSDT', limit: 10 }, false);
    expect(depth.status).toBe(200);
    expect(Object.keys(depth.body).sort()).toEqual(['E', 'T', 'asks', 'bids', 'lastUpdateId']);
    expect(depth.body.bids).toHaveLength(10);
    expect(depth.body.asks).toHaveLength(10);
    const [bid, ask] = [Number(depth.body.bids[0][0]), Number(depth.body.asks[0][0])];
    expect(bid).toBe(p.bidPrice);
    expect(ask).toBe(p.askPrice);
    expect(bid).toBeLessThan(p.lastPrice);
    expect(ask).toBeGreaterThan(p.lastPrice);
    // Prices move away from the top, one level at a time; quantities are decimal strings.
    expect(Number(depth.body.bids[9][0])).toBeLessThan(bid);
    expect(Number(depth.body.asks[9][0])).toBeGreaterThan(ask);
    expect(depth.body.bids[0][1]).toMatch(/^\d+\.\d{3}$/);
    expect(Number(depth.headers.get('x-mbx-used-weight-1m'))).toBeGreaterThanOrEqual(2);
    expect((await call('GET', '/fapi/v1/depth', { symbol: 'BTCUSDT', limit: 7 }, false)).body).toEqual({ code: -4021, msg: "'7' is not valid depth limit." });

    const ticker = await call('GET', '/fapi/v1/ticker/bookTicker', { symbol: 'BTCUSDT' }, false);
    expect(ticker.body).toMatchObject({ symbol: 'BTCUSDT', bidPrice: depth.body.bids[0][0], askPrice: depth.body.asks[0][0] });
    expect(Object.keys(ticker.body).sort()).toEqual(['askPrice', 'askQty', 'bidPrice', 'bidQty', 'lastUpdateId', 'symbol', 'time']);
    const all = await call('GET', '/fapi/v1/ticker/bookTicker', {}, false);
    expect(all.body).toHaveLength(6);

    // The mark (premium index) and the last price (24h ticker) are different prices.
    const premium = await call('GET', '/fapi/v1/premiumIndex', { symbol: 'BTCUSDT' }, false);
    const last = await call('GET', '/fapi/v1/ticker/24hr', { symbol: 'BTCUSDT' }, false);
    expect(Number(premium.body.markPrice)).toBeCloseTo(p.markPrice, 6);
    expect(Number(last.body.lastPrice)).toBe(p.lastPrice);
    expect(p.markPrice).not.toBe(p.lastPrice);
  });

  it('fills a small market order at the best price and a large one through several levels, at the taker fee', async () => {
    const a = t.account(1_000_000);
    const call = signedFetch(t.url, a.apiKey, a.apiSecret);
    const p = await prices('ETHUSDT');
    const small = await call('POST', '/fapi/v1/order', { symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.100', newOrderRespType: 'RESULT' });
    expect(Number(small.body.avgPrice)).toBe(p.askPrice);
    const big = await call('POST', '/fapi/v1/order', { symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '100.000', newOrderRespType: 'RESULT' });
    expect(big.body).toMatchObject({ status: 'FILLED', executedQty: '100.000' });
    // Slippage: the average is below the best bid, and grows with size.
    expect(Number(big.body.avgPrice)).toBeLessThan(p.bidPrice);
    const fills = (await call('GET', '/fapi/v1/userTrades', { symbol: 'ETHUSDT' })).body.filter((f: any) => String(f.orderId) === String(big.body.orderId));
    expect(fills.length).toBeGreaterThan(3);
    const fillPrices = fills.map((f: any) => Number(f.price));
    expect(fillPrices).toEqual([...fillPrices].sort((x, y) => y - x));
    expect(fillPrices[0]).toBe(p.bidPrice);
    for (const f of fills) {
      expect(f.maker).toBe(false);
      expect(Number(f.commission)).toBeCloseTo(Number(f.quoteQty) * 0.0005, 8);
    }
  });

  it('rests the rest of a marketable limit order, and fills a resting order as maker when the price trades through it', async () => {
    const a = t.account(1_000_000);
    const call = signedFetch(t.url, a.apiKey, a.apiSecret);
    const p = await prices('BNBUSDT');
    // Two levels' worth at a limit one level above the best ask: part fills, the rest rests.
    const depth = (await call('GET', '/fapi/v1/depth', { symbol: 'BNBUSDT', limit: 5 }, false)).body;
    const twoLevels = Number(depth.asks[0][1]) + Number(depth.asks[1][1]);
    const qty = (twoLevels * 3).toFixed(2);
    const limit = Number(depth.asks[1][0]);
    const order = await call('POST', '/fapi/v1/order', {
      symbol: 'BNBUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: qty,
      price: limit,
      timeInForce: 'GTC',
      newOrderRespType: 'RESULT',
    });
    expect(order.body.status).toBe('PARTIALLY_FILLED');
    expect(Number(order.body.executedQty)).toBeCloseTo(twoLevels, 2);
    // The price comes down to the limit: the rest fills there, as maker.
    await t.admin('POST', '/price', { symbol: 'BNBUSDT', price: limit - 0.5 });
    const done = await call('GET', '/fapi/v1/order', { symbol: 'BNBUSDT', orderId: order.body.orderId });
    expect(done.body.status).toBe('FILLED');
    const fills = (await call('GET', '/fapi/v1/userTrades', { symbol: 'BNBUSDT' })).body;
    expect(fills.at(-1)).toMatchObject({ maker: true, price: depth.asks[1][0] });
    expect(Number(fills.at(-1).commission)).toBeCloseTo(Number(fills.at(-1).quoteQty) * 0.0002, 8);
    await t.admin('POST', '/price', { symbol: 'BNBUSDT', price: p.lastPrice });
  });

  it('refuses limit prices outside the PERCENT_PRICE band around the mark, and an FOK order the book cannot fill', async () => {
    const a = t.account(10_000);
    const call = signedFetch(t.url, a.apiKey, a.apiSecret);
    const { markPrice } = await prices('BTCUSDT');
    const limit = (price: number, side = 'BUY', extra = {}) =>
      call('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side, type: 'LIMIT', quantity: '0.010', price: price.toFixed(1), timeInForce: 'GTC', ...extra });
    const cap = Math.round(markPrice * 1.05 * 10) / 10;
    const floor = Math.round(markPrice * 0.95 * 10) / 10;
    expect((await limit(markPrice * 1.06)).body).toEqual({ code: -4016, msg: `Limit price can't be higher than ${cap}.` });
    expect((await limit(markPrice * 0.94, 'SELL')).body).toEqual({ code: -4024, msg: `Limit price can't be lower than ${floor}.` });
    expect((await limit(markPrice * 0.97)).status).toBe(200);
    const fok = await call('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
      price: (markPrice * 0.96).toFixed(1),
      timeInForce: 'FOK',
    });
    expect(fok.body).toEqual({ code: -5021, msg: 'Due to the order could not be filled immediately, the FOK order has been rejected.' });
  });

  it('triggers a stop on the price its workingType names, and fills it like a market order', async () => {
    const a = t.account(100_000);
    const call = signedFetch(t.url, a.apiKey, a.apiSecret);
    await call('POST', '/fapi/v1/order', { symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '10' });
    const p = await prices('SOLUSDT');
    // A sell stop between the two prices: already reached on one of them, not on the other.
    const between = Math.round(((p.markPrice + p.lastPrice) / 2) * 100) / 100;
    const stop = (workingType: string, clientAlgoId: string) =>
      call('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: 'SOLUSDT',
        side: 'SELL',
        type: 'STOP_MARKET',
        triggerPrice: between,
        closePosition: true,
        workingType,
        clientAlgoId,
      });
    const reachedOn = p.lastPrice < p.markPrice ? 'CONTRACT_PRICE' : 'MARK_PRICE';
    const notYetOn = reachedOn === 'CONTRACT_PRICE' ? 'MARK_PRICE' : 'CONTRACT_PRICE';
    expect((await stop(reachedOn, 'sol-now')).body).toEqual({ code: -2021, msg: 'Order would immediately trigger.' });
    expect((await stop(notYetOn, 'sol-later')).body).toMatchObject({ algoStatus: 'NEW', workingType: notYetOn });

    // Both prices fall well below it: it triggers and sells into the bid, below the trigger.
    await t.admin('POST', '/price', { symbol: 'SOLUSDT', price: Math.round(p.lastPrice * 0.97 * 100) / 100 });
    const after = await prices('SOLUSDT');
    const algo = await call('GET', '/fapi/v1/algoOrder', { clientAlgoId: 'sol-later' });
    expect(algo.body.algoStatus).toBe('FINISHED');
    const fills = (await call('GET', '/fapi/v1/userTrades', { symbol: 'SOLUSDT' })).body;
    expect(Number(fills.at(-1).price)).toBe(after.bidPrice);
    expect(Number(fills.at(-1).price)).toBeLessThan(between);
  });
});
