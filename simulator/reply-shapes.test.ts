import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSimulator, type TestSimulator } from '../testing/simulator.js';
import { signedFetch } from '../testing/signed-fetch.js';

/**
 * Real Binance reply bodies (sources beside each), compared with the simulator's field by field:
 * the same fields, no more, and the same JSON type for each.
 */
const REAL = {
  // POST /fapi/v1/order, newOrderRespType=RESULT: ccxt's recorded fixture (createOrders), quoted in
  // ../shared/reference/binance-usdm-ccxt.md.
  orderPlaced: {
    orderId: 4087922044,
    symbol: 'BTCUSDT',
    status: 'NEW',
    clientOrderId: 'x-xcKtGhcu04075babaeb34c55af79ba',
    price: '110001.00',
    avgPrice: '0.00',
    origQty: '0.200',
    executedQty: '0.000',
    cumQty: '0.000',
    cumQuote: '0.00000',
    timeInForce: 'GTC',
    type: 'LIMIT',
    reduceOnly: false,
    closePosition: false,
    side: 'SELL',
    positionSide: 'BOTH',
    stopPrice: '0.00',
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: 'LIMIT',
    priceMatch: 'NONE',
    selfTradePreventionMode: 'NONE',
    goodTillDate: 0,
    updateTime: 1739781831932,
  },
  // GET /fapi/v1/order (Binance docs, Query Order): the placed shape with `time` and without `cumQty`.
  orderQueried: {
    orderId: 4087922044,
    symbol: 'BTCUSDT',
    status: 'NEW',
    clientOrderId: 'x',
    price: '110001.00',
    avgPrice: '0.00',
    origQty: '0.200',
    executedQty: '0.000',
    cumQuote: '0.00000',
    timeInForce: 'GTC',
    type: 'LIMIT',
    reduceOnly: false,
    closePosition: false,
    side: 'SELL',
    positionSide: 'BOTH',
    stopPrice: '0.00',
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: 'LIMIT',
    priceMatch: 'NONE',
    selfTradePreventionMode: 'NONE',
    goodTillDate: 0,
    time: 1579276756075,
    updateTime: 1579276756075,
  },
  // POST /fapi/v1/algoOrder (ccxt source comment; fields match Binance's SDK), reference file.
  algoPlaced: {
    algoId: 3358,
    clientAlgoId: 'yT58zmV3DSzMBQxc5tAJXU',
    algoType: 'CONDITIONAL',
    orderType: 'STOP',
    symbol: 'BTCUSDT',
    side: 'BUY',
    positionSide: 'BOTH',
    timeInForce: 'GTC',
    quantity: '0.002',
    algoStatus: 'NEW',
    triggerPrice: '100000.00',
    price: '102000.00',
    icebergQuantity: null,
    selfTradePreventionMode: 'EXPIRE_MAKER',
    workingType: 'CONTRACT_PRICE',
    priceMatch: 'NONE',
    closePosition: false,
    priceProtect: false,
    reduceOnly: false,
    createTime: 1763458576201,
    updateTime: 1763458576201,
    triggerTime: 0,
    goodTillDate: 0,
  },
  algoCancelled: { algoId: 3358, clientAlgoId: 'yT58zmV3DSzMBQxc5tAJXU', code: '200', msg: 'success' },
  // GET /fapi/v1/userTrades: ccxt fixture "Swap private trade", reference file.
  trade: {
    symbol: 'BTCUSDT',
    id: 272536245,
    orderId: 3524852987,
    side: 'BUY',
    price: '36567.10',
    qty: '0.010',
    realizedPnl: '0',
    marginAsset: 'USDT',
    quoteQty: '365.67100',
    commission: '0.14626840',
    commissionAsset: 'USDT',
    time: 1699972836419,
    positionSide: 'BOTH',
    maker: false,
    buyer: true,
  },
  // GET /fapi/v3/positionRisk: ccxt fixture "Fetch linear positions without symbols", reference file.
  positionV3: {
    symbol: 'BTCUSDT',
    positionSide: 'BOTH',
    positionAmt: '0.009',
    entryPrice: '67445.9',
    breakEvenPrice: '67479.62295',
    markPrice: '67502.68519858',
    unRealizedProfit: '0.51106678',
    liquidationPrice: '64846.98753790',
    isolatedMargin: '0',
    notional: '607.52416678',
    marginAsset: 'USDT',
    isolatedWallet: '0',
    initialMargin: '7.59405208',
    maintMargin: '2.43009666',
    positionInitialMargin: '7.59405208',
    openOrderInitialMargin: '0',
    adl: 2,
    bidNotional: '0',
    askNotional: '0',
    updateTime: 1722161166529,
  },
  // GET /fapi/v3/account and /fapi/v2/account, single-asset mode: Binance docs (Account Information V3 / V2).
  accountV3: {
    top: [
      'totalInitialMargin',
      'totalMaintMargin',
      'totalWalletBalance',
      'totalUnrealizedProfit',
      'totalMarginBalance',
      'totalPositionInitialMargin',
      'totalOpenOrderInitialMargin',
      'totalCrossWalletBalance',
      'totalCrossUnPnl',
      'availableBalance',
      'maxWithdrawAmount',
      'assets',
      'positions',
    ],
    asset: [
      'asset',
      'walletBalance',
      'unrealizedProfit',
      'marginBalance',
      'maintMargin',
      'initialMargin',
      'positionInitialMargin',
      'openOrderInitialMargin',
      'crossWalletBalance',
      'crossUnPnl',
      'availableBalance',
      'maxWithdrawAmount',
      'updateTime',
    ],
    position: [
      'symbol',
      'positionSide',
      'positionAmt',
      'unrealizedProfit',
      'isolatedMargin',
      'notional',
      'isolatedWallet',
      'initialMargin',
      'maintMargin',
      'updateTime',
    ],
  },
  accountV2: {
    top: [
      'feeTier',
      'feeBurn',
      'canTrade',
      'canDeposit',
      'canWithdraw',
      'updateTime',
      'multiAssetsMargin',
      'tradeGroupId',
      'totalInitialMargin',
      'totalMaintMargin',
      'totalWalletBalance',
      'totalUnrealizedProfit',
      'totalMarginBalance',
      'totalPositionInitialMargin',
      'totalOpenOrderInitialMargin',
      'totalCrossWalletBalance',
      'totalCrossUnPnl',
      'availableBalance',
      'maxWithdrawAmount',
      'assets',
      'positions',
    ],
    position: [
      'symbol',
      'initialMargin',
      'maintMargin',
      'unrealizedProfit',
      'positionInitialMargin',
      'openOrderInitialMargin',
      'leverage',
      'isolated',
      'entryPrice',
      'maxNotional',
      'bidNotional',
      'askNotional',
      'positionSide',
      'positionAmt',
      'updateTime',
    ],
  },
};

