import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSimulator, type TestSimulator } from '../testing/simulator.js';
import { signedFetch } from '../testing/signed-fetch.js';

/** Funding every 8 hours of market time, at the real rate of the replayed symbol. */
describe('funding', () => {
  let t: TestSimulator;
  beforeAll(async () => {
    t = await startTestSimulator();
  });
  afterAll(async () => t.close());

  it('charges a long (and pays a short) position × mark × rate at each funding time, in the wallet, the income history and premiumIndex', async () => {
    const a = t.account(10_000);
    const call = signedFetch(t.url, a.apiKey, a.apiSecret);
    const premium = (await call('GET', '/fapi/v1/premiumIndex', { symbol: 'ETHUSDT' }, false)).body;
    // ETHUSDT's lastFundingRate in the real premiumIndex response the repository carries.
    expect(premium.lastFundingRate).toBe('0.00010000');
    await call('POST', '/fapi/v1/order', { symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '2.000' });
    const before = Number((await call('GET', '/fapi/v3/account')).body.totalWalletBalance);
    const { marketTime } = await t.admin<{ marketTime: number }>('GET', '/price?symbol=ETHUSDT');
    expect(premium.nextFundingTime).toBe(Math.ceil((marketTime + 1) / 28_800_000) * 28_800_000);

    // Market time passes the next funding time.
    await t.admin('POST', '/clock', { advanceMs: premium.nextFundingTime - marketTime + 1 });
    const { markPrice } = await t.admin<{ markPrice: number }>('GET', '/price?symbol=ETHUSDT');
    const [funding] = (await call('GET', '/fapi/v1/income', { incomeType: 'FUNDING_FEE' })).body;
    expect(funding).toMatchObject({ symbol: 'ETHUSDT', incomeType: 'FUNDING_FEE', asset: 'USDT' });
    expect(Number(funding.income)).toBeCloseTo(-2 * markPrice * 0.0001, 6);
    const after = Number((await call('GET', '/fapi/v3/account')).body.totalWalletBalance);
    expect(after.toFixed(8)).toBe((before + Number(funding.income)).toFixed(8));
    expect((await call('GET', '/fapi/v1/premiumIndex', { symbol: 'ETHUSDT' }, false)).body.nextFundingTime).toBe(premium.nextFundingTime + 28_800_000);
  });
});
