import { withPriority } from '../core/exchange/priority.js';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../core/db/connection.js';
import { AtsError, describeError } from '../core/errors.js';
import type { BinanceClient } from '../core/exchange/binance-client.js';
import { createGovernedClient } from '../core/exchange/governed-factory.js';
import type { RateGovernor } from '../core/exchange/governor.js';
import { MarketDataReader } from '../core/market-data/reader.js';
import { TTL } from '../core/market-data/types.js';
import { fetchExchangeInfo, fetchMarkPrices, fetchTickers, markPricesFromRaw } from '../core/market-data/upstream.js';
import { redisKeys } from '../core/redis-contract.js';
import { Lease } from './lease.js';
import { Scanner } from './scanner.js';
import type { Strategy } from './strategies/strategy.js';
import { TrendFollowing } from './strategies/trend-following.js';

/**
 * The lease lapses this long after its holder dies: a standby then takes over and writes mark
 * prices at once, well inside their 5 s TTL, so traders never find them missing.
 */
export const LEASE_MS = 3_000;

export interface MarketdataOptions {
  readonly redis: Redis;
  readonly db: Db | undefined;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly governor: RateGovernor;
  readonly exchange: string | undefined;
  readonly wsUrl?: string | undefined;
  /** The name on the lease: a restart under the same name takes the lease back at once. */
  readonly instanceId?: string;
  /** How long the lease outlives its holder (renewed every third of it). */
  readonly leaseMs?: number;
  readonly scanIntervalMs?: number;
  readonly tickerIntervalMs?: number;
  /** Poll mark prices over REST when the stream has been silent this long. */
  readonly streamSilenceMs?: number;
  readonly strategy?: Strategy;
  readonly interval?: string;
  readonly universeSize?: number;
  readonly validityMs?: number;
}

/**
 * The node's only reader of public market data. One instance holds the lease and keeps the
 * `ats:md:*` caches warm (mark prices from the `!markPrice@arr@1s` stream, REST only while the
 * stream is silent; tickers; exchange info) and publishes the global recommendations; any other
 * instance waits as a standby and takes over when the lease lapses.
 */
export class MarketdataService {
  readonly id: string;
  readonly reader: MarketDataReader;
  readonly #o: MarketdataOptions;
  readonly #lease: Lease;
  readonly #log: Logger;
  readonly #metrics;
  #leaseTimer: NodeJS.Timeout | undefined;
  #timers: NodeJS.Timeout[] = [];
  #generation = 0;
  #client: Promise<BinanceClient> | undefined;
  #scanner: Scanner | undefined;
  #lastStreamAt = 0;
  #lastWriteAt = 0;
  #active = false;
  #stopped = false;

