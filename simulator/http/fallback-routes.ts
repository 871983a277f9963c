import { BinanceError, err } from '../binance-error.js';
import { maxNotionalAt } from '../market/leverage-brackets.js';
import { klinesWeight, priceKlinesJson } from '../market/market-views.js';
import type { SimAccount } from '../engine/types.js';
import { algoJson, fmt, orderJson } from '../engine/views.js';
import { settingsOf } from '../engine/margin.js';
import type { Params } from '../engine/validate.js';
import type { Route, RouteContext } from './routes.js';

/**
 * Endpoints a client falls back to or reaches for besides the ones ats uses (Binance's docs for
 * each: weight, parameters, reply). Answers follow the docs' examples field for field.
 */
const acct = (c: RouteContext): SimAccount => c.account!;
const money = (x: number) => fmt(x, 8);

const balance = (c: RouteContext) => {
  const view = c.engine.view(acct(c));
  return [
    {
      accountAlias: 'SgsR',
      asset: 'USDT',
      balance: money(view.wallet),
      crossWalletBalance: money(view.crossWallet),
      crossUnPnl: money(view.crossUnrealized),
      availableBalance: money(view.available),
      maxWithdrawAmount: money(view.available),
      marginAvailable: true,
      updateTime: acct(c).updateTime,
    },
  ];
};

/** Runs each item of a batch on its own: a refused one answers `{ code, msg }` in its place. */
const each = <T>(items: readonly T[], fn: (item: T) => unknown) =>
  items.map((item) => {
    try {
      return fn(item);
    } catch (e) {
      if (e instanceof BinanceError) return e.body();
      throw e;
    }
  });

const jsonList = (text: string | undefined, name: string): unknown[] => {
  if (text === undefined) throw err.mandatory(name);
  try {
    const list = JSON.parse(text) as unknown;
    if (Array.isArray(list)) return list;
  } catch {
    // answered below
  }
  throw err.illegalParam(name);
};

type Income = { symbol: string; incomeType: string; income: string; asset: string; info: string; time: number; tranId: number; tradeId: string };

/** The account's income history: realized PnL and commission per fill, and funding; oldest first. */
function incomeOf(account: SimAccount): Income[] {
  const row = (symbol: string, incomeType: string, income: number, time: number, tranId: number, tradeId: string, info = ''): Income => ({
    symbol,
    incomeType,
    income: money(income),
    asset: 'USDT',
    info,
    time,
    tranId,
    tradeId,
  });
  const rows: Income[] = account.funding.map((f) => row(f.symbol, 'FUNDING_FEE', f.amount, f.time, f.tranId, '', 'FUNDING_FEE'));
  for (const t of account.trades) {
    if (t.realizedPnl !== 0) rows.push(row(t.symbol, 'REALIZED_PNL', t.realizedPnl, t.time, t.id * 10 + 1, String(t.id)));
    rows.push(row(t.symbol, 'COMMISSION', -t.commission, t.time, t.id * 10 + 2, String(t.id)));
  }
  return rows.sort((a, b) => a.time - b.time || a.tranId - b.tranId);
}

