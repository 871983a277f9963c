import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KeyPair } from '../core/credentials/key-pair.js';
import type { Db } from '../core/db/connection.js';
import { createGovernedClient } from '../core/exchange/governed-factory.js';
import type { RateGovernor } from '../core/exchange/governor.js';
import { MarketDataReader } from '../core/market-data/reader.js';
import { withPriority, type Priority } from '../core/exchange/priority.js';
import { ChannelHub } from './channel-hub.js';
import { jittered, SAFETY_PASS_MS } from './known-state.js';
import type { SharedMarkets } from './shared-markets.js';
import { AtsError } from '../core/errors.js';
import { channelOf, parseJson, redisKeys } from '../core/redis-contract.js';
import { closeRequestSchema, type OrderPurpose } from '../core/runtime-values.js';
import { parseConfigEntries, tradingConfigSchema, type TradingConfig } from '../core/trading-config.js';
import { isOurs, purposeOf } from './client-order-id.js';
import type { TraderContext } from './context.js';
import { EntryDesk } from './entry-desk.js';
import { FundingWatch } from './funding-watch.js';
import { classify, describeError } from './errors.js';
import { ExchangeAccount, type Balance } from './exchange-account.js';
import { traderMetrics, type TraderMetrics, type TraderState } from './metrics.js';
import { PositionKeeper } from './position-keeper.js';
import { RecordWriter } from './records.js';
import { RuntimeState } from './runtime-state.js';
import { TradingState } from './trading-state.js';
import { trackingFromRecords } from './tracking-records.js';
import { orderRow } from './rows.js';

/** The priority of each step's exchange requests at the node's weight budget (protective orders are `protect` whatever the step). */
const STEP_PRIORITY: Readonly<Record<string, Priority>> = {
  sync: 'protect',
  close: 'protect',
  state: 'background',
  records: 'background',
  attention: 'protect',
  recommendations: 'entry',
  config: 'entry',
  reconcile: 'reconcile',
  snapshot: 'background',
  funding: 'background',
};

/** How soon a pass that left a position unprotected or an entry pending is followed by another. */
const ATTENTION_MS = 3_000;

export interface TraderOptions {
  readonly accountId: string;
  readonly redis: Redis;
  readonly db: Db;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly governor: RateGovernor;
  readonly exchange: string | undefined;
  readonly wsUrl?: string | undefined;
  /** Read at every (re)start, so a rotated key is picked up. */
  readonly credentials: () => Promise<KeyPair>;
  readonly reconcileMs?: number;
  readonly snapshotMs?: number;
  readonly recommendationPollMs?: number;
  /** Shared by the accounts of a pool: one subscriber connection (default: one of its own). */
  readonly channels?: ChannelHub;
  /** Shared by the accounts of a pool: one market-data reader per exchange (default: one of its own). */
  readonly reader?: MarketDataReader;
  /** Shared by the accounts of a pool: markets parsed once (default: each client parses its own). */
  readonly markets?: SharedMarkets;
}

/**
 * One account's automated trading, and its lifecycle: it connects (and reconnects with backoff
 * after an error), follows the account on the user data stream with REST reconciliation as the
 * safety net, and stops without touching the protective orders. The work is done by its parts:
 * the EntryDesk (recommendation → risk → entry), the PositionKeeper (track, protect, adopt,
 * settle) and the TradingState (active / paused / halted / error, decided in one place).
 */
