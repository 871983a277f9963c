import type { ExchangeEngine } from '../engine/exchange-engine.js';
import type { SimAccount } from '../engine/types.js';
import { accountV2, accountV3, algoJson, orderJson, positionRiskV2, positionRiskV3, tradeJson } from '../engine/views.js';
import {
  bookTickerJson,
  depthJson,
  depthWeight,
  exchangeInfoJson,
  klinesJson,
  klinesWeight,
  premiumIndexJson,
  pricePlaces,
  ticker24hJson,
} from '../market/market-views.js';
import type { UserStreams } from '../ws/user-streams.js';
import type { Security } from './auth.js';
import type { RateLimiter } from './rate-limiter.js';
import { fmt } from '../engine/views.js';
import { fallbackRoutes } from './fallback-routes.js';

export interface RouteContext {
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly account: SimAccount | undefined;
  readonly engine: ExchangeEngine;
  readonly limiter: RateLimiter;
  readonly userStreams: UserStreams;
  readonly serverTime: number;
}

export interface Route {
  readonly security: Security;
  /** Request weight per Binance's docs (order placement costs 0 IP weight). */
  readonly weight: number | ((params: Readonly<Record<string, string | undefined>>) => number);
  /** Counts toward the account's order limits. */
  readonly order?: boolean;
  readonly handle: (ctx: RouteContext) => unknown;
}

const acct = (ctx: RouteContext) => ctx.account!;
const bySymbol = (light: number, heavy: number) => (p: Readonly<Record<string, string | undefined>>) => (p.symbol ? light : heavy);

