import { decimalsOf, type SymbolSpec } from '../market/symbols.js';
import type { ExchangeEngine } from './exchange-engine.js';
import { bracketFor, maxNotionalAt } from '../market/leverage-brackets.js';
import { settingsOf, type AccountView, type PositionView } from './margin.js';
import type { AlgoOrder, Order, SimAccount, Trade } from './types.js';

/** JSON shapes exactly as Binance sends them: numbers as strings where Binance uses strings. */
export const fmt = (value: number, decimals: number) => (Number.isFinite(value) ? value.toFixed(decimals) : '0');
const money = (value: number) => fmt(value, 8);
const px = (spec: SymbolSpec, value: number) => fmt(value, Math.max(spec.pricePrecision, decimalsOf(spec.tickSize)));
const qty = (spec: SymbolSpec, value: number) => fmt(value, Math.max(spec.quantityPrecision, decimalsOf(spec.stepSize)));

/**
 * An order as Binance prints it. `placed` (POST and DELETE /fapi/v1/order): with `cumQty`, no
 * `time`; `queried` (GET order, openOrders, allOrders): with `time`, no `cumQty`.
 */
export function orderJson(engine: ExchangeEngine, o: Order, as: 'placed' | 'queried' = 'queried') {
  const spec = engine.spec(o.symbol);
  const executed = qty(spec, o.executedQty);
  return {
    orderId: o.orderId,
    symbol: o.symbol,
    status: o.status,
    clientOrderId: o.clientOrderId,
    price: px(spec, o.price),
    avgPrice: fmt(o.executedQty > 0 ? o.cumQuote / o.executedQty : 0, 8),
    origQty: qty(spec, o.origQty),
    executedQty: executed,
    ...(as === 'placed' ? { cumQty: executed } : {}),
    cumQuote: fmt(o.cumQuote, 5),
    timeInForce: o.timeInForce,
    type: o.type,
    reduceOnly: o.reduceOnly,
    closePosition: o.closePosition,
    side: o.side,
    positionSide: 'BOTH',
    stopPrice: px(spec, o.stopPrice),
    workingType: o.workingType,
    priceProtect: false,
    origType: o.origType,
    priceMatch: 'NONE',
    selfTradePreventionMode: 'EXPIRE_MAKER',
    goodTillDate: 0,
    ...(as === 'queried' ? { time: o.time } : {}),
    updateTime: o.updateTime,
  };
}

export function algoJson(engine: ExchangeEngine, a: AlgoOrder, detail = false) {
  const spec = engine.spec(a.symbol);
  const base = {
    algoId: a.algoId,
    clientAlgoId: a.clientAlgoId,
    algoType: 'CONDITIONAL',
    orderType: a.orderType,
    symbol: a.symbol,
    side: a.side,
    positionSide: 'BOTH',
    timeInForce: a.timeInForce,
    quantity: qty(spec, a.quantity),
    algoStatus: a.algoStatus,
    triggerPrice: px(spec, a.triggerPrice),
    price: px(spec, a.price),
    icebergQuantity: null,
    selfTradePreventionMode: 'EXPIRE_MAKER',
    workingType: a.workingType,
    priceMatch: 'NONE',
    closePosition: a.closePosition,
    priceProtect: a.priceProtect,
    reduceOnly: a.reduceOnly,
    createTime: a.createTime,
    updateTime: a.updateTime,
    triggerTime: a.triggerTime,
    goodTillDate: 0,
  };
  if (!detail) return base;
  return {
    ...base,
    actualOrderId: a.actualOrderId === undefined ? '' : String(a.actualOrderId),
    actualPrice: px(spec, a.actualPrice),
    actualQty: qty(spec, a.actualQty),
    actualType: a.orderType.endsWith('_MARKET') ? 'MARKET' : 'LIMIT',
  };
}

export function tradeJson(engine: ExchangeEngine, t: Trade) {
  const spec = engine.spec(t.symbol);
  return {
    symbol: t.symbol,
    id: t.id,
    orderId: t.orderId,
    side: t.side,
    price: px(spec, t.price),
    qty: qty(spec, t.qty),
    realizedPnl: money(t.realizedPnl),
    marginAsset: 'USDT',
    quoteQty: money(t.quoteQty),
    commission: money(t.commission),
    commissionAsset: 'USDT',
    time: t.time,
    positionSide: 'BOTH',
    maker: t.maker,
    buyer: t.side === 'BUY',
  };
}