  constructor(opts: MarketdataOptions) {
    this.#o = opts;
    this.id = opts.instanceId ?? `md-${randomBytes(4).toString('hex')}`;
    this.#log = opts.logger.child({ instance: this.id });
    this.#lease = new Lease(opts.redis, redisKeys.marketdataLease(), this.id, opts.leaseMs ?? LEASE_MS);
    this.reader = new MarketDataReader({ redis: opts.redis, upstream: async () => this.#requireClient() });
    this.#metrics = serviceMetrics(opts.registry);
  }

  get active(): boolean {
    return this.#active;
  }

  start(): void {
    const tick = async () => {
      if (this.#stopped) return;
      try {
        const held = await this.#lease.hold();
        if (held && !this.#active) await this.#activate();
        if (!held && this.#active) await this.#deactivate('lease lost');
      } catch (err) {
        this.#log.warn({ err }, 'lease check failed');
      }
      if (!this.#stopped) this.#leaseTimer = setTimeout(() => void tick(), (this.#o.leaseMs ?? LEASE_MS) / 3);
    };
    void tick();
  }

  /** Stops and hands the lease over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#leaseTimer);
    if (this.#active) await this.#deactivate('stopping');
    await this.#lease
      .release()
      .catch((err) => this.#log.warn({ err: describeError(err) }, 'could not release the marketdata lease: a standby takes over when it expires'));
  }

  /** Stops without releasing the lease, as a crash would (tests). */
  async crash(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#leaseTimer);
    if (this.#active) await this.#deactivate('crash');
  }

  async scanNow() {
    if (!this.#scanner) throw new AtsError('ATS_NOT_ACTIVE', 'not the active marketdata instance');
    return this.#scanner.scan();
  }

  async #activate(): Promise<void> {
    const generation = ++this.#generation;
    this.#active = true;
    this.#metrics.active.set(1);
    this.#log.info('took the marketdata lease: polling');
    const client = await this.#requireClient();
    // Mark prices first (the traders' stop-loss checks and valuations read them), the rest after.
    await this.#fallbackMarkPrices(client).catch((err) =>
      this.#log.warn({ err: describeError(err) }, 'first mark prices not fetched; the stream or the next poll brings them'),
    );
    if (generation !== this.#generation) return;
    // The exchange info another instance cached is as good as a fresh one (it is refreshed hourly).
    const info = await this.reader.exchangeInfo();
    await this.#o.governor.setLimits(info.rateLimits);
    // ccxt loads its markets from the response we already have.
    (client as unknown as { fapiPublicGetExchangeInfo: () => Promise<unknown> }).fapiPublicGetExchangeInfo = async () => info;
    await client.loadMarkets();
    if (generation !== this.#generation) return;

    this.#scanner = new Scanner({
      reader: this.reader,
      redis: this.#o.redis,
      db: this.#o.db,
      logger: this.#log,
      strategy: this.#o.strategy ?? new TrendFollowing(),
      ...(this.#o.interval ? { interval: this.#o.interval } : {}),
      ...(this.#o.universeSize ? { universeSize: this.#o.universeSize } : {}),
      ...(this.#o.validityMs ? { validityMs: this.#o.validityMs } : {}),
    });
    void this.#streamMarkPrices(generation, client);
    this.#every(1_000, () => this.#fallbackMarkPrices(client));
    this.#every(
      this.#o.tickerIntervalMs ?? 10_000,
      async () => {
        await this.reader.cache.set(redisKeys.ticker24hAll(), await fetchTickers(client), TTL.tickers);
      },
      true,
    );
    this.#every(3_600_000, async () => {
      await this.reader.cache.set(redisKeys.exchangeInfo(), await fetchExchangeInfo(client), TTL.exchangeInfo);
    });
    this.#every(
      5_000,
      async () => {
        await this.#o.redis.set(redisKeys.heartbeat('marketdata'), JSON.stringify({ instance: this.id, at: Date.now() }), 'PX', 15_000);
      },
      true,
    );
    this.#every(
      this.#o.scanIntervalMs ?? 15 * 60_000,
      async () => {
        // Scans yield the node's budget to the traders' protective orders, entries and reconciliation.
        await withPriority('background', async () => this.#scanner?.scan());
        this.#metrics.scans.inc();
      },
      true,
    );
  }

  async #deactivate(reason: string): Promise<void> {
    this.#generation += 1;
    this.#active = false;
    this.#metrics.active.set(0);
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#scanner = undefined;
    const client = this.#client;
    this.#client = undefined;
    await client?.then((c) => c.close()).catch((err) => this.#log.debug({ err: describeError(err) }, 'exchange client did not close cleanly'));
    this.#log.info({ reason }, 'stopped polling');
  }

  async #streamMarkPrices(generation: number, client: BinanceClient): Promise<void> {
    const latest = new Map<string, Record<string, string | number>>();
    let backoff = 1_000;
    while (generation === this.#generation) {
      try {
        const update = await client.watchMarkPrices();
        for (const ticker of Object.values(update)) {
          const raw = ticker.info as Record<string, string | number>;
          latest.set(String(raw.s), raw);
        }
        if (generation !== this.#generation) return;
        await this.reader.cache.set(redisKeys.markPriceAll(), markPricesFromRaw([...latest.values()], 'stream'), TTL.markPrices);
        this.#lastStreamAt = Date.now();
        this.#lastWriteAt = this.#lastStreamAt;
        backoff = 1_000;
      } catch (err) {
        if (generation !== this.#generation) return;
        this.#metrics.reconnects.inc();
        this.#log.warn({ err: describeError(err), retryInMs: backoff }, 'mark price stream lost; REST fallback until it is back');
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  async #fallbackMarkPrices(client: BinanceClient): Promise<void> {
    const silence = Date.now() - this.#lastStreamAt;
    this.#metrics.streamAge.set(this.#lastStreamAt ? silence / 1000 : -1);
    this.#metrics.cacheAge.set(this.#lastWriteAt ? (Date.now() - this.#lastWriteAt) / 1000 : -1);
    if (silence < (this.#o.streamSilenceMs ?? 2_500)) return;
    await this.reader.cache.set(redisKeys.markPriceAll(), await fetchMarkPrices(client), TTL.markPrices);
    this.#lastWriteAt = Date.now();
    this.#metrics.restPolls.inc();
  }

  #every(ms: number, fn: () => Promise<void>, now = false): void {
    const generation = this.#generation;
    let running = false;
    const run = async () => {
      if (running || generation !== this.#generation) return;
      running = true;
      try {
        await fn();
      } catch (err) {
        this.#log.warn({ err: describeError(err) }, 'marketdata task failed');
      } finally {
        running = false;
      }
    };
    this.#timers.push(setInterval(() => void run(), ms));
    if (now) void run();
  }

  #requireClient(): Promise<BinanceClient> {
    this.#client ??= createGovernedClient({ exchange: this.#o.exchange, wsUrl: this.#o.wsUrl, governor: this.#o.governor });
    return this.#client;
  }
}

function serviceMetrics(registry: Registry) {
  const registers = [registry];
  return {
    active: new Gauge({ name: 'ats_marketdata_active', help: '1 while this instance holds the lease and polls', registers }),
    streamAge: new Gauge({ name: 'ats_marketdata_mark_price_stream_age_seconds', help: 'Seconds since the last mark price stream update', registers }),
    cacheAge: new Gauge({ name: 'ats_marketdata_mark_price_age_seconds', help: 'Age of the mark prices in ats:md:mark_price:all (stream or REST)', registers }),
    reconnects: new Counter({ name: 'ats_marketdata_stream_reconnects_total', help: 'Mark price stream losses', registers }),
    restPolls: new Counter({ name: 'ats_marketdata_rest_fallback_polls_total', help: 'Mark price REST polls while the stream was silent', registers }),
    scans: new Counter({ name: 'ats_marketdata_scans_total', help: 'Recommendation scans', registers }),
  };
}