export class Trader {
  readonly accountId: string;
  readonly #o: TraderOptions;
  readonly #log: Logger;
  readonly #runtime: RuntimeState;
  readonly #records: RecordWriter;
  readonly #reader: MarketDataReader;
  readonly #metrics: TraderMetrics;
  readonly #channels: ChannelHub;
  readonly #ownChannels: boolean;
  readonly #ownReader: boolean;
  #unlisten: (() => Promise<void>) | undefined;
  readonly #state: TradingState;
  readonly #context: TraderContext;
  readonly #keeper: PositionKeeper;
  readonly #entries: EntryDesk;
  readonly #funding: FundingWatch;
  #account: ExchangeAccount | undefined;
  #timers: NodeJS.Timeout[] = [];
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #bootTimer: NodeJS.Timeout | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #generation = 0;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(opts: TraderOptions) {
    this.#o = opts;
    this.accountId = opts.accountId;
    this.#log = opts.logger.child({ account_id: opts.accountId });
    this.#records = new RecordWriter({ db: opts.db, redis: opts.redis, accountId: opts.accountId, logger: this.#log });
    this.#runtime = new RuntimeState(
      opts.redis,
      opts.accountId,
      (problem) => this.#log.error({ problem }, 'damaged runtime state in Redis: left out, the exchange is asked instead'),
      {
        read: async () => {
          // The records must be complete first: a position opened or closed a moment ago may still wait.
          if (!(await this.#records.drain(5_000))) throw new AtsError('ATS_TRACKING_NOT_RESTORED', 'records are still waiting for Postgres');
          return trackingFromRecords(opts.db, opts.accountId);
        },
        rebuilt: (found) => {
          if (found.positions.length + found.pending.length === 0) return;
          this.#log.warn(
            { positions: found.positions.map((p) => p.symbol), pendingEntries: found.pending.map((p) => p.symbol) },
            'Redis had lost the tracking state: rebuilt from the records',
          );
          // Records still in the lost outbox (an open position's fills, say) are written again
          // from the exchange: a full pass records what each tracked position holds (idempotent).
          setTimeout(() => void this.#task('records', () => this.#keeper.reconcile(true)), 0);
        },
      },
    );
    this.#ownReader = !opts.reader;
    this.#reader =
      opts.reader ??
      new MarketDataReader({
        redis: opts.redis,
        upstream: () => createGovernedClient({ exchange: opts.exchange, wsUrl: opts.wsUrl, governor: opts.governor }),
      });
    this.#metrics = traderMetrics(opts.registry);
    this.#state = new TradingState({ log: this.#log, metrics: this.#metrics, onChange: () => void this.#heartbeat() });
    this.#ownChannels = !opts.channels;
    this.#channels = opts.channels ?? new ChannelHub(opts.redis, this.#log);
    let balance: Balance | undefined;
    let balanceAt = 0;
    this.#context = {
      accountId: opts.accountId,
      log: this.#log,
      redis: opts.redis,
      db: opts.db,
      runtime: this.#runtime,
      records: this.#records,
      reader: this.#reader,
      metrics: this.#metrics,
      state: this.#state,
      get balance() {
        return balance;
      },
      set balance(value: Balance | undefined) {
        balance = value;
        balanceAt = Date.now();
      },
      get balanceAt() {
        return balanceAt;
      },
      account: () => {
        if (!this.#account) throw new AtsError('ATS_NOT_CONNECTED', 'not connected to the exchange');
        return this.#account;
      },
      config: () => this.#config(),
      counted: (purpose, outcome) => this.#counted(purpose, outcome),
      scheduleSync: (ms) => this.#scheduleSync(ms),
      heartbeat: () => this.#heartbeat(),
    };
    this.#keeper = new PositionKeeper(this.#context);
    this.#entries = new EntryDesk(this.#context, this.#keeper);
    this.#funding = new FundingWatch(this.#context);
  }

  get state(): TraderState {
    return this.#state.current;
  }

  get lastError(): string | undefined {
    return this.#state.current === 'error' ? this.#state.reason : undefined;
  }