export const fallbackRoutes: Record<string, Route> = {
  'GET /fapi/v1/openOrder': {
    security: 'SIGNED',
    weight: 1,
    handle: (c) => {
      const order = c.engine.getOrder(acct(c), c.params);
      if (order.status !== 'NEW' && order.status !== 'PARTIALLY_FILLED') throw err.noSuchOrder();
      return orderJson(c.engine, order);
    },
  },
  'GET /fapi/v2/balance': { security: 'SIGNED', weight: 5, handle: balance },
  'GET /fapi/v3/balance': { security: 'SIGNED', weight: 5, handle: balance },
  'GET /fapi/v1/symbolConfig': {
    security: 'SIGNED',
    weight: 5,
    handle: (c) => {
      const symbols = c.params.symbol ? [c.engine.spec(c.params.symbol).symbol] : [...c.engine.symbols.keys()];
      return symbols.map((symbol) => {
        const s = settingsOf(acct(c), symbol);
        return {
          symbol,
          marginType: s.marginType,
          isAutoAddMargin: 'false',
          leverage: s.leverage,
          maxNotionalValue: String(maxNotionalAt(c.engine.spec(symbol).brackets, s.leverage)),
        };
      });
    },
  },
  'GET /fapi/v1/allAlgoOrders': {
    security: 'SIGNED',
    weight: 5,
    handle: (c) => {
      const symbol = c.engine.spec(c.params.symbol).symbol;
      const limit = Math.min(1000, Number(c.params.limit ?? 500));
      return [...acct(c).algoOrders.values()]
        .filter((a) => a.symbol === symbol)
        .slice(-limit)
        .map((a) => algoJson(c.engine, a, true));
    },
  },
  'DELETE /fapi/v1/algoOpenOrders': {
    security: 'SIGNED',
    weight: 1,
    handle: (c) => {
      c.engine.cancelAllAlgos(acct(c), c.engine.spec(c.params.symbol).symbol);
      return { code: 200, msg: 'The operation of cancel all open order is done.' };
    },
  },
  'POST /fapi/v1/batchOrders': {
    security: 'SIGNED',
    weight: 5,
    order: true,
    handle: (c) => {
      const orders = jsonList(c.params.batchOrders, 'batchOrders');
      if (orders.length > 5) throw err.illegalParam('batchOrders');
      return each(orders, (o) =>
        orderJson(c.engine, c.engine.placeOrder(acct(c), Object.fromEntries(Object.entries(o as object).map(([k, v]) => [k, String(v)])) as Params), 'placed'),
      );
    },
  },
  'DELETE /fapi/v1/batchOrders': {
    security: 'SIGNED',
    weight: 1,
    handle: (c) => {
      const symbol = c.engine.spec(c.params.symbol).symbol;
      const byId = c.params.orderIdList !== undefined;
      const ids = jsonList(byId ? c.params.orderIdList : c.params.origClientOrderIdList, byId ? 'orderIdList' : 'origClientOrderIdList');
      if (ids.length > 10) throw err.illegalParam(byId ? 'orderIdList' : 'origClientOrderIdList');
      return each(ids, (id) =>
        orderJson(c.engine, c.engine.cancelOrder(acct(c), { symbol, ...(byId ? { orderId: String(id) } : { origClientOrderId: String(id) }) }), 'placed'),
      );
    },
  },
  'POST /fapi/v1/positionSide/dual': {
    security: 'SIGNED',
    weight: 1,
    handle: (c) => {
      const dual = c.params.dualSidePosition;
      if (dual === undefined) throw err.mandatory('dualSidePosition');
      if (dual === 'false') throw err.noNeedPositionSide();
      // Hedge mode is not modelled: the account stays in one-way mode.
      throw err.illegalParam('dualSidePosition');
    },
  },
  'GET /fapi/v1/markPriceKlines': {
    security: 'NONE',
    weight: (p) => klinesWeight(p.limit === undefined ? 500 : Number(p.limit)),
    handle: (c) => priceKlinesJson(c.engine, c.params, 'mark'),
  },
  'GET /fapi/v1/indexPriceKlines': {
    security: 'NONE',
    weight: (p) => klinesWeight(p.limit === undefined ? 500 : Number(p.limit)),
    handle: (c) => priceKlinesJson(c.engine, c.params, 'index'),
  },
  'GET /fapi/v1/income': {
    security: 'SIGNED',
    weight: 30,
    handle: (c) => {
      const p = c.params;
      if (p.symbol !== undefined) c.engine.spec(p.symbol);
      const limit = Math.min(1000, Number(p.limit ?? 100));
      return incomeOf(acct(c))
        .filter((r) => (p.symbol === undefined || r.symbol === p.symbol) && (p.incomeType === undefined || r.incomeType === p.incomeType))
        .filter((r) => (p.startTime === undefined || r.time >= Number(p.startTime)) && (p.endTime === undefined || r.time <= Number(p.endTime)))
        .slice(0, limit);
    },
  },
};
