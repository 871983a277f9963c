import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../core/db/connection.js';
import type { MarketDataReader } from '../core/market-data/reader.js';
import { publishSnapshot, type Recommendation, type RecommendationsSnapshot } from '../core/recommendations.js';
import { redisKeys } from '../core/redis-contract.js';
import type { Strategy } from './strategies/strategy.js';

export interface ScannerOptions {
  readonly reader: MarketDataReader;
  readonly redis: Redis;
  readonly db: Db | undefined;
  readonly strategy: Strategy;
  readonly logger: Logger;
  readonly interval?: string;
  /** How many of the most traded USDT perpetuals to scan. */
  readonly universeSize?: number;
  /** How long a recommendation stays actionable (wall clock). */
  readonly validityMs?: number;
}

/**
 * Computes the global recommendations once for every account: scans the liquid USDT perpetuals
 * on cached klines, publishes `ats:recommendations:snapshot`, records each recommendation once
 * in `recommendations`, and notifies traders on `ats:events:recommendations`.
 */
export class Scanner {
  readonly #o: ScannerOptions;

  constructor(opts: ScannerOptions) {
    this.#o = opts;
  }

  async universe(): Promise<string[]> {
    const [info, tickers] = await Promise.all([this.#o.reader.exchangeInfo(), this.#o.reader.tickers()]);
    return info.symbols
      .filter((s) => s.contractType === 'PERPETUAL' && s.quoteAsset === 'USDT' && s.status === 'TRADING' && tickers.tickers[s.symbol])
      .map((s) => s.symbol)
      .sort((a, b) => tickers.tickers[b]!.quoteVolume - tickers.tickers[a]!.quoteVolume)
      .slice(0, this.#o.universeSize ?? 20);
  }

  async scan(): Promise<RecommendationsSnapshot> {
    const interval = this.#o.interval ?? '1h';
    const limit = this.#o.strategy.lookback + 1;
    const now = Date.now();
    const recommendations: Recommendation[] = [];
    for (const symbol of await this.universe()) {
      // Klines fetched since this scan began (shared with any reader that wants them meanwhile).
      const { candles } = await this.#o.reader.klines(symbol, interval, limit, Date.now() - now);
      // Binance's last kline is the one still forming: decide on closed bars only.
      const closed = candles.slice(0, -1);
      const signal = this.#o.strategy.evaluate(symbol, closed);
      if (!signal) continue;
      const barTime = closed.at(-1)![0];
      recommendations.push({
        id: recommendationId(this.#o.strategy.name, symbol, interval, barTime, signal.side),
        symbol,
        ...signal,
        strategy: this.#o.strategy.name,
        interval,
        barTime,
        expiresAt: now + (this.#o.validityMs ?? 60 * 60_000),
      });
    }
    recommendations.sort((a, b) => b.score - a.score);
    // Rows first, so every published recommendation is on record.
    await this.#record(recommendations, await this.#o.redis.get(redisKeys.recommendationsVersion()));
    const snapshot = await publishSnapshot(this.#o.redis, recommendations, now);
    this.#o.logger.info(
      { version: snapshot.version, count: recommendations.length, symbols: recommendations.map((r) => r.symbol) },
      'recommendations published',
    );
    return snapshot;
  }

  async #record(recommendations: Recommendation[], lastVersion: string | null): Promise<void> {
    if (!this.#o.db || recommendations.length === 0) return;
    await this.#o.db
      .insertInto('recommendations')
      .values(
        recommendations.map((r) => ({
          id: r.id,
          snapshot_version: String(Number(lastVersion ?? 0) + 1),
          strategy: r.strategy,
          symbol: r.symbol,
          side: r.side,
          entry: r.entry,
          stop_loss: r.stopLoss,
          take_profit: r.takeProfit,
          score: r.score,
          reason: r.reason,
          bar_time: new Date(r.barTime),
          expires_at: new Date(r.expiresAt),
        })),
      )
      .onConflict((c) => c.column('id').doNothing())
      .execute();
  }
}

export const recommendationId = (strategy: string, symbol: string, interval: string, barTime: number, side: string) =>
  `${symbol}-${interval}-${barTime}-${side}-${createHash('sha256').update(strategy).digest('hex').slice(0, 6)}`;