/** The field names and JSON types of a body, to compare with a real one. */
const shape = (body: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(body).map(([k, v]) => [k, v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v]));

describe('reply bodies exactly as Binance sends them', () => {
  let t: TestSimulator;
  let call: ReturnType<typeof signedFetch>;
  beforeAll(async () => {
    t = await startTestSimulator();
    const a = t.account(100_000);
    call = signedFetch(t.url, a.apiKey, a.apiSecret);
  });
  afterAll(async () => t.close());

  it('orders: placed and cancelled with cumQty and no time, queried with time and no cumQty', async () => {
    const { markPrice } = await t.admin<{ markPrice: number }>('GET', '/price?symbol=BTCUSDT');
    const price = (markPrice * 0.97).toFixed(1);
    const placed = await call('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
      price,
      timeInForce: 'GTC',
      newOrderRespType: 'RESULT',
    });
    expect(shape(placed.body)).toEqual(shape(REAL.orderPlaced));
    const queried = await call('GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: placed.body.orderId });
    expect(shape(queried.body)).toEqual(shape(REAL.orderQueried));
    const open = await call('GET', '/fapi/v1/openOrders', { symbol: 'BTCUSDT' });
    expect(shape(open.body[0])).toEqual(shape(REAL.orderQueried));
    const cancelled = await call('DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: placed.body.orderId });
    expect(shape(cancelled.body)).toEqual(shape(REAL.orderPlaced));
    expect(cancelled.body.status).toBe('CANCELED');
  });

  it('trades, positions, conditional orders and both account versions', async () => {
    await call('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010' });
    const [trade] = (await call('GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT' })).body;
    expect(shape(trade)).toEqual(shape(REAL.trade));
    const [position] = (await call('GET', '/fapi/v3/positionRisk')).body;
    expect(shape(position)).toEqual(shape(REAL.positionV3));

    const { markPrice } = await t.admin<{ markPrice: number }>('GET', '/price?symbol=BTCUSDT');
    const algo = await call('POST', '/fapi/v1/algoOrder', {
      algoType: 'CONDITIONAL',
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'STOP',
      quantity: '0.010',
      triggerPrice: (markPrice * 0.9).toFixed(1),
      price: (markPrice * 0.89).toFixed(1),
      reduceOnly: true,
      clientAlgoId: 'shape-stop',
    });
    expect(shape(algo.body)).toEqual(shape(REAL.algoPlaced));
    expect(shape((await call('DELETE', '/fapi/v1/algoOrder', { clientAlgoId: 'shape-stop' })).body)).toEqual(shape(REAL.algoCancelled));

    const v3 = (await call('GET', '/fapi/v3/account')).body;
    expect(Object.keys(v3)).toEqual(REAL.accountV3.top);
    expect(Object.keys(v3.assets[0])).toEqual(REAL.accountV3.asset);
    expect(Object.keys(v3.positions[0])).toEqual(REAL.accountV3.position);
    const v2 = (await call('GET', '/fapi/v2/account')).body;
    expect(Object.keys(v2)).toEqual(REAL.accountV2.top);
    expect(Object.keys(v2.positions[0])).toEqual(REAL.accountV2.position);
    // v2 lists every symbol; v3 only those held.
    expect(v2.positions).toHaveLength(6);
    expect(v3.positions).toHaveLength(1);
  });
});
