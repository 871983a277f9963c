import { err } from '../binance-error.js';
import type { ExchangeEngine } from '../engine/exchange-engine.js';
import { fmt } from '../engine/views.js';
import type { RateLimits } from '../http/rate-limiter.js';
import { intervalMs } from './market-book.js';
import { decimalsOf } from './symbols.js';

const DAY = 24 * 3_600_000;

export const pricePlaces = (engine: ExchangeEngine, symbol: string) => {
  const spec = engine.spec(symbol);
  return Math.max(spec.pricePrecision, decimalsOf(spec.tickSize));
};

export function exchangeInfoJson(engine: ExchangeEngine, limits: RateLimits, serverTime: number) {
  return {
    timezone: 'UTC',
    serverTime,
    futuresType: 'U_MARGINED',
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: limits.requestWeightPerMinute },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: limits.ordersPerMinute },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: limits.ordersPerTenSeconds },
    ],
    exchangeFilters: [],
    assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
    symbols: [...engine.symbols.values()].map((s) => s.raw),
  };
}

export function premiumIndexJson(engine: ExchangeEngine, symbol: string, serverTime: number) {
  // The index is the replayed price; the mark is the index plus the engine's slow premium.
  const index = engine.book.price(symbol);
  const places = pricePlaces(engine, symbol) + 6;
  return {
    symbol,
    markPrice: fmt(engine.mark(symbol), places),
    indexPrice: fmt(index, places),
    estimatedSettlePrice: fmt(index, places),
    lastFundingRate: fmt(engine.fundingRate(symbol), 8),
    interestRate: '0.00010000',
    // Funding follows market time, as klines do.
    nextFundingTime: engine.nextFundingTime(),
    time: serverTime,
  };
}

const DEPTH_LIMITS = [5, 10, 20, 50, 100, 500, 1000];

/** `GET /fapi/v1/depth` weight by limit, as Binance documents it. */
export const depthWeight = (limit: number) => (limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20);

/** An id that grows with market time, as Binance's book update ids do. */
const updateId = (engine: ExchangeEngine) => Math.floor(engine.book.clock.now() / 100);

export function depthJson(engine: ExchangeEngine, params: Readonly<Record<string, string | undefined>>, serverTime: number) {
  const spec = engine.spec(params.symbol);
  const limit = params.limit === undefined ? 500 : Number(params.limit);
  if (!DEPTH_LIMITS.includes(limit)) throw err.invalidDepthLimit(String(params.limit));
  const book = engine.depth(spec.symbol, limit);
  const places = pricePlaces(engine, spec.symbol);
  const qtyPlaces = decimalsOf(spec.stepSize);
  const side = (levels: ReadonlyArray<{ price: number; qty: number }>) => levels.slice(0, limit).map((l) => [fmt(l.price, places), fmt(l.qty, qtyPlaces)]);
  return { lastUpdateId: updateId(engine), E: serverTime, T: serverTime, bids: side(book.bids), asks: side(book.asks) };
}

export function bookTickerJson(engine: ExchangeEngine, symbol: string, serverTime: number) {
  const spec = engine.spec(symbol);
  const book = engine.depth(spec.symbol, 1);
  const places = pricePlaces(engine, spec.symbol);
  const qtyPlaces = decimalsOf(spec.stepSize);
  const [bid, ask] = [book.bids[0]!, book.asks[0]!];
  return {
    symbol: spec.symbol,
    bidPrice: fmt(bid.price, places),
    bidQty: fmt(bid.qty, qtyPlaces),
    askPrice: fmt(ask.price, places),
    askQty: fmt(ask.qty, qtyPlaces),
    time: serverTime,
    lastUpdateId: updateId(engine),
  };
}