function positionFields(engine: ExchangeEngine, p: PositionView, view: AccountView) {
  const spec = engine.spec(p.position.symbol);
  return {
    symbol: p.position.symbol,
    positionSide: 'BOTH',
    positionAmt: qty(spec, p.position.amt),
    entryPrice: px(spec, p.position.entryPrice),
    breakEvenPrice: px(spec, p.position.entryPrice),
    markPrice: money(p.mark),
    unRealizedProfit: money(p.unrealized),
    liquidationPrice: money(liquidationPrice(engine, p, view)),
    isolatedMargin: money(p.isolated ? p.position.isolatedWallet + p.unrealized : 0),
    notional: money(p.notional),
    marginAsset: 'USDT',
    isolatedWallet: money(p.isolated ? p.position.isolatedWallet : 0),
    initialMargin: money(p.initialMargin),
    maintMargin: money(p.maintMargin),
    positionInitialMargin: money(p.initialMargin),
    openOrderInitialMargin: '0',
    adl: 1,
    bidNotional: '0',
    askNotional: '0',
    updateTime: p.position.updateTime,
  };
}

/** GET /fapi/v3/positionRisk: only symbols with a position. */
export const positionRiskV3 = (engine: ExchangeEngine, account: SimAccount) => {
  const view = engine.view(account);
  const held = view.positions.map((p) => positionFields(engine, p, view));
  // As on Binance, a symbol with open orders and no position is listed too, with zero amounts.
  const withOrders = new Set([...engine.openOrders(account), ...engine.openAlgos(account)].map((o) => o.symbol));
  for (const p of view.positions) withOrders.delete(p.position.symbol);
  const idle = [...withOrders].map((symbol) => {
    const spec = engine.spec(symbol);
    return {
      symbol,
      positionSide: 'BOTH',
      positionAmt: qty(spec, 0),
      entryPrice: '0.0',
      breakEvenPrice: '0.0',
      markPrice: money(engine.mark(symbol)),
      unRealizedProfit: money(0),
      liquidationPrice: '0',
      isolatedMargin: '0',
      notional: '0',
      marginAsset: 'USDT',
      isolatedWallet: '0',
      initialMargin: '0',
      maintMargin: '0',
      positionInitialMargin: '0',
      openOrderInitialMargin: '0',
      adl: 0,
      bidNotional: '0',
      askNotional: '0',
      updateTime: 0,
    };
  });
  return [...held, ...idle];
};

/** GET /fapi/v2/positionRisk: every symbol, with leverage and margin type. */
export const positionRiskV2 = (engine: ExchangeEngine, account: SimAccount) => {
  const view = engine.view(account);
  const open = new Map(view.positions.map((p) => [p.position.symbol, p]));
  return [...engine.symbols.keys()].map((symbol) => {
    const settings = settingsOf(account, symbol);
    const p = open.get(symbol);
    const fields = p
      ? positionFields(engine, p, view)
      : {
          symbol,
          positionAmt: '0',
          entryPrice: '0',
          breakEvenPrice: '0',
          markPrice: money(engine.mark(symbol)),
          unRealizedProfit: '0',
          liquidationPrice: '0',
          isolatedMargin: '0',
          notional: '0',
          isolatedWallet: '0',
          positionSide: 'BOTH',
          updateTime: 0,
        };
    return {
      ...fields,
      leverage: String(settings.leverage),
      marginType: settings.marginType === 'ISOLATED' ? 'isolated' : 'cross',
      maxNotionalValue: String(maxNotionalAt(engine.spec(symbol).brackets, settings.leverage)),
      isAutoAddMargin: 'false',
    };
  });
};

function accountTotals(view: AccountView) {
  return {
    totalInitialMargin: money(view.positionInitialMargin + view.openOrderInitialMargin),
    totalMaintMargin: money(view.maintMargin),
    totalWalletBalance: money(view.wallet),
    totalUnrealizedProfit: money(view.unrealized),
    totalMarginBalance: money(view.marginBalance),
    totalPositionInitialMargin: money(view.positionInitialMargin),
    totalOpenOrderInitialMargin: money(view.openOrderInitialMargin),
    totalCrossWalletBalance: money(view.crossWallet),
    totalCrossUnPnl: money(view.crossUnrealized),
    availableBalance: money(view.available),
    maxWithdrawAmount: money(view.available),
  };
}

