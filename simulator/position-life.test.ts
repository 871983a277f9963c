import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import { signedFetch } from '../testing/signed-fetch.js';

const TAKER = 0.0005;

describe("a position's life on the simulator", () => {
  let t: TestSimulator;
  let a: TestAccount;
  let call: ReturnType<typeof signedFetch>;
  const events: any[] = [];
  let socket: WebSocket;

  beforeAll(async () => {
    t = await startTestSimulator();
    a = t.account(10_000);
    call = signedFetch(t.url, a.apiKey, a.apiSecret);
    const { body } = await call('POST', '/fapi/v1/listenKey', {}, false);
    socket = new WebSocket(`${t.wsUrl}/private/ws?listenKey=${body.listenKey}`);
    socket.on('message', (data) => events.push(JSON.parse(data.toString())));
    await new Promise((r) => socket.once('open', r));
  });
  afterAll(async () => {
    socket.close();
    await t.close();
  });

  const waitForEvent = async (predicate: (e: any) => boolean) => {
    for (let i = 0; i < 50 && !events.some(predicate); i++) await new Promise((r) => setTimeout(r, 50));
    const found = events.find(predicate);
    expect(found, 'event on the user data stream').toBeDefined();
    return found;
  };

  it('opens long with SL and TP, the TP closes it, the SL stays open, and PnL and fees add up', async () => {
    await call('POST', '/fapi/v1/leverage', { symbol: 'ETHUSDT', leverage: 10 });
    const entry = await call('POST', '/fapi/v1/order', {
      symbol: 'ETHUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.500',
      newClientOrderId: 'life-entry',
      newOrderRespType: 'RESULT',
    });
    expect(entry.body).toMatchObject({ status: 'FILLED', executedQty: '0.500', clientOrderId: 'life-entry' });
    const entryPrice = Number(entry.body.avgPrice);
    await waitForEvent((e) => e.e === 'ORDER_TRADE_UPDATE' && e.o.c === 'life-entry' && e.o.X === 'FILLED');
    await waitForEvent((e) => e.e === 'ACCOUNT_UPDATE' && e.a.P[0]?.pa === '0.5');

    const sl = Math.round(entryPrice * 0.95 * 100) / 100;
    const tp = Math.round(entryPrice * 1.05 * 100) / 100;
    const algo = (type: string, triggerPrice: number, clientAlgoId: string) =>
      call('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol: 'ETHUSDT',
        side: 'SELL',
        type,
        triggerPrice,
        closePosition: true,
        workingType: 'MARK_PRICE',
        clientAlgoId,
      });
    expect((await algo('STOP_MARKET', sl, 'life-sl')).body).toMatchObject({ algoStatus: 'NEW', orderType: 'STOP_MARKET', closePosition: true });
    expect((await algo('TAKE_PROFIT_MARKET', tp, 'life-tp')).body).toMatchObject({ algoStatus: 'NEW', orderType: 'TAKE_PROFIT_MARKET' });
    await waitForEvent((e) => e.e === 'ALGO_UPDATE' && e.o.caid === 'life-tp' && e.o.X === 'NEW');

    const exit = Math.round(tp * 1.002 * 100) / 100;
    await t.admin('POST', '/price', { symbol: 'ETHUSDT', price: exit });

    await waitForEvent((e) => e.e === 'ALGO_UPDATE' && e.o.caid === 'life-tp' && e.o.X === 'TRIGGERED');
    const finished = await waitForEvent((e) => e.e === 'ALGO_UPDATE' && e.o.caid === 'life-tp' && e.o.X === 'FINISHED');
    const fill = await waitForEvent((e) => e.e === 'ORDER_TRADE_UPDATE' && e.o.ot === 'TAKE_PROFIT_MARKET' && e.o.X === 'FILLED');
    const flat = await waitForEvent((e) => e.e === 'ACCOUNT_UPDATE' && e.a.P[0]?.pa === '0');
    expect(finished.o.ai).toBe(String(fill.o.i));

    const exitPrice = Number(fill.o.L);
    // Triggered, the take-profit is a market order: it sells into the bid, below the price that triggered it.
    const { bidPrice } = await t.admin<{ bidPrice: number }>('GET', '/price?symbol=ETHUSDT');
    expect(exitPrice).toBe(bidPrice);
    expect(exitPrice).toBeLessThan(exit);
    const realized = (exitPrice - entryPrice) * 0.5;
    const fees = 0.5 * entryPrice * TAKER + 0.5 * exitPrice * TAKER;
    expect(Number(fill.o.rp)).toBeCloseTo(realized, 6);
    expect(Number(flat.a.B[0].wb)).toBeCloseTo(10_000 + realized - fees, 6);

    // Binance does not cancel the other closePosition order: the stop-loss is still open.
    const open = await call('GET', '/fapi/v1/openAlgoOrders', { symbol: 'ETHUSDT' });
    expect(open.body.map((o: any) => [o.clientAlgoId, o.algoStatus])).toEqual([['life-sl', 'NEW']]);
    // Flat, but listed with zero amounts while it has an open order, as Binance does.
    expect((await call('GET', '/fapi/v3/positionRisk')).body.map((p: any) => [p.symbol, p.positionAmt, p.entryPrice])).toEqual([['ETHUSDT', '0.000', '0.0']]);

    const trades = (await call('GET', '/fapi/v1/userTrades', { symbol: 'ETHUSDT' })).body;
    expect(trades).toHaveLength(2);
    expect(trades.reduce((sum: number, x: any) => sum + Number(x.commission), 0)).toBeCloseTo(fees, 6);
    expect(Number(trades[1].realizedPnl)).toBeCloseTo(realized, 6);
    const account = (await call('GET', '/fapi/v3/account')).body;
    expect(Number(account.totalWalletBalance)).toBeCloseTo(10_000 + realized - fees, 6);
  });

  it('liquidates an isolated position whose margin runs out, losing at most that margin', async () => {
    const b = t.account(1_000);
    const place = signedFetch(t.url, b.apiKey, b.apiSecret);
    await place('POST', '/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'ISOLATED' });
    await place('POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: 20 });
    const entry = await place('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', newOrderRespType: 'RESULT' });
    const price = Number(entry.body.avgPrice);
    const margin = (0.01 * price) / 20;
    const [risk] = (await place('GET', '/fapi/v3/positionRisk')).body;
    expect(Number(risk.isolatedWallet)).toBeCloseTo(margin, 4);
    expect(Number(risk.liquidationPrice)).toBeGreaterThan(price * 0.94);

    await t.admin('POST', '/price', { symbol: 'BTCUSDT', price: Math.round(price * 0.9) });
    expect((await place('GET', '/fapi/v3/positionRisk')).body).toEqual([]);
    const wallet = Number((await place('GET', '/fapi/v3/account')).body.totalWalletBalance);
    const entryFee = 0.01 * price * TAKER;
    expect(wallet).toBeLessThan(1_000 - entryFee - margin + 0.01);
    expect(wallet).toBeGreaterThan(1_000 - entryFee - margin - 0.01 * price * 0.9 * TAKER - 0.01);
  });

  it('rests a limit order as maker and fills it when the price comes to it', async () => {
    const c = t.account(5_000);
    const place = signedFetch(t.url, c.apiKey, c.apiSecret);
    const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=BNBUSDT')).markPrice;
    const limit = Math.round(mark * 0.98 * 100) / 100;
    const order = await place('POST', '/fapi/v1/order', { symbol: 'BNBUSDT', side: 'BUY', type: 'LIMIT', quantity: '1.00', price: limit, timeInForce: 'GTC' });
    expect(order.body.status).toBe('NEW');
    await t.admin('POST', '/price', { symbol: 'BNBUSDT', price: mark * 0.97 });
    const filled = await place('GET', '/fapi/v1/order', { symbol: 'BNBUSDT', orderId: order.body.orderId });
    expect(filled.body).toMatchObject({ status: 'FILLED', executedQty: '1.00' });
    const [trade] = (await place('GET', '/fapi/v1/userTrades', { symbol: 'BNBUSDT' })).body;
    expect(trade).toMatchObject({ maker: true, buyer: true });
    expect(Number(trade.price)).toBeCloseTo(limit, 2);
    expect(Number(trade.commission)).toBeCloseTo(limit * 0.0002, 6);
  });
});