export function ticker24hJson(engine: ExchangeEngine, symbol: string, serverTime: number) {
  const now = engine.book.clock.now();
  const day = engine.book.ohlcv(symbol, now - DAY, now) ?? { open: 0, high: 0, low: 0, close: 0, volume: 0 };
  const places = pricePlaces(engine, symbol);
  const change = day.close - day.open;
  const avg = (day.high + day.low + day.close) / 3;
  return {
    symbol,
    priceChange: fmt(change, places),
    priceChangePercent: fmt(day.open ? (change / day.open) * 100 : 0, 3),
    weightedAvgPrice: fmt(avg, places),
    lastPrice: fmt(engine.last(symbol), places),
    lastQty: fmt(engine.spec(symbol).minQty, decimalsOf(engine.spec(symbol).stepSize)),
    openPrice: fmt(day.open, places),
    highPrice: fmt(day.high, places),
    lowPrice: fmt(day.low, places),
    volume: fmt(day.volume, 3),
    quoteVolume: fmt(day.volume * avg, 2),
    openTime: serverTime - DAY,
    closeTime: serverTime,
    firstId: 1,
    lastId: Math.max(1, Math.round(day.volume)),
    count: Math.max(1, Math.round(day.volume)),
  };
}

/** `GET /fapi/v1/markPriceKlines` and `indexPriceKlines`: price-only rows (the volume columns are "0"). */
export function priceKlinesJson(engine: ExchangeEngine, params: Readonly<Record<string, string | undefined>>, of: 'mark' | 'index') {
  const symbol = params.symbol ?? params.pair;
  if (!symbol) throw err.mandatory(params.pair === undefined && of === 'index' ? 'pair' : 'symbol');
  const spec = engine.spec(symbol);
  const interval = params.interval;
  if (!interval) throw err.mandatory('interval');
  if (!intervalMs(interval)) throw err.badInterval();
  const limit = params.limit === undefined ? 500 : Number(params.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1500) throw err.illegalParam('limit');
  const rows = engine.book.klines(spec.symbol, interval, {
    limit,
    ...(params.startTime !== undefined ? { startTime: Number(params.startTime) } : {}),
    ...(params.endTime !== undefined ? { endTime: Number(params.endTime) } : {}),
  });
  const places = pricePlaces(engine, spec.symbol);
  return rows.map((k) => {
    const f = of === 'mark' ? engine.markFactor(spec.symbol, k.openTime) : 1;
    const px = (x: number) => fmt(x * f, places);
    return [
      k.openTime,
      px(k.open),
      px(k.high),
      px(k.low),
      px(k.close),
      '0',
      k.closeTime,
      '0',
      Math.round((k.closeTime + 1 - k.openTime) / 1000),
      '0',
      '0',
      '0',
    ];
  });
}

export function klinesJson(engine: ExchangeEngine, params: Readonly<Record<string, string | undefined>>) {
  const symbol = params.symbol;
  if (!symbol) throw err.mandatory('symbol');
  engine.spec(symbol);
  const interval = params.interval;
  if (!interval) throw err.mandatory('interval');
  if (!intervalMs(interval)) throw err.badInterval();
  const limit = params.limit === undefined ? 500 : Number(params.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1500) throw err.illegalParam('limit');
  const rows = engine.book.klines(symbol, interval, {
    limit,
    ...(params.startTime !== undefined ? { startTime: Number(params.startTime) } : {}),
    ...(params.endTime !== undefined ? { endTime: Number(params.endTime) } : {}),
  });
  const places = pricePlaces(engine, symbol);
  return rows.map((k) => [
    k.openTime,
    fmt(k.open, places),
    fmt(k.high, places),
    fmt(k.low, places),
    fmt(k.close, places),
    fmt(k.volume, 3),
    k.closeTime,
    fmt((k.volume * (k.high + k.low)) / 2, 5),
    Math.max(1, Math.round(k.volume)),
    fmt(k.volume / 2, 3),
    fmt((k.volume * (k.high + k.low)) / 4, 5),
    '0',
  ]);
}

/** Binance's klines weight by limit. */
export const klinesWeight = (limit: number) => (limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10);