function usdtAsset(view: AccountView) {
  return {
    asset: 'USDT',
    walletBalance: money(view.wallet),
    unrealizedProfit: money(view.unrealized),
    marginBalance: money(view.marginBalance),
    maintMargin: money(view.maintMargin),
    initialMargin: money(view.positionInitialMargin + view.openOrderInitialMargin),
    positionInitialMargin: money(view.positionInitialMargin),
    openOrderInitialMargin: money(view.openOrderInitialMargin),
    crossWalletBalance: money(view.crossWallet),
    crossUnPnl: money(view.crossUnrealized),
    availableBalance: money(view.available),
    maxWithdrawAmount: money(view.available),
  };
}

/** GET /fapi/v3/account: the v3 fields only (the v2 flags are gone), positions held only. */
export function accountV3(engine: ExchangeEngine, account: SimAccount) {
  const view = engine.view(account);
  return {
    ...accountTotals(view),
    // ccxt skips assets whose updateTime is 0: a funded asset has a real one.
    assets: [{ ...usdtAsset(view), updateTime: account.updateTime }],
    positions: view.positions.map((p) => ({
      symbol: p.position.symbol,
      positionSide: 'BOTH',
      positionAmt: qty(engine.spec(p.position.symbol), p.position.amt),
      unrealizedProfit: money(p.unrealized),
      isolatedMargin: money(p.isolated ? p.position.isolatedWallet + p.unrealized : 0),
      notional: money(p.notional),
      isolatedWallet: money(p.isolated ? p.position.isolatedWallet : 0),
      initialMargin: money(p.initialMargin),
      maintMargin: money(p.maintMargin),
      updateTime: p.position.updateTime,
    })),
  };
}

/** GET /fapi/v2/account: the v2 shape, with its account flags and a position entry for every symbol. */
export function accountV2(engine: ExchangeEngine, account: SimAccount) {
  const view = engine.view(account);
  const open = new Map(view.positions.map((p) => [p.position.symbol, p]));
  return {
    feeTier: 0,
    feeBurn: true,
    canTrade: true,
    canDeposit: true,
    canWithdraw: true,
    updateTime: 0,
    multiAssetsMargin: false,
    tradeGroupId: -1,
    ...accountTotals(view),
    assets: [{ ...usdtAsset(view), marginAvailable: true, updateTime: account.updateTime }],
    positions: [...engine.symbols.keys()].map((symbol) => {
      const p = open.get(symbol);
      const spec = engine.spec(symbol);
      const settings = settingsOf(account, symbol);
      return {
        symbol,
        initialMargin: money(p?.initialMargin ?? 0),
        maintMargin: money(p?.maintMargin ?? 0),
        unrealizedProfit: money(p?.unrealized ?? 0),
        positionInitialMargin: money(p?.initialMargin ?? 0),
        openOrderInitialMargin: '0',
        leverage: String(settings.leverage),
        isolated: settings.marginType === 'ISOLATED',
        entryPrice: px(spec, p?.position.entryPrice ?? 0),
        maxNotional: String(maxNotionalAt(spec.brackets, settings.leverage)),
        bidNotional: '0',
        askNotional: '0',
        positionSide: 'BOTH',
        positionAmt: qty(spec, p?.position.amt ?? 0),
        updateTime: p?.position.updateTime ?? 0,
      };
    }),
  };
}

/**
 * Binance's liquidation price in one-way mode:
 * LP = (WB − TMM1 + UPNL1 + cum − Side × Position × EP) / (Position × MMR − Side × Position),
 * where WB is the isolated wallet (isolated) or the cross wallet (cross), TMM1 and UPNL1 the
 * maintenance margin and unrealized PnL of the account's other cross positions, and MMR and cum
 * those of the position's bracket.
 */
function liquidationPrice(engine: ExchangeEngine, p: PositionView, view: AccountView): number {
  const amt = p.position.amt;
  if (amt === 0) return 0;
  const others = p.isolated ? [] : view.positions.filter((o) => !o.isolated && o !== p);
  const wb = p.isolated ? p.position.isolatedWallet : view.crossWallet;
  const tmm1 = others.reduce((sum, o) => sum + o.maintMargin, 0);
  const upnl1 = others.reduce((sum, o) => sum + o.unrealized, 0);
  const b = bracketFor(engine.spec(p.position.symbol).brackets, p.notional);
  const side = Math.sign(amt);
  const size = Math.abs(amt);
  const price = (wb - tmm1 + upnl1 + b.cum - side * size * p.position.entryPrice) / (size * b.maintMarginRatio - side * size);
  return Math.max(0, price);
}
