import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import type { BinanceClient } from '../core/exchange/binance-client.js';

const BTC = 'BTC/USDT:USDT';

/** Collects every message of a raw socket, so a test can wait for one that matches. */
function collect(url: string) {
  const socket = new WebSocket(url);
  const messages: any[] = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(data.toString()));
    for (const w of waiters.splice(0)) w();
  });
  const opened = new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    messages,
    opened,
    async waitFor(predicate: (m: any) => boolean, timeoutMs = 5_000): Promise<any> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching message among ${JSON.stringify(messages).slice(0, 2000)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
  };
}

describe('simulator streams', () => {
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

  it('ccxt watchMarkPrices receives mark price updates', async () => {
    const prices = await ex.watchMarkPrices([BTC]);
    expect(prices[BTC]!.markPrice).toBeCloseTo(mark, 0);
  });

  it('ccxt watchOrders, watchBalance and watchPositions see an order fill', async () => {
    // watchPositions first resolves with its REST snapshot (ccxt's fetchPositionsSnapshot).
    expect(await ex.watchPositions([BTC])).toEqual([]);
    const orders = ex.watchOrders(BTC);
    const balance = ex.watchBalance();
    const positions = ex.watchPositions([BTC]);
    await new Promise((r) => setTimeout(r, 300));
    await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'ws-entry-1' });
    const seen = await orders;
    expect(seen.some((o) => o.clientOrderId === 'ws-entry-1')).toBe(true);
    const bal = await balance;
    expect(bal.USDT?.total).toBeLessThan(10_000);
    const pos = await positions;
    expect(pos.some((p) => p.symbol === BTC && p.contracts === 0.01 && p.side === 'long')).toBe(true);
  });

  it('market streams answer SUBSCRIBE, LIST_SUBSCRIPTIONS and unknown streams as Binance does', async () => {
    const c = collect(`${t.wsUrl}/market/ws/9`);
    await c.opened;
    c.socket.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['!markPrice@arr@1s', 'ethusdt@kline_1m', 'btcusdt@miniTicker'], id: 7 }));
    expect(await c.waitFor((m) => m.id === 7)).toEqual({ result: null, id: 7 });
    c.socket.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 8 }));
    expect((await c.waitFor((m) => m.id === 8)).result).toHaveLength(3);
    c.socket.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['nonsense'], id: 9 }));
    expect((await c.waitFor((m) => m.id === 9)).error.code).toBe(2);
    const arr = await c.waitFor((m) => Array.isArray(m));
    expect(arr[0]).toMatchObject({ e: 'markPriceUpdate', s: expect.any(String), p: expect.any(String), r: expect.any(String) });
    expect((await c.waitFor((m) => m.e === 'kline')).k).toMatchObject({ s: 'ETHUSDT', i: '1m' });
    expect(await c.waitFor((m) => m.e === '24hrMiniTicker')).toMatchObject({ s: 'BTCUSDT' });
    c.socket.close();
  });

  it('combined streams wrap payloads as {stream, data}', async () => {
    const c = collect(`${t.wsUrl}/market/stream?streams=btcusdt@markPrice@1s`);
    const msg = await c.waitFor((m) => m.stream === 'btcusdt@markPrice@1s');
    expect(msg.data).toMatchObject({ e: 'markPriceUpdate', s: 'BTCUSDT' });
    c.socket.close();
  });

  it('a dropped socket is closed and ccxt reconnects on the next watch', async () => {
    await ex.watchMarkPrices([BTC]);
    await t.admin('POST', '/faults', { dropSockets: true });
    await expect(ex.watchMarkPrices([BTC])).rejects.toThrow();
    const again = await ex.watchMarkPrices([BTC]);
    expect(again[BTC]!.markPrice).toBeGreaterThan(0);
  });

  it('user data streams: listenKeyExpired when the key lapses, and -1125 for keepalive afterwards', async () => {
    const other = t.account(1_000);
    const key = await (await fetch(`${t.url}/fapi/v1/listenKey`, { method: 'POST', headers: { 'X-MBX-APIKEY': other.apiKey } })).json();
    const c = collect(`${t.wsUrl}/private/ws?listenKey=${key.listenKey}`);
    await c.opened;
    await t.admin('POST', `/accounts/${other.id}/expire-listen-key`);
    expect(await c.waitFor((m) => m.e === 'listenKeyExpired')).toMatchObject({ listenKey: key.listenKey });
    const res = await fetch(`${t.url}/fapi/v1/listenKey`, { method: 'PUT', headers: { 'X-MBX-APIKEY': other.apiKey } });
    expect(await res.json()).toEqual({ code: -1125, msg: 'This listenKey does not exist. Please use POST /fapi/v1/listenKey to recreate listenKey' });
  });
});