/** `METHOD /path` → route, for every endpoint ats and its clients use (reference §B, §F). */
export const routes: Record<string, Route> = {
  'GET /fapi/v1/ping': { security: 'NONE', weight: 1, handle: () => ({}) },
  'GET /fapi/v1/time': { security: 'NONE', weight: 1, handle: (c) => ({ serverTime: c.serverTime }) },
  'GET /fapi/v1/exchangeInfo': {
    security: 'NONE',
    weight: 1,
    handle: (c) => exchangeInfoJson(c.engine, c.limiter.limits, c.serverTime),
  },
  'GET /fapi/v1/premiumIndex': {
    security: 'NONE',
    weight: bySymbol(1, 10),
    handle: (c) => {
      const symbol = c.params.symbol;
      if (symbol) return premiumIndexJson(c.engine, c.engine.spec(symbol).symbol, c.serverTime);
      return [...c.engine.symbols.keys()].map((s) => premiumIndexJson(c.engine, s, c.serverTime));
    },
  },
  'GET /fapi/v1/ticker/24hr': {
    security: 'NONE',
    weight: bySymbol(1, 40),
    handle: (c) => {
      const symbol = c.params.symbol;
      if (symbol) return ticker24hJson(c.engine, c.engine.spec(symbol).symbol, c.serverTime);
      return [...c.engine.symbols.keys()].map((s) => ticker24hJson(c.engine, s, c.serverTime));
    },
  },
  'GET /fapi/v1/ticker/price': {
    security: 'NONE',
    weight: bySymbol(1, 2),
    handle: (c) => {
      const one = (s: string) => ({ symbol: s, price: fmt(c.engine.last(s), pricePlaces(c.engine, s)), time: c.serverTime });
      return c.params.symbol ? one(c.engine.spec(c.params.symbol).symbol) : [...c.engine.symbols.keys()].map(one);
    },
  },
  'GET /fapi/v1/depth': {
    security: 'NONE',
    weight: (p) => depthWeight(p.limit === undefined ? 500 : Number(p.limit)),
    handle: (c) => depthJson(c.engine, c.params, c.serverTime),
  },
  'GET /fapi/v1/ticker/bookTicker': {
    security: 'NONE',
    weight: bySymbol(2, 5),
    handle: (c) => {
      const symbol = c.params.symbol;
      if (symbol) return bookTickerJson(c.engine, symbol, c.serverTime);
      return [...c.engine.symbols.keys()].map((s) => bookTickerJson(c.engine, s, c.serverTime));
    },
  },
  'GET /fapi/v1/klines': {
    security: 'NONE',
    weight: (p) => klinesWeight(p.limit === undefined ? 500 : Number(p.limit)),
    handle: (c) => klinesJson(c.engine, c.params),
  },

  'GET /fapi/v3/account': { security: 'SIGNED', weight: 5, handle: (c) => accountV3(c.engine, acct(c)) },
  'GET /fapi/v2/account': { security: 'SIGNED', weight: 5, handle: (c) => accountV2(c.engine, acct(c)) },
  'GET /fapi/v3/positionRisk': { security: 'SIGNED', weight: 5, handle: (c) => filterSymbol(positionRiskV3(c.engine, acct(c)), c) },
  'GET /fapi/v2/positionRisk': { security: 'SIGNED', weight: 5, handle: (c) => filterSymbol(positionRiskV2(c.engine, acct(c)), c) },
  'GET /fapi/v1/leverageBracket': {
    security: 'SIGNED',
    weight: 1,
    handle: (c) => {
      // With a symbol Binance answers one object; without, the list.
      const one = (s: { symbol: string; brackets: readonly object[] }) => ({ symbol: s.symbol, brackets: s.brackets });
      if (c.params.symbol) return one(c.engine.spec(c.params.symbol));
      return [...c.engine.symbols.values()].map(one);
    },
  },
  'GET /fapi/v1/commissionRate': {
    security: 'SIGNED',
    weight: 20,
    handle: (c) => ({
      symbol: c.engine.spec(c.params.symbol).symbol,
      makerCommissionRate: String(c.engine.fees.maker),
      takerCommissionRate: String(c.engine.fees.taker),
    }),
  },
  'GET /fapi/v1/positionSide/dual': { security: 'SIGNED', weight: 30, handle: () => ({ dualSidePosition: false }) },
  'POST /fapi/v1/leverage': { security: 'SIGNED', weight: 1, handle: (c) => c.engine.setLeverage(acct(c), c.params) },
  'POST /fapi/v1/marginType': { security: 'SIGNED', weight: 1, handle: (c) => c.engine.setMarginType(acct(c), c.params) },

  'POST /fapi/v1/order': {
    security: 'SIGNED',
    weight: 0,
    order: true,
    handle: (c) => {
      const order = orderJson(c.engine, c.engine.placeOrder(acct(c), c.params), 'placed');
      return c.params.newOrderRespType === 'RESULT' ? order : { ...order, status: 'NEW', executedQty: '0', cumQty: '0', cumQuote: '0', avgPrice: '0.00' };
    },
  },
  'GET /fapi/v1/order': { security: 'SIGNED', weight: 1, handle: (c) => orderJson(c.engine, c.engine.getOrder(acct(c), c.params)) },
  'DELETE /fapi/v1/order': { security: 'SIGNED', weight: 1, handle: (c) => orderJson(c.engine, c.engine.cancelOrder(acct(c), c.params), 'placed') },
  'GET /fapi/v1/openOrders': {
    security: 'SIGNED',
    weight: bySymbol(1, 40),
    handle: (c) => c.engine.openOrders(acct(c), c.params.symbol).map((o) => orderJson(c.engine, o)),
  },
  'GET /fapi/v1/allOrders': {
    security: 'SIGNED',
    weight: 5,
    handle: (c) => {
      const symbol = c.engine.spec(c.params.symbol).symbol;
      return [...acct(c).orders.values()].filter((o) => o.symbol === symbol).map((o) => orderJson(c.engine, o));
    },
  },
  'DELETE /fapi/v1/allOpenOrders': {
    security: 'SIGNED',
    weight: 1,
    handle: (c) => {
      c.engine.cancelAll(acct(c), c.engine.spec(c.params.symbol).symbol);
      return { code: 200, msg: 'The operation of cancel all open order is done.' };
    },
  },
  'POST /fapi/v1/algoOrder': {
    security: 'SIGNED',
    weight: 0,
    order: true,
    handle: (c) => algoJson(c.engine, c.engine.placeAlgo(acct(c), c.params)),
  },
  'GET /fapi/v1/algoOrder': { security: 'SIGNED', weight: 1, handle: (c) => algoJson(c.engine, c.engine.getAlgo(acct(c), c.params), true) },
  'DELETE /fapi/v1/algoOrder': {
    security: 'SIGNED',
    weight: 1,
    handle: (c) => {
      const algo = c.engine.cancelAlgo(acct(c), c.params);
      return { algoId: algo.algoId, clientAlgoId: algo.clientAlgoId, code: '200', msg: 'success' };
    },
  },
  'GET /fapi/v1/openAlgoOrders': {
    security: 'SIGNED',
    weight: bySymbol(1, 40),
    handle: (c) => c.engine.openAlgos(acct(c), c.params.symbol).map((a) => algoJson(c.engine, a, true)),
  },
  'GET /fapi/v1/userTrades': {
    security: 'SIGNED',
    weight: 5,
    handle: (c) => {
      const symbol = c.engine.spec(c.params.symbol).symbol;
      const limit = c.params.limit === undefined ? 500 : Math.min(1000, Number(c.params.limit));
      const from = c.params.startTime === undefined ? -Infinity : Number(c.params.startTime);
      const to = c.params.endTime === undefined ? Infinity : Number(c.params.endTime);
      const fromId = c.params.fromId === undefined ? -Infinity : Number(c.params.fromId);
      const list = acct(c).trades.filter((t) => t.symbol === symbol && t.time >= from && t.time <= to && t.id >= fromId);
      return (c.params.fromId === undefined ? list.slice(-limit) : list.slice(0, limit)).map((t) => tradeJson(c.engine, t));
    },
  },

  'POST /fapi/v1/listenKey': { security: 'API_KEY', weight: 1, handle: (c) => ({ listenKey: c.userStreams.create(acct(c)) }) },
  'PUT /fapi/v1/listenKey': { security: 'API_KEY', weight: 1, handle: (c) => ({ listenKey: c.userStreams.keepAlive(acct(c)) }) },
  'DELETE /fapi/v1/listenKey': {
    security: 'API_KEY',
    weight: 1,
    handle: (c) => {
      c.userStreams.close(acct(c));
      return {};
    },
  },

  // ccxt's loadMarkets asks the spot host for currencies unless told not to; answer empty.
  'GET /sapi/v1/capital/config/getall': { security: 'SIGNED', weight: 10, handle: () => [] },
  'GET /sapi/v1/margin/allPairs': { security: 'SIGNED', weight: 1, handle: () => [] },
};

function filterSymbol<T extends { symbol: string }>(rows: T[], c: RouteContext): T[] {
  const symbol = c.params.symbol;
  if (symbol === undefined) return rows;
  c.engine.spec(symbol);
  return rows.filter((r) => r.symbol === symbol);
}

export const routeFor = (method: string, path: string) => routes[`${method} ${path}`] ?? fallbackRoutes[`${method} ${path}`];
