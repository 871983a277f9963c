import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KeyPair } from '../core/credentials/key-pair.js';
import type { Db } from '../core/db/connection.js';
import type { BinanceClient } from '../core/exchange/binance-client.js';
import { createGovernedClient } from '../core/exchange/governed-factory.js';
import type { RateGovernor } from '../core/exchange/governor.js';
import { MarketDataReader } from '../core/market-data/reader.js';
import { recommendationsSnapshotSchema, type Recommendation } from '../core/recommendations.js';
import { readJson, redisKeys } from '../core/redis-contract.js';
import { parseConfigEntries, tradingConfigSchema, type TradingConfig } from '../core/trading-config.js';
import { clientOrderId, isOurs, purposeOf, type Purpose } from './client-order-id.js';
import { classify, describeError, isWouldTrigger } from './errors.js';
import { ExchangeAccount, type Balance, type ExchangePosition } from './exchange-account.js';
import { traderMetrics, TRADER_STATES, type TraderMetrics, type TraderState } from './metrics.js';
import { RecordWriter } from './records.js';
import { assessEntry, type DenialReason, type EntryPlan } from './risk.js';
import { orderRow, rejectedOrderRow, tradeRow } from './rows.js';
import { positionKey, RuntimeState, type TrackedPosition } from './runtime-state.js';
import { fillsOfPosition, summarize, type Fill } from './position-fills.js';
import { decimal } from '../core/decimal.js';

type Order = Awaited<ReturnType<BinanceClient['fetchOrder']>>;

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
}

/** Denials that depend only on the recommendation: decided once, never looked at again. */
const FINAL_DENIALS: ReadonlySet<DenialReason> = new Set(['expired', 'symbol_not_allowed', 'score_below_threshold', 'unknown_market']);
const TAKER_FEE = 0.0005;
/** How long a flat position waits for its closing fills to be listed before it is settled anyway. */
const SETTLE_WAIT_MS = 60_000;

/** Where to start looking for a position's fills: just before ats sent its entry; an adopted position's may be older. */
const fillsSince = (t: TrackedPosition) => (t.recommendationId ? t.openedAt - 5_000 : undefined);

/**
 * One account's automated trading. It acts on the global recommendations through explicit risk
 * checks, opens positions and protects each at once with a stop-loss and a take-profit, follows
 * the account on the user data stream with REST reconciliation as the safety net, and records
 * everything per account. Its states: starting → active | paused | halted, error (with backoff),
 * stopping.
 */
export class Trader {
  readonly accountId: string;
  readonly #o: TraderOptions;
  readonly #log: Logger;
  readonly #runtime: RuntimeState;
  readonly #records: RecordWriter;
  readonly #reader: MarketDataReader;
  readonly #metrics: TraderMetrics;
  readonly #subscriber: Redis;
  #client: BinanceClient | undefined;
  #account: ExchangeAccount | undefined;
  #state: TraderState = 'starting';
  #lastError: string | undefined;
  #balance: Balance | undefined;
  #dayStartEquity: number | undefined;
  #openCount = 0;
  #timers: NodeJS.Timeout[] = [];
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #bootTimer: NodeJS.Timeout | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #generation = 0;
  #lock: Promise<unknown> = Promise.resolve();
  readonly #lastDenial = new Map<string, DenialReason>();
  /** Positions seen flat whose closing fills the exchange has not listed yet, since when. */
  readonly #unsettledSince = new Map<string, number>();

  constructor(opts: TraderOptions) {
    this.#o = opts;
    this.accountId = opts.accountId;
    this.#log = opts.logger.child({ account_id: opts.accountId });
    this.#runtime = new RuntimeState(opts.redis, opts.accountId, (problem) => this.#log.error({ problem }, 'damaged runtime state in Redis: left out, the exchange is asked instead'));
    this.#records = new RecordWriter({ db: opts.db, redis: opts.redis, accountId: opts.accountId, logger: this.#log });
    this.#reader = new MarketDataReader({ redis: opts.redis, upstream: () => createGovernedClient({ exchange: opts.exchange, wsUrl: opts.wsUrl, governor: opts.governor }) });
    this.#metrics = traderMetrics(opts.registry);
    this.#subscriber = opts.redis.duplicate({ lazyConnect: true });
    this.#subscriber.on('error', () => undefined);
  }

