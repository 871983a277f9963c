import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
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
    const events: any[] = [];
    const { body } = await call('POST', '/fapi/v1/listenKey', {}, false);
    const socket = new WebSocket(`${t.wsUrl}/private/ws?listenKey=${body.listenKey}`);
    socket.on('message', (data) => events.push(JSON.parse(data.toString())));
    await new Promise((r) => socket.once('open', r));
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
    // The user data stream says so: ACCOUNT_UPDATE with reason FUNDING_FEE and the new wallet balance.
    for (let i = 0; i < 40 && !events.some((e) => e.e === 'ACCOUNT_UPDATE' && e.a.m === 'FUNDING_FEE'); i++) await new Promise((r) => setTimeout(r, 50));
    const update = events.find((e) => e.e === 'ACCOUNT_UPDATE' && e.a.m === 'FUNDING_FEE');
    expect(update, 'ACCOUNT_UPDATE FUNDING_FEE').toBeDefined();
    expect(Number(update.a.B[0].wb).toFixed(8)).toBe(after.toFixed(8));
    socket.close();
  });
});
