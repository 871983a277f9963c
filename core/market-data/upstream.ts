import type { BinanceClient } from '../exchange/binance-client.js';
import type { ExchangeInfo, Klines, MarkPrices, Tickers } from './types.js';

export type { ExchangeInfo } from './types.js';

/**
 * Binance's public market-data endpoints, called through ccxt's raw API methods (so no markets
 * need loading first) and converted to the cache shapes.
 */
type Raw = Record<string, string | number>;
type RawApi = {
  fapiPublicGetPremiumIndex(params?: object): Promise<Raw[]>;
  fapiPublicGetTicker24hr(params?: object): Promise<Raw[]>;
  fapiPublicGetKlines(params: object): Promise<Array<Array<string | number>>>;
  fapiPublicGetExchangeInfo(params?: object): Promise<ExchangeInfo>;
};

const raw = (exchange: BinanceClient) => exchange as unknown as RawApi;

export const markPricesFromRaw = (rows: Raw[], source: MarkPrices['source'], now = Date.now()): MarkPrices => ({
  updatedAt: now,
  source,
  prices: Object.fromEntries(
    rows.map((r) => [
      String(r.symbol ?? r.s),
      {
        markPrice: Number(r.markPrice ?? r.p),
        indexPrice: Number(r.indexPrice ?? r.i),
        fundingRate: Number(r.lastFundingRate ?? r.r),
        nextFundingTime: Number(r.nextFundingTime ?? r.T),
        time: Number(r.time ?? r.E),
      },
    ]),
  ),
});

export async function fetchMarkPrices(exchange: BinanceClient): Promise<MarkPrices> {
  return markPricesFromRaw(await raw(exchange).fapiPublicGetPremiumIndex(), 'rest');
}

export async function fetchTickers(exchange: BinanceClient): Promise<Tickers> {
  const rows = await raw(exchange).fapiPublicGetTicker24hr();
  return {
    updatedAt: Date.now(),
    tickers: Object.fromEntries(
      rows.map((r) => [
        String(r.symbol),
        {
          last: Number(r.lastPrice),
          open: Number(r.openPrice),
          high: Number(r.highPrice),
          low: Number(r.lowPrice),
          quoteVolume: Number(r.quoteVolume),
          percentage: Number(r.priceChangePercent),
        },
      ]),
    ),
  };
}

export async function fetchKlines(exchange: BinanceClient, symbol: string, interval: string, limit: number): Promise<Klines> {
  const rows = await raw(exchange).fapiPublicGetKlines({ symbol, interval, limit });
  return {
    updatedAt: Date.now(),
    candles: rows.map((k) => [Number(k[0]), Number(k[1]), Number(k[2]), Number(k[3]), Number(k[4]), Number(k[5])] as const) as Klines['candles'],
  };
}

export async function fetchExchangeInfo(exchange: BinanceClient): Promise<ExchangeInfo> {
  return raw(exchange).fapiPublicGetExchangeInfo();
}
