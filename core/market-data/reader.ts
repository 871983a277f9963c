import type { Redis } from 'ioredis';
import { redisKeys } from '../redis-contract.js';
import type { BinanceClient } from '../exchange/binance-client.js';
import { SingleFlightCache } from './single-flight-cache.js';
import {
  exchangeInfoSchema,
  klinesSchema,
  MARK_PRICE_MAX_AGE_MS,
  markPricesSchema,
  tickersSchema,
  TTL,
  type Klines,
  type MarkPrices,
  type Tickers,
} from './types.js';
import { fetchExchangeInfo, fetchKlines, fetchMarkPrices, fetchTickers, type ExchangeInfo } from './upstream.js';

export interface MarketDataReaderOptions {
  readonly redis: Redis;
  /** A governed public client, made only when a miss has to go upstream. */
  readonly upstream: () => Promise<BinanceClient>;
}

/**
 * How traders (and marketdata's own scanner) read market data: from the `ats:md:*` keys that
 * marketdata keeps warm. A miss — or marketdata being down — is fetched once through the governor
 * for every concurrent reader on the node, never once per reader.
 */
export class MarketDataReader {
  readonly cache: SingleFlightCache;
  readonly #upstream: () => Promise<BinanceClient>;
  #client: Promise<BinanceClient> | undefined;

  constructor(opts: MarketDataReaderOptions) {
    this.cache = new SingleFlightCache(opts.redis);
    this.#upstream = opts.upstream;
  }

  markPrices(): Promise<MarkPrices> {
    return this.cache.getOrFetch(
      redisKeys.markPriceAll(),
      markPricesSchema,
      TTL.markPrices,
      async () => fetchMarkPrices(await this.#client_()),
      (v) => Date.now() - v.updatedAt <= MARK_PRICE_MAX_AGE_MS,
    );
  }

  async markPrice(symbol: string): Promise<number | undefined> {
    return (await this.markPrices()).prices[symbol]?.markPrice;
  }

  tickers(): Promise<Tickers> {
    return this.cache.getOrFetch(redisKeys.ticker24hAll(), tickersSchema, TTL.tickers, async () => fetchTickers(await this.#client_()));
  }

  /** Klines, from the cache unless older than `maxAgeMs` (a scan wants the latest bar). */
  klines(symbol: string, interval: string, limit: number, maxAgeMs?: number): Promise<Klines> {
    const since = maxAgeMs === undefined ? undefined : Date.now() - maxAgeMs;
    return this.cache.getOrFetch(
      redisKeys.klines(symbol, interval, limit),
      klinesSchema,
      TTL.klines(interval),
      async () => fetchKlines(await this.#client_(), symbol, interval, limit),
      (v) => since === undefined || v.updatedAt >= since,
    );
  }

  exchangeInfo(): Promise<ExchangeInfo> {
    return this.cache.getOrFetch(redisKeys.exchangeInfo(), exchangeInfoSchema, TTL.exchangeInfo, async () => fetchExchangeInfo(await this.#client_()));
  }

  #client_(): Promise<BinanceClient> {
    this.#client ??= this.#upstream();
    return this.#client;
  }

  async close(): Promise<void> {
    // Closing on the way out: a socket already gone has nothing left to close.
    if (this.#client) await (await this.#client).close().catch(() => undefined);
  }
}