  get state(): TraderState {
    return this.#state;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  async start(): Promise<void> {
    await this.#records.restore().catch((err) => this.#log.warn({ err: describeError(err) }, 'could not read the record outbox'));
    this.#records.write({ kind: 'account', row: { id: this.accountId, name: this.accountId, exchange: this.#o.exchange ?? 'simulator' } });
    // Connect first, then subscribe: a SUBSCRIBE queued while the connection was still being
    // made was seen to get lost, leaving the trader deaf to notifications.
    await this.#subscriber.connect();
    await this.#subscriber.subscribe(redisKeys.recommendationsChannel(), redisKeys.configChannel(this.accountId));
    this.#subscriber.on('message', (channel) => {
      if (channel === redisKeys.recommendationsChannel()) void this.#task('recommendations', () => this.#onRecommendations());
      else void this.#task('config', () => this.#onRecommendations());
    });
    this.#heartbeatTimer = setInterval(() => void this.#heartbeat(), 5_000);
    this.#setState('starting');
    await this.#boot();
  }

  /** SIGTERM: no new entries; protective orders stay on the exchange; records are flushed. */
  async stop(): Promise<void> {
    this.#generation += 1;
    this.#setState('stopping');
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#bootTimer);
    clearTimeout(this.#syncTimer);
    clearInterval(this.#heartbeatTimer);
    await this.#lock.catch(() => undefined);
    const flushed = await this.#records.drain(10_000);
    if (!flushed) this.#log.warn({ waiting: this.#records.waiting }, 'stopping with records still waiting for Postgres (kept in the outbox)');
    this.#records.stop();
    await this.#client?.close().catch(() => undefined);
    await this.#reader.close();
    await this.#heartbeat();
    this.#subscriber.disconnect();
    this.#log.info('trader stopped');
  }

  // --- start-up and failure ---

  async #boot(): Promise<void> {
    const generation = ++this.#generation;
    try {
      const keys = await this.#o.credentials();
      await this.#client?.close().catch(() => undefined);
      const client = await createGovernedClient({ exchange: this.#o.exchange, wsUrl: this.#o.wsUrl, governor: this.#o.governor, apiKey: keys.apiKey, apiSecret: keys.apiSecret, accountId: this.accountId });
      // Markets come from marketdata's cache, not from the exchange.
      (client as unknown as { fapiPublicGetExchangeInfo: () => Promise<unknown> }).fapiPublicGetExchangeInfo = () => this.#reader.exchangeInfo();
      await client.loadMarkets();
      await this.#o.governor.setLimits((await this.#reader.exchangeInfo()).rateLimits);
      this.#client = client;
      this.#account = new ExchangeAccount(client);
      this.#balance = await this.#account.balance();
      if (generation !== this.#generation) return;
      this.#failures = 0;
      this.#lastError = undefined;
      this.#setState('active');
      this.#log.info({ equity: this.#balance.equity }, 'trader connected');
      await this.#exclusive(() => this.#reconcile(true));
      await this.#exclusive(() => this.#snapshot());
      this.#every(this.#o.reconcileMs ?? 30_000, 'reconcile', () => this.#reconcile(false));
      this.#every(this.#o.snapshotMs ?? 60_000, 'snapshot', () => this.#snapshot());
      this.#every(this.#o.recommendationPollMs ?? 10_000, 'recommendations', () => this.#onRecommendations());
      void this.#followStream(generation, client);
      await this.#exclusive(() => this.#onRecommendations());
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
    this.#lastError = failure === 'auth' ? `API key rejected by the exchange: ${describeError(err)}` : describeError(err);
    this.#setState('error');
    this.#log.error({ failure, err: this.#lastError, retryInMs: delay }, failure === 'auth' ? 'account in error: API key rejected' : 'account in error: will retry');
    clearTimeout(this.#bootTimer);
    this.#bootTimer = setTimeout(() => void this.#boot(), delay);
  }

  // --- recommendations ---

  async #onRecommendations(): Promise<void> {
    if (!this.#account || !['active', 'paused', 'halted'].includes(this.#state)) return;
    const snapshot = await readJson(this.#o.redis, redisKeys.recommendationsSnapshot(), recommendationsSnapshotSchema);
    const config = await this.#config();
    if (!snapshot) return;
    const decided = new Set(await this.#o.redis.smembers(redisKeys.decisions(this.accountId)));
    const fresh = snapshot.recommendations.filter((r) => !decided.has(r.id));
    if (fresh.length === 0) return;
    const account = this.#account;
    const balance = await account.balance();
    this.#balance = balance;
    const dayStartEquity = await this.#runtime.dayStartEquity(balance.equity);
    const positions = await account.positions();
    const pendingEntries = (await this.#runtime.pending()).filter((p) => p.purpose === 'entry');
    // A tracked position whose records are not settled yet also holds its symbol: a new entry
    // there waits, so two positions never share the symbol's fills.
    const tracked = await this.#runtime.positions();
    const openSymbols = new Set([...positions.keys(), ...tracked.keys(), ...pendingEntries.map((p) => p.symbol)]);
    let available = balance.available;
    let ordersToday = Number((await this.#runtime.today()).orders_placed ?? 0);
    for (const rec of fresh) {
      const markPrice = await this.#reader.markPrice(rec.symbol);
      const decision = assessEntry(rec, {
        config, now: Date.now(), market: account.rules(rec.symbol), markPrice, equity: balance.equity, available,
        dayStartEquity, openSymbols, ordersToday, takerFee: TAKER_FEE,
      });
      if (!decision.ok) {
        if (decision.reason === 'daily_loss_limit') this.#setState('halted');
        await this.#deny(rec, decision.reason, decision.detail);
        continue;
      }
      if (this.#state !== 'active') continue;
      await this.#runtime.decideOnce(rec.id);
      const placed = await this.#enter(rec, decision.plan, config);
      if (placed) {
        openSymbols.add(rec.symbol);
        available -= decision.plan.margin;
        ordersToday += 3;
      }
    }
  }

  async #deny(rec: Recommendation, reason: DenialReason, detail: string): Promise<void> {
    if (FINAL_DENIALS.has(reason)) await this.#runtime.decideOnce(rec.id);
    if (this.#lastDenial.get(rec.id) === reason) return;
    this.#lastDenial.set(rec.id, reason);
    this.#metrics.denials.inc({ reason });
    await this.#runtime.count(`denied:${reason}`);
    this.#log.info({ recommendation: rec.id, symbol: rec.symbol, reason, detail }, 'recommendation denied');
  }

  /** Opens a position for a recommendation; true when the entry reached the exchange. */
  async #enter(rec: Recommendation, plan: EntryPlan, config: TradingConfig): Promise<boolean> {
    const account = this.#account!;
    const id = clientOrderId(this.accountId, rec.id, 'entry');
    await this.#runtime.setPending({
      clientOrderId: id, recommendationId: rec.id, symbol: plan.symbol, purpose: 'entry', side: plan.side, amount: plan.amount,
      stopLoss: rec.stopLoss, takeProfit: rec.takeProfit, createdAt: Date.now(), expiresAt: rec.expiresAt,
    });
    // A restart or retry finds the entry it already sent instead of sending another.
    let order = await account.findOrder(plan.symbol, id);
    if (!order) {
      try {
        await account.prepare(plan.symbol, plan.leverage, config.marginMode);
        const limit = config.entryType === 'limit' ? Number(account.roundPrice(plan.symbol, rec.entry)) : undefined;
        order = await account.entry(plan.symbol, plan.side, plan.amount, id, limit);
        await this.#counted('entry', 'placed');
      } catch (err) {
        const failure = classify(err);
        if (failure === 'temporary' || failure === 'rate_limited') order = await account.findOrder(plan.symbol, id).catch(() => undefined);
        if (!order) {
          await this.#runtime.removePending(id);
          if (failure === 'auth') throw err;
          this.#records.write({ kind: 'order', row: rejectedOrderRow(this.accountId, plan.symbol, 'entry', id, plan.side, plan.amount, rec.id, describeError(err)) });
          await this.#counted('entry', failure === 'rejected' ? 'rejected' : 'failed');
          this.#log.warn({ recommendation: rec.id, symbol: plan.symbol, failure, err: describeError(err) }, 'entry not placed');
          return false;
        }
      }
    }
    this.#records.write({ kind: 'order', row: orderRow(this.accountId, plan.symbol, 'entry', order, rec.id) });
    this.#log.info({ recommendation: rec.id, symbol: plan.symbol, side: plan.side, amount: plan.amount, status: order.status }, 'entry placed');
    if (order.status === 'closed') {
      await this.#counted('entry', 'filled');
      await this.#reconcileSymbols([plan.symbol]);
    }
    return true;
  }

  // --- reconciliation: the exchange is the truth ---

  async #reconcile(full: boolean): Promise<void> {
    const account = this.#account;
    if (!account) return;
    const tracked = await this.#runtime.positions();
    const positions = await account.positions();
    const symbols = [...new Set([...positions.keys(), ...tracked.keys()])];
    const triggers = full ? await account.openTriggers() : (await Promise.all(symbols.map((s) => account.openTriggers(s)))).flat();
    // On start, fills of positions a previous run tracked may not have been recorded yet.
    if (full) for (const [symbol, t] of tracked) if (positions.has(symbol)) await this.#recordFills(symbol, fillsSince(t));
    await this.#settle(positions, tracked, triggers);
  }

  /** Reconciles just these symbols (after a fill): cheaper than a full pass. */
  async #reconcileSymbols(symbols: string[]): Promise<void> {
    const account = this.#account!;
    const tracked = await this.#runtime.positions();
    const all = await account.positions();
    const positions = new Map([...all].filter(([s]) => symbols.includes(s)));
    const mine = new Map([...tracked].filter(([s]) => symbols.includes(s)));
    const triggers = (await Promise.all(symbols.map((s) => account.openTriggers(s)))).flat();
    await this.#settle(positions, mine, triggers);
  }

  async #settle(positions: Map<string, ExchangePosition>, tracked: Map<string, TrackedPosition>, triggers: Order[]): Promise<void> {
    const config = await this.#config();
    const pending = await this.#runtime.pending();
    let unprotected = 0;
    for (const [symbol, p] of positions) {
      let t = tracked.get(symbol);
      if (!t) t = await this.#adopt(symbol, p, pending, config);
      else if (t.amount !== p.amount || t.entryPrice !== p.entryPrice) {
        this.#records.write({ kind: 'position_update', row: { account_id: this.accountId, position_key: positionKey(t), quantity: String(p.amount), entry_price: String(p.entryPrice) } });
      }
      const current: TrackedPosition = { ...t, amount: p.amount, entryPrice: p.entryPrice, markPrice: p.markPrice, unrealizedPnl: p.unrealizedPnl };
      await this.#runtime.setPosition(current);
      const protectedNow = await this.#protect(current, triggers.filter((o) => triggerSymbol(o) === symbol));
      if (!protectedNow) unprotected += 1;
    }
    for (const [symbol, t] of tracked) if (!positions.has(symbol)) await this.#finalizeClose(symbol, t);
    // A limit entry still (partly) unfilled when its recommendation expires is cancelled, freeing the symbol.
    for (const p of pending) {
      if (p.purpose !== 'entry' || p.expiresAt === undefined || p.expiresAt > Date.now()) continue;
      const order = await this.#account!.findOrder(p.symbol, p.clientOrderId);
      if (order && order.status === 'open') {
        const cancelled = await this.#account!.cancelOrder(p.symbol, String(order.id));
        this.#records.write({ kind: 'order', row: orderRow(this.accountId, p.symbol, 'entry', cancelled, p.recommendationId) });
        await this.#runtime.count('orders_cancelled');
        this.#log.info({ symbol: p.symbol, recommendation: p.recommendationId }, 'entry not filled before its recommendation expired: cancelled');
      }
      await this.#runtime.removePending(p.clientOrderId);
    }
    // The protective order left behind when the other one closed the position.
    for (const o of triggers) {
      const symbol = triggerSymbol(o);
      if (positions.has(symbol) || !isOurs(o.clientOrderId)) continue;
      await this.#account!.cancelTrigger(symbol, String(o.id));
      this.#records.write({ kind: 'order', row: { ...orderRow(this.accountId, symbol, purposeOf(o.clientOrderId!) ?? 'stop_loss', o, undefined), status: 'CANCELED' } });
      await this.#runtime.count('orders_cancelled');
      this.#log.info({ symbol, clientOrderId: o.clientOrderId }, 'cancelled the remaining protective order of a closed position');
    }
    this.#openCount = positions.size;
    this.#metrics.openPositions.set(positions.size);
    this.#metrics.unprotected.set(unprotected);
    await this.#heartbeat();
  }

  /** A position found on the exchange that is not tracked: from an entry cut short by a restart, or opened outside ats. */
  async #adopt(symbol: string, p: ExchangePosition, pending: Awaited<ReturnType<RuntimeState['pending']>>, config: TradingConfig): Promise<TrackedPosition> {
    const intent = pending.find((x) => x.purpose === 'entry' && x.symbol === symbol);
    const stopDistance = (p.entryPrice * config.fallbackStopPercent) / 100;
    let t: TrackedPosition = {
      symbol, side: p.side, amount: p.amount, entryPrice: p.entryPrice, markPrice: p.markPrice, unrealizedPnl: p.unrealizedPnl,
      stopLoss: intent?.stopLoss ?? (p.side === 'long' ? p.entryPrice - stopDistance : p.entryPrice + stopDistance),
      takeProfit: intent?.takeProfit, recommendationId: intent?.recommendationId, openedAt: intent?.createdAt ?? Date.now(),
    };
    // Track the position before forgetting the intent: at every moment one of them holds the
    // stop-loss and take-profit, whenever the process is killed.
    await this.#runtime.setPosition(t);
    if (intent) {
      const entry = await this.#account!.findOrder(symbol, intent.clientOrderId);
      if (entry) {
        t = { ...t, entryOrderId: String(entry.id) };
        await this.#runtime.setPosition(t);
        this.#records.write({ kind: 'order', row: orderRow(this.accountId, symbol, 'entry', entry, intent.recommendationId) });
      }
      // A partly filled limit entry keeps its intent: the rest is cancelled when the recommendation expires.
      if (entry?.status !== 'open') await this.#runtime.removePending(intent.clientOrderId);
      this.#log.info({ symbol, side: p.side, amount: p.amount, entryPrice: p.entryPrice, recommendation: intent.recommendationId }, 'entry filled: placing its stop-loss and take-profit');
    } else {
      this.#log.warn({ symbol, amount: p.amount, side: p.side }, 'adopted a position ats did not open; protecting it with the fallback stop');
    }
    this.#records.write({ kind: 'position_open', row: {
      account_id: this.accountId, position_key: positionKey(t), symbol, side: p.side, quantity: String(p.amount), entry_price: String(p.entryPrice),
      recommendation_id: t.recommendationId ?? null, opened_at: new Date(t.openedAt).toISOString(),
    } });
    await this.#recordFills(symbol, fillsSince(t));
    // The entry's fee moved the wallet: the live equity starts from the new balance.
    this.#balance = await this.#account!.balance().catch(() => this.#balance);
    return t;
  }

  /** Makes sure the position has its stop-loss (and take-profit when known); false if it still lacks a stop. */
  async #protect(t: TrackedPosition, triggers: Order[]): Promise<boolean> {
    const account = this.#account!;
    const key = positionKey(t);
    let hasStop = false;
    for (const kind of ['stop_loss', 'take_profit'] as const) {
      const price = kind === 'stop_loss' ? t.stopLoss : t.takeProfit;
      const id = clientOrderId(this.accountId, key, kind);
      const existing = triggers.find((o) => o.clientOrderId === id || protectionKind(o) === kind);
      if (existing) {
        hasStop ||= kind === 'stop_loss';
        continue;
      }
      if (price === undefined) continue;
      try {
        const order = await account.protect(t.symbol, t.side, kind, price, id);
        this.#records.write({ kind: 'order', row: orderRow(this.accountId, t.symbol, kind, order, t.recommendationId) });
        await this.#counted(kind, 'placed');
        this.#log.info({ symbol: t.symbol, kind, triggerPrice: price }, 'protective order placed');
        hasStop ||= kind === 'stop_loss';
      } catch (err) {
        const failure = classify(err);
        if (failure === 'auth') throw err;
        if (isWouldTrigger(err) || (failure === 'rejected' && kind === 'stop_loss')) {
          // Never leave a position without its stop: the price is already past it, so close now.
          this.#log.warn({ symbol: t.symbol, kind, triggerPrice: price, err: describeError(err) }, 'protective order cannot be placed: closing the position at market');
          await this.#closeNow(t);
          return true;
        }
        await this.#counted(kind, 'failed');
        this.#log.warn({ symbol: t.symbol, kind, failure, err: describeError(err) }, 'protective order not placed yet: retrying shortly');
        this.#scheduleSync(2_000);
      }
    }
    return hasStop;
  }

  async #closeNow(t: TrackedPosition): Promise<void> {
    const id = this.#closeOrderId(t);
    const existing = await this.#account!.findOrder(t.symbol, id);
    const order = existing ?? (await this.#account!.close(t.symbol, t, id));
    this.#records.write({ kind: 'order', row: orderRow(this.accountId, t.symbol, 'close', order, t.recommendationId) });
    if (!existing) await this.#counted('close', 'placed');
    this.#scheduleSync(500);
  }

  /**
   * Settles a position the exchange shows flat: its records come from exactly its own fills
   * (found from its entry order forward until flat), summed as decimals.
   */
  async #finalizeClose(symbol: string, t: TrackedPosition): Promise<void> {
    const account = this.#account!;
    const key = positionKey(t);
    const own = new Map<string, string>();
    let entryOrderId = t.entryOrderId;
    if (!entryOrderId && t.recommendationId) {
      const entry = await account.findOrder(symbol, clientOrderId(this.accountId, t.recommendationId, 'entry')).catch(() => undefined);
      entryOrderId = entry ? String(entry.id) : undefined;
    }
    if (entryOrderId && t.recommendationId) own.set(entryOrderId, clientOrderId(this.accountId, t.recommendationId, 'entry'));
    for (const kind of ['stop_loss', 'take_profit'] as const) {
      const id = clientOrderId(this.accountId, key, kind);
      const order = await account.findOrder(symbol, id, true).catch(() => undefined);
      if (!order) continue;
      this.#records.write({ kind: 'order', row: orderRow(this.accountId, symbol, kind, order, t.recommendationId) });
      const placed = account.triggeredOrderId(order);
      if (placed) own.set(placed, id);
    }
    const closeId = this.#closeOrderId(t);
    const close = await account.findOrder(symbol, closeId).catch(() => undefined);
    if (close) own.set(String(close.id), closeId);

    const found = fillsOfPosition(await this.#recordFills(symbol, fillsSince(t)), new Set(entryOrderId ? [entryOrderId] : []));
    if (!found?.closed) {
      // The exchange may list the closing fill a moment after the position shows flat.
      const since = this.#unsettledSince.get(key) ?? Date.now();
      this.#unsettledSince.set(key, since);
      if (Date.now() - since < SETTLE_WAIT_MS) return this.#scheduleSync(2_000);
      this.#log.error({ symbol, position: key, fills: found?.fills.length ?? 0 }, 'the fills of a closed position are incomplete on the exchange: recorded with the fills found');
    }
    this.#unsettledSince.delete(key);
    const fills = found?.fills ?? [];
    const result = summarize(fills, t.side);
    const exit = result.exitPrice === undefined ? null : account.roundPrice(symbol, result.exitPrice);
    if (result.otherFees.length > 0) this.#log.warn({ symbol, otherFees: result.otherFees }, 'fees paid in another asset are not in the position\'s USDT fees');
    this.#records.write({ kind: 'position_close', row: {
      account_id: this.accountId, position_key: key, symbol, quantity: result.quantity, entry_price: account.roundPrice(symbol, result.entryPrice),
      exit_price: exit, realized_pnl: result.realizedPnl, fees: result.fees, closed_at: new Date(fills.at(-1)?.time ?? Date.now()).toISOString(),
      fills: fills.map((f) => ({ tradeId: f.id, clientOrderId: own.get(f.orderId) ?? null })),
    } });
    await this.#runtime.removePosition(symbol);
    await this.#runtime.count('positions_closed');
    const net = decimal.sub(result.realizedPnl, result.fees);
    this.#metrics.realized.inc(Number(net));
    this.#balance = await account.balance().catch(() => this.#balance);
    this.#log.info({ symbol, side: t.side, entry: result.entryPrice, exit, realizedPnl: result.realizedPnl, fees: result.fees, recommendation: t.recommendationId }, 'position closed');
  }

  #closeOrderId(t: TrackedPosition): string {
    return clientOrderId(this.accountId, `${t.recommendationId ?? t.symbol}:${t.openedAt}`, 'close');
  }

  /** Records the symbol's fills (idempotent by trade id) and returns them. */
  async #recordFills(symbol: string, since: number | undefined): Promise<Fill[]> {
    const fills = await this.#account!.fills(symbol, since);
    for (const f of fills) this.#records.write({ kind: 'trade', row: tradeRow(this.accountId, symbol, f) });
    return fills;
  }

  // --- stream, snapshots, heartbeat ---

  async #followStream(generation: number, client: BinanceClient): Promise<void> {
    let backoff = 1_000;
    while (generation === this.#generation) {
      try {
        const orders = await client.watchOrders();
        backoff = 1_000;
        const symbols = new Set<string>();
        for (const o of orders) {
          const symbol = String((o.info as Record<string, string>).s ?? (o.info as Record<string, string>).symbol ?? '');
          if (isOurs(o.clientOrderId) && symbol) {
            const purpose = purposeOf(o.clientOrderId!) as Purpose;
            this.#records.write({ kind: 'order', row: orderRow(this.accountId, symbol, purpose, o, undefined) });
            if (o.status === 'closed' && purpose !== 'entry') await this.#counted(purpose, 'filled');
          }
          if (symbol && (o.status === 'closed' || o.status === 'canceled')) symbols.add(symbol);
        }
        if (symbols.size > 0) this.#scheduleSync(300);
      } catch (err) {
        if (generation !== this.#generation) return;
        if (classify(err) === 'auth') return this.#fail(err);
        this.#log.warn({ err: describeError(err), retryInMs: backoff }, 'user data stream lost; reconnecting');
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  #scheduleSync(delayMs: number): void {
    clearTimeout(this.#syncTimer);
    this.#syncTimer = setTimeout(() => void this.#task('reconcile', () => this.#reconcile(false)), delayMs);
  }

  async #snapshot(): Promise<void> {
    const balance = await this.#account!.balance();
    this.#balance = balance;
    this.#dayStartEquity = await this.#runtime.dayStartEquity(balance.equity);
    this.#records.write({ kind: 'snapshot', row: {
      account_id: this.accountId, taken_at: new Date().toISOString(), wallet_balance: balance.wallet, equity: balance.equity,
      unrealized_pnl: balance.unrealizedPnl, available_balance: balance.available, open_positions: this.#openCount,
    } });
    this.#metrics.equity.set(balance.equity);
    this.#metrics.unrealized.set(balance.unrealizedPnl);
    this.#metrics.pnlToday.set(balance.equity - this.#dayStartEquity);
    const config = await this.#config();
    if (this.#state === 'active' || this.#state === 'paused' || this.#state === 'halted') {
      const loss = this.#dayStartEquity > 0 ? ((this.#dayStartEquity - balance.equity) / this.#dayStartEquity) * 100 : 0;
      this.#setState(loss >= config.dailyLossLimitPercent ? 'halted' : config.tradingEnabled ? 'active' : 'paused');
    }
  }

  async #heartbeat(): Promise<void> {
    const live = await this.#valuation().catch(() => undefined);
    await this.#runtime.heartbeat({
      state: this.#state === 'stopping' ? 'stopped' : this.#state, at: Date.now(), equity: live?.equity ?? this.#balance?.equity,
      unrealizedPnl: live?.unrealizedPnl ?? this.#balance?.unrealizedPnl, openPositions: this.#openCount, lastError: this.#lastError,
    }).catch(() => undefined);
  }

  /**
   * Equity and unrealized PnL now: the wallet (refreshed after every fill) plus the open
   * positions valued at the shared, stream-fed mark prices, so status is live between snapshots.
   */
  async #valuation(): Promise<{ equity: number; unrealizedPnl: number } | undefined> {
    if (!this.#balance) return undefined;
    const tracked = [...(await this.#runtime.positions()).values()];
    const marks = tracked.length > 0 ? (await this.#reader.markPrices()).prices : {};
    const unrealizedPnl = tracked.reduce((sum, t) => {
      const mark = marks[t.symbol]?.markPrice ?? t.markPrice;
      return sum + (mark - t.entryPrice) * t.amount * (t.side === 'long' ? 1 : -1);
    }, 0);
    return { equity: this.#balance.wallet + unrealizedPnl, unrealizedPnl };
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

  #setState(state: TraderState): void {
    if (this.#state !== state) this.#log.info({ from: this.#state, to: state }, 'trading state changed');
    this.#state = state;
    for (const s of TRADER_STATES) this.#metrics.state.set({ state: s }, s === state ? 1 : 0);
    void this.#heartbeat();
  }

  async #counted(purpose: Purpose, outcome: 'placed' | 'filled' | 'rejected' | 'failed'): Promise<void> {
    this.#metrics.orders.inc({ purpose, outcome });
    await this.#runtime.count(`orders_${outcome}`);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async #task(step: string, fn: () => Promise<void>): Promise<void> {
    const generation = this.#generation;
    const end = this.#metrics.loop.startTimer({ step });
    try {
      await this.#exclusive(async () => {
        if (generation === this.#generation) await fn();
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

const triggerSymbol = (o: Order) => String((o.info as Record<string, string>).symbol ?? '');

function protectionKind(o: Order): 'stop_loss' | 'take_profit' | undefined {
  const type = String((o.info as Record<string, string>).orderType ?? (o.info as Record<string, string>).type ?? o.type ?? '').toUpperCase();
  if (type.startsWith('STOP')) return 'stop_loss';
  if (type.startsWith('TAKE_PROFIT')) return 'take_profit';
  return undefined;
}