  async start(): Promise<void> {
    await this.#records.restore().catch((err) => this.#log.warn({ err: describeError(err) }, 'could not read the record outbox'));
    this.#records.write({ kind: 'account', row: { id: this.accountId, name: this.accountId, exchange: this.#o.exchange ?? 'simulator' } });
    const recommendations = channelOf(this.#o.redis, redisKeys.recommendationsChannel());
    this.#unlisten = await this.#channels.listen([recommendations, channelOf(this.#o.redis, redisKeys.configChannel(this.accountId))], (channel) => {
      const config = channel !== recommendations;
      if (config) this.#entries.changed();
      void this.#task(config ? 'config' : 'recommendations', () => this.#entries.onRecommendations());
      if (config) {
        void this.#task('close', () => this.#closeRequested());
        // Paused or resumed: said at once (the next heartbeat), not at the next snapshot.
        void this.#task('state', () => this.#decideState());
      }
    });
    this.#heartbeatTimer = setInterval(() => void this.#heartbeat(), 5_000);
    this.#state.starting();
    await this.#boot();
  }

  /** SIGTERM: no new entries; protective orders stay on the exchange; records are flushed. */
  async stop(): Promise<void> {
    this.#generation += 1;
    this.#state.stopping();
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#bootTimer);
    clearTimeout(this.#syncTimer);
    clearInterval(this.#heartbeatTimer);
    await this.#lock.catch(() => undefined); // a step's failure was logged by #task
    const flushed = await this.#records.drain(10_000);
    if (!flushed) this.#log.warn({ waiting: this.#records.waiting }, 'stopping with records still waiting for Postgres (kept in the outbox)');
    this.#records.stop();
    await this.#account?.close().catch((err) => this.#log.debug({ err: describeError(err) }, 'exchange client did not close cleanly'));
    if (this.#ownReader) await this.#reader.close();
    await this.#heartbeat();
    await this.#unlisten?.();
    if (this.#ownChannels) this.#channels.close();
    this.#log.info('trader stopped');
  }

  /**
   * An error escaped this account's own handling (a throw in a callback nobody awaited): the
   * account goes to its error state and starts again with backoff, its protective orders stay on
   * the exchange, and the next start looks at every position first. A pool calls this instead of
   * letting the process exit.
   */
  crashed(err: unknown): void {
    if (this.#state.current === 'stopping') return;
    this.#log.error({ err: describeError(err) }, 'unhandled error in this account: stopping it and starting again');
    this.#fail(err);
  }

  // --- start-up and failure ---

  async #boot(): Promise<void> {
    const generation = ++this.#generation;
    try {
      const keys = await this.#o.credentials();
      await this.#account?.close().catch((err) => this.#log.debug({ err: describeError(err) }, 'previous exchange client did not close cleanly'));
      const client = await createGovernedClient({
        exchange: this.#o.exchange,
        wsUrl: this.#o.wsUrl,
        governor: this.#o.governor,
        apiKey: keys.apiKey,
        apiSecret: keys.apiSecret,
        accountId: this.accountId,
      });
      const account = await ExchangeAccount.connect(client, () => this.#reader.exchangeInfo(), this.#o.markets);
      await this.#o.governor.setLimits((await this.#reader.exchangeInfo()).rateLimits);
      this.#account = account;
      if (generation !== this.#generation) return;
      // Open positions get their stop-loss first: as few requests as can be before it (the
      // exchange may be answering 429s), and the balance after.
      await this.#exclusive(() => withPriority('protect', () => this.#keeper.reconcile(true)));
      this.#context.balance = await account.balance();
      if (generation !== this.#generation) return;
      this.#failures = 0;
      const dayStartEquity = await this.#runtime.dayStartEquity(this.#context.balance.equity);
      this.#state.decide(await this.#config(), this.#context.balance.equity, dayStartEquity);
      this.#log.info({ equity: this.#context.balance.equity }, 'trader connected');
      await this.#exclusive(() => withPriority('protect', () => this.#closeRequested()));
      await this.#exclusive(() => withPriority('background', () => this.#snapshot()));
      await this.#exclusive(() => withPriority('background', () => this.#funding.start()));
      // Stream-first: the user data stream says what changes (an order event brings a look at
      // once); the REST pass is a slow safety net, jittered so a pool's accounts spread out.
      this.#every(jittered(this.#o.reconcileMs ?? SAFETY_PASS_MS), 'reconcile', async () => {
        await this.#keeper.reconcile(false);
        this.#context.balance = await this.#context.account().balance();
      });
      // A look at the shared mark prices (no request): funding is fetched only when a funding time has passed.
      this.#every(5_000, 'funding', () => this.#funding.check());
      this.#every(this.#o.snapshotMs ?? 60_000, 'snapshot', () => this.#snapshot());
      this.#every(ATTENTION_MS, 'attention', async () => {
        if (await this.#keeper.needsAttention()) await this.#keeper.reconcile(false);
      });
      this.#every(this.#o.recommendationPollMs ?? 10_000, 'recommendations', () => this.#entries.onRecommendations());
      void this.#followStream(generation, account);
      await this.#exclusive(() => withPriority('entry', () => this.#entries.onRecommendations()));
    } catch (err) {
      if (generation === this.#generation) this.#fail(err);
    }
  }

  /** An error state with backoff: an auth problem waits long, anything else retries sooner. */
  #fail(err: unknown): void {
    const failure = classify(err);
    this.#failures += 1;
    this.#generation += 1;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const base = failure === 'auth' ? 30_000 : 2_000;
    const delay = Math.min(base * 2 ** (this.#failures - 1), failure === 'auth' ? 30 * 60_000 : 60_000);
    const reason = failure === 'auth' ? `API key rejected by the exchange: ${describeError(err)}` : describeError(err);
    this.#state.error(reason);
    this.#log.error({ failure, err: reason, retryInMs: delay }, failure === 'auth' ? 'account in error: API key rejected' : 'account in error: will retry');
    clearTimeout(this.#bootTimer);
    this.#bootTimer = setTimeout(() => void this.#boot(), delay);
  }

  // --- stream, snapshots, heartbeat ---

  async #followStream(generation: number, account: ExchangeAccount): Promise<void> {
    let backoff = 1_000;
    while (generation === this.#generation) {
      try {
        const orders = await account.orderUpdates();
        backoff = 1_000;
        if (orders.length > 0) this.#entries.changed();
        let ended = false;
        for (const o of orders) {
          const purpose = o.clientOrderId && isOurs(o.clientOrderId) ? purposeOf(o.clientOrderId) : undefined;
          if (purpose && o.symbol) {
            this.#records.write({ kind: 'order', row: orderRow(this.accountId, o.symbol, purpose, o, undefined) });
            if (o.state === 'filled' && purpose !== 'entry') await this.#counted(purpose, 'filled');
          }
          // An entry being sent now is protected by its own path (from its fill, or after a lookup).
          if (o.symbol && (o.state === 'filled' || o.state === 'canceled') && !this.#entries.isEntering(o.clientOrderId)) ended = true;
        }
        if (ended) this.#scheduleSync(300);
      } catch (err) {
        if (generation !== this.#generation) return;
        if (classify(err) === 'auth') return this.#fail(err);
        this.#log.warn({ err: describeError(err), retryInMs: backoff }, 'user data stream lost; reconnecting');
        await new Promise((r) => setTimeout(r, backoff));
        // What happened while the stream was away is read once it is back.
        this.#scheduleSync(1_000);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  #scheduleSync(delayMs: number): void {
    clearTimeout(this.#syncTimer);
    // After an order event: a fill may want its protection now.
    this.#syncTimer = setTimeout(() => void this.#task('sync', () => this.#keeper.reconcile(false)), delayMs);
  }

  async #snapshot(): Promise<void> {
    // The wallet as last read (a fill, a close, funding and the safety pass read it again) and the
    // positions valued at the shared mark prices: no request.
    const known =
      this.#context.balance && Date.now() - this.#context.balanceAt < (this.#o.reconcileMs ?? SAFETY_PASS_MS) * 1.2 ? this.#context.balance : undefined;
    const live = known ? await this.#keeper.valuation().catch(() => undefined) : undefined;
    const balance = known && live ? { ...known, equity: live.equity, unrealizedPnl: live.unrealizedPnl } : await this.#context.account().balance();
    if (!known || !live) this.#context.balance = balance;
    const dayStartEquity = await this.#runtime.dayStartEquity(balance.equity);
    this.#records.write({
      kind: 'snapshot',
      row: {
        account_id: this.accountId,
        taken_at: new Date().toISOString(),
        wallet_balance: balance.wallet,
        equity: balance.equity,
        unrealized_pnl: balance.unrealizedPnl,
        available_balance: balance.available,
        open_positions: this.#keeper.openCount,
      },
    });
    this.#metrics.equity.set(balance.equity);
    this.#metrics.unrealized.set(balance.unrealizedPnl);
    this.#metrics.pnlToday.set(balance.equity - dayStartEquity);
    if (this.#state.connected) this.#state.decide(await this.#config(), balance.equity, dayStartEquity);
  }

  async #heartbeat(): Promise<void> {
    const live = await this.#keeper.valuation().catch(() => undefined); // mark prices missing: the last balance stands
    const balance = this.#context.balance;
    const state = this.#state.current;
    await this.#runtime
      .heartbeat({
        state: state === 'stopping' ? 'stopped' : state,
        at: Date.now(),
        equity: live?.equity ?? balance?.equity,
        unrealizedPnl: live?.unrealizedPnl ?? balance?.unrealizedPnl,
        openPositions: this.#keeper.openCount,
        lastError: this.lastError,
      })
      .catch((err) => this.#log.debug({ err: describeError(err) }, 'heartbeat not written (Redis unavailable); the next one follows in 5 s'));
  }

  // --- helpers ---

  /** The account's config: `ats:cfg:{id}`, else its `trading_config` rows, else the defaults. */
  async #config(): Promise<TradingConfig> {
    try {
      let entries = await this.#o.redis.hgetall(redisKeys.config(this.accountId));
      if (Object.keys(entries).length === 0) {
        const rows = await this.#o.db.selectFrom('trading_config').select(['config_key', 'config_value']).where('account_id', '=', this.accountId).execute();
        entries = Object.fromEntries(rows.map((r) => [r.config_key, JSON.stringify(r.config_value)]));
      }
      return parseConfigEntries(entries);
    } catch (err) {
      // A bad or unreadable config must not open anything: protect what is open, enter nothing.
      this.#log.error({ err: describeError(err) }, 'trading config unusable: no new entries until it is fixed');
      return { ...tradingConfigSchema.parse({}), tradingEnabled: false };
    }
  }

  /** The trading state from the config and the balance as known (no request). */
  async #decideState(): Promise<void> {
    const balance = this.#context.balance;
    if (!this.#state.connected || !balance) return;
    this.#state.decide(await this.#config(), balance.equity, await this.#runtime.dayStartEquity(balance.equity));
  }

  /**
   * The account's close request (`spec.closePositions`), when it is new: its positions are
   * closed at market (reduce-only) and the request marked done. A failure is tried again soon.
   */
  async #closeRequested(): Promise<void> {
    const key = redisKeys.closeRequest(this.accountId);
    const [raw, done] = await this.#o.redis.hmget(key, 'request', 'done');
    if (!raw) return;
    const request = parseJson(key, raw, closeRequestSchema);
    if (request.id === done) return;
    try {
      const closed = await this.#keeper.closeNow(request.symbols);
      await this.#o.redis.hset(key, 'done', request.id);
      this.#log.warn(
        { request: request.id, symbols: closed },
        closed.length ? 'positions closed at market on request' : 'close request: no open position to close',
      );
    } catch (err) {
      this.#log.error({ request: request.id, err: describeError(err) }, 'close request failed: trying again in 2 s');
      this.#timers.push(setTimeout(() => void this.#task('close', () => this.#closeRequested()), 2_000));
    }
  }

  async #counted(purpose: OrderPurpose, outcome: 'placed' | 'filled' | 'rejected' | 'failed'): Promise<void> {
    this.#metrics.orders.inc({ purpose, outcome });
    await this.#runtime.count(`orders_${outcome}`);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined); // the caller gets the error; the queue goes on
    return run;
  }

  async #task(step: string, fn: () => Promise<void>): Promise<void> {
    const generation = this.#generation;
    const end = this.#metrics.loop.startTimer({ step });
    try {
      await this.#exclusive(async () => {
        if (generation === this.#generation) await withPriority(STEP_PRIORITY[step] ?? 'reconcile', fn);
      });
    } catch (err) {
      if (classify(err) === 'auth') this.#fail(err);
      else this.#log.warn({ step, err: describeError(err) }, 'trading step failed; will retry');
    } finally {
      end();
    }
  }

  #every(ms: number, step: string, fn: () => Promise<void>): void {
    this.#timers.push(setInterval(() => void this.#task(step, fn), ms));
  }
}
