import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSimulator, type TestSimulator } from '../testing/simulator.js';
import { signedFetch } from '../testing/signed-fetch.js';

/** Leverage brackets, the maximum position per leverage, maintenance margin and the liquidation price. */
describe('margin by notional bracket', () => {
  let t: TestSimulator;
  beforeAll(async () => {
    t = await startTestSimulator({ markPremium: 0 });
  });
  afterAll(async () => t.close());

  it("answers BTCUSDT's real ten-bracket ladder (a list without symbol, an object with one)", async () => {
    const a = t.account(1_000);
    const call = signedFetch(t.url, a.apiKey, a.apiSecret);
    const list = (await call('GET', '/fapi/v1/leverageBracket')).body;
    expect(list).toHaveLength(6);
    const btc = (await call('GET', '/fapi/v1/leverageBracket', { symbol: 'BTCUSDT' })).body;
    expect(btc.symbol).toBe('BTCUSDT');
    expect(btc.brackets).toHaveLength(10);
    expect(btc.brackets.slice(0, 4)).toEqual([
      { bracket: 1, initialLeverage: 125, notionalCap: 50000, notionalFloor: 0, maintMarginRatio: 0.004, cum: 0 },
      { bracket: 2, initialLeverage: 100, notionalCap: 250000, notionalFloor: 50000, maintMarginRatio: 0.005, cum: 50 },
      { bracket: 3, initialLeverage: 50, notionalCap: 3000000, notionalFloor: 250000, maintMarginRatio: 0.01, cum: 1300 },
      { bracket: 4, initialLeverage: 20, notionalCap: 20000000, notionalFloor: 3000000, maintMarginRatio: 0.025, cum: 46300 },
    ]);
    expect(btc.brackets.at(-1)).toMatchObject({ initialLeverage: 1, maintMarginRatio: 0.5, cum: 103046300 });
  });

  it('lowers the largest position as leverage rises: -2027 past it, -4028 past the first bracket', async () => {
    const a = t.account(1_000_000);
    const call = signedFetch(t.url, a.apiKey, a.apiSecret);
    expect((await call('POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: 126 })).body).toEqual({ code: -4028, msg: 'Leverage 126 is not valid' });
    expect((await call('POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: 125 })).body).toEqual({
      leverage: 125,
      maxNotionalValue: '50000',
      symbol: 'BTCUSDT',
    });
    const { lastPrice } = await t.admin<{ lastPrice: number }>('GET', '/price?symbol=BTCUSDT');
    const over = (60_000 / lastPrice).toFixed(3);
    const buy = (quantity: string) => call('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity });
    expect((await buy(over)).body).toEqual({ code: -2027, msg: 'Exceeded the maximum allowable position at current leverage.' });
    expect((await call('POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: 100 })).body.maxNotionalValue).toBe('250000');
    expect((await buy(over)).status).toBe(200);
  });

  it('prints the liquidation price Binance computes, and liquidates an isolated position there, not before', async () => {
    const a = t.account(10_000);
    const call = signedFetch(t.url, a.apiKey, a.apiSecret);
    await call('POST', '/fapi/v1/marginType', { symbol: 'ETHUSDT', marginType: 'ISOLATED' });
    await call('POST', '/fapi/v1/leverage', { symbol: 'ETHUSDT', leverage: 20 });
    await call('POST', '/fapi/v1/order', { symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '1.000' });
    const [p] = (await call('GET', '/fapi/v3/positionRisk', { symbol: 'ETHUSDT' })).body;
    const entry = Number(p.entryPrice);
    const wallet = Number(p.isolatedWallet);
    // One long, isolated, first bracket (cum 0): LP = (WB − EP) / (MMR − 1) with a size of 1.
    const expected = (wallet - entry) / (0.004 - 1);
    const liquidation = Number(p.liquidationPrice);
    expect(liquidation).toBeCloseTo(expected, 4);
    expect(liquidation).toBeLessThan(entry);
    await t.admin('POST', '/price', { symbol: 'ETHUSDT', price: Math.round(liquidation * 1.002 * 100) / 100 });
    expect((await call('GET', '/fapi/v3/positionRisk', { symbol: 'ETHUSDT' })).body).toHaveLength(1);
    await t.admin('POST', '/price', { symbol: 'ETHUSDT', price: Math.round(liquidation * 0.998 * 100) / 100 });
    expect((await call('GET', '/fapi/v3/positionRisk', { symbol: 'ETHUSDT' })).body).toEqual([]);
  });
});
