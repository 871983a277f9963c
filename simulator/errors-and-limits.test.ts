import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import { signedFetch } from '../testing/signed-fetch.js';

describe('simulator errors, security and limits (plain signed fetch)', () => {
  let t: TestSimulator;
  let a: TestAccount;
  let call: ReturnType<typeof signedFetch>;
  let mark: number;

  beforeAll(async () => {
    t = await startTestSimulator();
    a = t.account(1_000);
    call = signedFetch(t.url, a.apiKey, a.apiSecret);
    mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=BTCUSDT')).markPrice;
  });
  afterAll(async () => t.close());

  const order = (params: Record<string, string | number | boolean>) => call('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', ...params });

  it('serves public data with the weight header on every response', async () => {
    const res = await call('GET', '/fapi/v1/premiumIndex', {}, false);
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(6);
    expect(Number(res.headers.get('x-mbx-used-weight-1m'))).toBeGreaterThanOrEqual(10);
    const klines = await call('GET', '/fapi/v1/klines', { symbol: 'ETHUSDT', interval: '4h', limit: 3 }, false);
    expect(klines.body).toHaveLength(3);
    expect(klines.body[0]).toHaveLength(12);
  });

  it.each([
    [
      'an unknown API key',
      () => signedFetch(t.url, 'no-such-key-000', a.apiSecret)('GET', '/fapi/v3/account'),
      401,
      -2015,
      'Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1',
    ],
    [
      'a wrong secret',
      () => signedFetch(t.url, a.apiKey, 'wrong-secret-000')('GET', '/fapi/v3/account'),
      400,
      -1022,
      'Signature for this request is not valid.',
    ],
    [
      'no API key header',
      async () => {
        const res = await fetch(`${t.url}/fapi/v3/account?timestamp=${Date.now()}&signature=00`);
        return { status: res.status, body: await res.json() };
      },
      401,
      -2014,
      'API-key format invalid.',
    ],
    [
      'a timestamp outside recvWindow',
      () => signedFetch(t.url, a.apiKey, a.apiSecret, { timeOffsetMs: -10_000 })('GET', '/fapi/v3/account'),
      400,
      -1021,
      'Timestamp for this request is outside of the recvWindow.',
    ],
    [
      'a timestamp ahead of the server',
      () => signedFetch(t.url, a.apiKey, a.apiSecret, { timeOffsetMs: 5_000 })('GET', '/fapi/v3/account'),
      400,
      -1021,
      "Timestamp for this request was 1000ms ahead of the server's time.",
    ],
    ['an unknown symbol', () => order({ symbol: 'NOPEUSDT', type: 'MARKET', quantity: 1 }), 400, -1121, 'Invalid symbol.'],
    ['a missing quantity', () => order({ type: 'MARKET' }), 400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."],
    ['too many decimals', () => order({ type: 'MARKET', quantity: '0.0001' }), 400, -1111, 'Precision is over the maximum defined for this asset.'],
    [
      'a notional under the minimum',
      () => order({ type: 'MARKET', quantity: '0.001' }),
      400,
      -4164,
      "Order's notional must be no smaller than 100 (unless you choose reduce only).",
    ],
    ['not enough margin', () => order({ type: 'MARKET', quantity: '10' }), 400, -2019, 'Margin is insufficient.'],
    ['reduce-only without a position', () => order({ type: 'MARKET', quantity: '0.01', reduceOnly: true }), 400, -2022, 'ReduceOnly Order is rejected.'],
    [
      'a conditional type on /fapi/v1/order',
      () => order({ type: 'STOP_MARKET', quantity: '0.01', stopPrice: 1 }),
      400,
      -4120,
      'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.',
    ],
    [
      'a hedge-mode position side',
      () => order({ type: 'MARKET', quantity: '0.01', positionSide: 'LONG' }),
      400,
      -4061,
      "Order's position side does not match user's setting.",
    ],
    ['cancelling an unknown order', () => call('DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: 1 }), 400, -2011, 'Unknown order sent.'],
    ['fetching an unknown order', () => call('GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: 1 }), 400, -2013, 'Order does not exist.'],
    ['an invalid leverage', () => call('POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: 200 }), 400, -4028, 'Leverage 200 is not valid'],
    [
      'an unchanged margin type',
      () => call('POST', '/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'CROSSED' }),
      400,
      -4046,
      'No need to change margin type.',
    ],
    [
      'a stop that would trigger at once',
      () =>
        call('POST', '/fapi/v1/algoOrder', {
          algoType: 'CONDITIONAL',
          symbol: 'BTCUSDT',
          side: 'SELL',
          type: 'STOP_MARKET',
          triggerPrice: Math.round(mark * 1.5),
          closePosition: true,
        }),
      400,
      -2021,
      'Order would immediately trigger.',
    ],
  ])('rejects %s with Binance code and message', async (_name, send, status, code, msg) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ code, msg });
  });

  it('rejects a changed margin type while a position is open, and a duplicate open client order id', async () => {
    expect((await order({ type: 'MARKET', quantity: '0.01' })).status).toBe(200);
    expect((await call('POST', '/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'ISOLATED' })).body.code).toBe(-4048);
    const limit = { type: 'LIMIT', quantity: '0.01', price: Math.round(mark * 0.96), timeInForce: 'GTC', newClientOrderId: 'dup-1' };
    expect((await order(limit)).status).toBe(200);
    expect((await order(limit)).body).toEqual({ code: -4116, msg: 'ClientOrderId is duplicated.' });
  });

  it('signs over query and body together, as Binance specifies', async () => {
    const query = `symbol=BTCUSDT&timestamp=${Date.now()}`;
    const body = 'recvWindow=5000';
    const signature = createHmac('sha256', a.apiSecret)
      .update(query + body)
      .digest('hex');
    const res = await fetch(`${t.url}/fapi/v1/openOrders?${query}&signature=${signature}`, {
      method: 'GET',
      headers: { 'X-MBX-APIKEY': a.apiKey },
    });
    // A GET has no body, so the same signature over query+body must fail without it…
    expect((await res.json()).code).toBe(-1022);
    const put = await fetch(`${t.url}/fapi/v1/leverage?symbol=BTCUSDT&timestamp=${Date.now()}`, { method: 'POST' });
    expect(put.status).toBe(401);
    const q2 = `symbol=BTCUSDT&leverage=3&timestamp=${Date.now()}`;
    const b2 = 'recvWindow=5000';
    const s2 = createHmac('sha256', a.apiSecret)
      .update(q2 + b2)
      .digest('hex');
    const ok = await fetch(`${t.url}/fapi/v1/leverage?${q2}`, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': a.apiKey, 'content-type': 'application/x-www-form-urlencoded' },
      body: `${b2}&signature=${s2}`,
    });
    // …and a POST with parameters in both parts verifies.
    expect(await ok.json()).toMatchObject({ leverage: 3, symbol: 'BTCUSDT' });
  });

  it('counts orders per account with the order-count headers and answers -1015 past the limit', async () => {
    await t.admin('POST', '/limits', { ordersPerTenSeconds: 3 });
    const b = t.account(10_000);
    const place = signedFetch(t.url, b.apiKey, b.apiSecret);
    const eth = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=ETHUSDT')).markPrice;
    const resting = { symbol: 'ETHUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.05', price: Math.round(eth * 0.96), timeInForce: 'GTC' };
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await place('POST', '/fapi/v1/order', resting);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.body).toEqual({ code: -1015, msg: 'Too many new orders; current limit is 3 orders per TEN_SECONDS.' });
    await t.admin('POST', '/limits', { ordersPerTenSeconds: 300 });
    const c = await place('POST', '/fapi/v1/order', resting);
    expect(c.headers.get('x-mbx-order-count-10s')).toBe('4');
    expect(c.headers.get('x-mbx-order-count-1m')).toBe('4');
  });

  it('answers 429 with Retry-After past the weight limit, then bans with 418 if the client keeps going', async () => {
    const own = await startTestSimulator({ limits: { requestWeightPerMinute: 50, banAfterViolations: 3 } });
    try {
      const pub = (path: string) => fetch(`${own.url}${path}`);
      let res = await pub('/fapi/v1/ping');
      while (res.status === 200) res = await pub('/fapi/v1/premiumIndex');
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await res.json()).code).toBe(-1003);
      for (let i = 0; i < 2; i++) expect((await pub('/fapi/v1/time')).status).toBe(429);
      const banned = await pub('/fapi/v1/time');
      expect(banned.status).toBe(418);
      expect(Number(banned.headers.get('retry-after'))).toBeGreaterThanOrEqual(119);
      expect((await banned.json()).msg).toMatch(/^Way too many requests; IP\(127\.0\.0\.1\) banned until \d+/);
      const counters = await own.admin<{ sent429: number; sent418: number }>('GET', '/counters');
      expect(counters.sent429).toBe(3);
      expect(counters.sent418).toBe(1);
    } finally {
      await own.close();
    }
  });

  it('injects latency, 5xx, 429 and clock skew on request', async () => {
    await t.admin('POST', '/faults', { fail5xx: { count: 1, status: 503 } });
    const failed = await call('GET', '/fapi/v1/time', {}, false);
    expect(failed.status).toBe(503);
    expect(failed.body.code).toBe(-1001);
    await t.admin('POST', '/faults', { reject429: { count: 1, retryAfterSeconds: 7 } });
    const limited = await call('GET', '/fapi/v1/time', {}, false);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '7']);
    await t.admin('POST', '/faults', { latencyMs: 300, clockSkewMs: 20_000 });
    const started = Date.now();
    const time = await call('GET', '/fapi/v1/time', {}, false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(time.body.serverTime - Date.now()).toBeGreaterThan(15_000);
    expect((await call('GET', '/fapi/v3/account')).body.code).toBe(-1021);
    await t.admin('DELETE', '/faults');
    expect((await call('GET', '/fapi/v3/account')).status).toBe(200);
  });

  it('reports counters per endpoint, per IP and minute (public/private), and per account', async () => {
    const counters = await t.admin<any>('GET', '/counters');
    expect(counters.requestsByEndpoint['GET /fapi/v1/premiumIndex']).toBeGreaterThanOrEqual(1);
    // Earlier tests' requests may sit in the previous minute when the minute turned meanwhile.
    const minutes: Array<{ public: number; private: number }> = counters.weightByIpPerMinute['127.0.0.1'];
    const total = (k: 'public' | 'private') => minutes.reduce((s, m) => s + m[k], 0);
    expect(total('public')).toBeGreaterThan(0);
    expect(total('private')).toBeGreaterThan(0);
    expect(counters.ordersByAccount[a.id]).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(counters)).not.toContain(a.apiKey);
  });
});
