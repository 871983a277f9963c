import type { Redis } from 'ioredis';
import { parseJson, redisKeys } from '../redis-contract.js';
import { recommendationsSnapshotSchema, type RecommendationsSnapshot } from '../recommendations.js';
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

/** How long readers of one process share a read of the mark prices (they change every second or so). */
const SHARED_READ_MS = 250;

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
  readonly #redis: Redis;
  readonly #upstream: () => Promise<BinanceClient>;
  #client: Promise<BinanceClient> | undefined;
  #marks: { at: number; value: Promise<MarkPrices> } | undefined;
  #snapshot: { raw: string; value: RecommendationsSnapshot } | undefined;

  constructor(opts: MarketDataReaderOptions) {
    this.cache = new SingleFlightCache(opts.redis);
    this.#redis = opts.redis;
    this.#upstream = opts.upstream;
  }

  /**
   * Every symbol's mark price. Readers within SHARED_READ_MS share one read and one parse: a pool's
   * hundred accounts valuing their positions at once read the key once.
   */
  markPrices(): Promise<MarkPrices> {
    const now = Date.now();
    if (this.#marks && now - this.#marks.at < SHARED_READ_MS) return this.#marks.value;
    const value = this.cache.getOrFetch(
      redisKeys.markPriceAll(),
      markPricesSchema,
      TTL.markPrices,
      async () => fetchMarkPrices(await this.#client_()),
      (v) => Date.now() - v.updatedAt <= MARK_PRICE_MAX_AGE_MS,
    );
    this.#marks = { at: now, value };
    value.catch(() => {
      if (this.#marks?.value === value) this.#marks = undefined;
    });
    return value;
  }

  /**
   * The current recommendations snapshot, parsed once per text for every reader of the process
   * (a pool's accounts all look at each new snapshot at once). Keyed by the text itself, not the
   * version counter: a Redis that came back empty counts versions from 1 again.
   */
  async recommendations(): Promise<RecommendationsSnapshot | undefined> {
    const key = redisKeys.recommendationsSnapshot();
    const raw = await this.#redis.get(key);
    if (raw === null) return undefined;
    if (this.#snapshot?.raw !== raw) this.#snapshot = { raw, value: parseJson(key, raw, recommendationsSnapshotSchema) };
    return this.#snapshot.value;
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
