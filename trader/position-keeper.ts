import { withPriority } from '../core/exchange/priority.js';
import { decimal } from '../core/decimal.js';
import type { TrackedPosition } from '../core/runtime-values.js';
import type { TradingConfig } from '../core/trading-config.js';
import { clientOrderId, isOurs, purposeOf } from './client-order-id.js';
import type { TraderContext } from './context.js';
import { classify, describeError, isWouldTrigger } from './errors.js';
import type { ExchangeOrder, ExchangePosition } from './exchange-account.js';
import { fillsOfPosition, summarize, type Fill } from './position-fills.js';
import { orderRow, tradeRow } from './rows.js';
import { positionKey, type PendingOrder } from './runtime-state.js';

/** How long a flat position waits for its closing fills to be listed before it is settled anyway. */
const SETTLE_WAIT_MS = 60_000;

/** Where to start looking for a position's fills: just before ats sent its entry; an adopted position's may be older. */

/**
 * What the entry that just filled already knows, under the account's lock (nothing else of the
 * account runs meanwhile): the tracked positions and pending orders as read for its risk checks
 * (with its own intent), and the config. Its protection then reads none of them again.
 */
export interface EntryKnown {
  readonly config: TradingConfig;
  readonly tracked: ReadonlyMap<string, TrackedPosition>;
  readonly pending: PendingOrder[];
  /**
   * The entry was sent for the first time just now (not a retry, not after a restart): no
   * protective order of its position can exist yet, so none is looked for. (Its stop-loss goes
   * out even beside a stop placed by hand on the symbol.)
   */
  readonly fresh?: boolean;
  /** The entry's filled order as the exchange answered it (already recorded by the entry). */
  readonly entryOrder?: ExchangeOrder;
}

const fillsSince = (t: TrackedPosition) => (t.recommendationId ? t.openedAt - 5_000 : undefined);

/**
 * Position keeping, with the exchange as the truth: every open position is tracked and
 * protected (stop-loss, take-profit), a position found untracked is adopted, one that went flat
 * is settled into the records from exactly its own fills, and what a closed position leaves
 * behind (the other protective order, an expired limit entry) is cancelled.
 */
export class PositionKeeper {
  /** The symbols with an open position, and those of them without a stop-loss, at the last look at each. */
  #openSymbols = new Set<string>();
  #unprotectedSymbols = new Set<string>();
  /** Positions seen flat whose closing fills the exchange has not listed yet, since when. */
  readonly #unsettledSince = new Map<string, number>();

  constructor(private readonly c: TraderContext) {}

  #positions: { all: Map<string, ExchangePosition>; at: number } | undefined;

  async #readPositions(): Promise<Map<string, ExchangePosition>> {
    const all = await this.c.account().positions();
    this.#positions = { all, at: Date.now() };
    return all;
  }

  /** Open positions at the last reconciliation. */
  get openCount(): number {
    return this.#openSymbols.size;
  }

  /** The account's positions as last read from the exchange, if not older than `maxAgeMs`. */
  knownPositions(maxAgeMs: number): Map<string, ExchangePosition> | undefined {
    return this.#positions && Date.now() - this.#positions.at <= maxAgeMs ? this.#positions.all : undefined;
  }

  async reconcile(full: boolean): Promise<void> {
    const account = this.c.account();
    const tracked = await this.c.runtime.positions();
    // The positions and the open triggers of the tracked symbols at once: one round trip before
    // the stop-losses (a restart); a position found untracked costs one more. Per symbol, a
    // listing weighs 1 where the account's whole listing weighs 40: a pool of hundreds of
    // accounts starting at once would spend minutes of the node's budget on it.
    const known = [...tracked.keys()];
    const [positions, first] = await Promise.all([this.#readPositions(), Promise.all(known.map((s) => account.openTriggers(s)))]);
    const extra = [...positions.keys()].filter((s) => !tracked.has(s));
    const triggers = [...first.flat(), ...(await Promise.all(extra.map((s) => account.openTriggers(s)))).flat()];
    await this.#settle(positions, tracked, triggers);
    // On start, what a previous run tracked may not be in the records yet: it can be killed
    // between tracking a position and writing its rows. After protection: a stop-loss never waits
    // for bookkeeping. Every write here is idempotent.
    if (!full) return;
    for (const [symbol, t] of tracked) {
      if (!positions.has(symbol)) continue;
      await this.#recordOpening(t);
      await this.#recordFills(symbol, fillsSince(t));
    }
  }

  /** The rows a position starts with: its opening and, for an ats entry, the entry order as the exchange has it. */
  async #recordOpening(t: TrackedPosition): Promise<void> {
    this.#recordOpen(t);
    if (!t.recommendationId) return;
    const id = clientOrderId(this.c.accountId, t.recommendationId, 'entry');
    const entry = await this.c.account().findOrder(t.symbol, id);
    if (!entry) return;
    this.c.records.write({ kind: 'order', row: orderRow(this.c.accountId, t.symbol, 'entry', entry, t.recommendationId) });
    // Killed between tracking the position and forgetting the intent: the intent goes now.
    if (entry.state !== 'open') await this.c.runtime.removePending(id);
  }

  #recordOpen(t: TrackedPosition): void {
    this.c.records.write({
      kind: 'position_open',
      row: {
        account_id: this.c.accountId,
        position_key: positionKey(t),
        symbol: t.symbol,
        side: t.side,
        quantity: String(t.amount),
        entry_price: String(t.entryPrice),
        recommendation_id: t.recommendationId ?? null,
        opened_at: new Date(t.openedAt).toISOString(),
      },
    });
  }

  /**
   * A market entry that filled, for a symbol with no position before: the position is what the
   * fill says, so its stop-loss and take-profit go out with no positions read, and after a look
   * at the symbol's open triggers (weight 1) only when the entry may have been sent before.
   * Anything else is looked at on the exchange.
   */
  async protectFilledEntry(order: ExchangeOrder, known?: EntryKnown): Promise<void> {
    const [amount, entryPrice] = [Number(order.filledQuantity), Number(order.averagePrice)];
    const tracked = known?.tracked ?? (await this.c.runtime.positions());
    if (!(amount > 0 && entryPrice > 0) || tracked.has(order.symbol)) return this.reconcileSymbols([order.symbol]);
    const position: ExchangePosition = {
      symbol: order.symbol,
      side: order.side === 'buy' ? 'long' : 'short',
      amount,
      entryPrice,
      markPrice: entryPrice,
      unrealizedPnl: 0,
    };
    const triggers = known?.fresh ? [] : await this.c.account().openTriggers(order.symbol);
    await this.#settle(new Map([[order.symbol, position]]), new Map(), triggers, known, [order.symbol]);
  }

  /** Reconciles just these symbols (after a fill): cheaper than a full pass. */
  async reconcileSymbols(symbols: string[]): Promise<void> {
    const account = this.c.account();
    const tracked = await this.c.runtime.positions();
    const all = await this.#readPositions();
    const positions = new Map([...all].filter(([s]) => symbols.includes(s)));
    const mine = new Map([...tracked].filter(([s]) => symbols.includes(s)));
    const triggers = (await Promise.all(symbols.map((s) => account.openTriggers(s)))).flat();
    await this.#settle(positions, mine, triggers, undefined, symbols);
  }

  /**
   * Tracks, protects and settles what the exchange says for `scope`'s symbols (every symbol when
   * unset): a look at one symbol leaves what is known of the others as it was.
   */
  async #settle(
    positions: Map<string, ExchangePosition>,
    tracked: Map<string, TrackedPosition>,
    triggers: ExchangeOrder[],
    known?: EntryKnown,
    scope?: readonly string[],
  ): Promise<void> {
    const config = known?.config ?? (await this.c.config());
    const pending = known?.pending ?? (await this.c.runtime.pending());
    const unprotected = new Set<string>();
    for (const [symbol, p] of positions) {
      let t = tracked.get(symbol);
      const adopted = !t;
      const intent = pending.find((x) => x.purpose === 'entry' && x.symbol === symbol);
      const entryOrder = intent && known?.entryOrder?.clientOrderId === intent.clientOrderId ? known.entryOrder : undefined;
      if (!t) t = await this.#adopt(symbol, p, intent, config, entryOrder?.id);
      else if (t.amount !== p.amount || t.entryPrice !== p.entryPrice) {
        this.c.records.write({
          kind: 'position_update',
          row: { account_id: this.c.accountId, position_key: positionKey(t), quantity: String(p.amount), entry_price: String(p.entryPrice) },
        });
      }
      const current: TrackedPosition = { ...t, amount: p.amount, entryPrice: p.entryPrice, markPrice: p.markPrice, unrealizedPnl: p.unrealizedPnl };
      // (An adopted position was just stored as it is.)
      if (!adopted) await this.c.runtime.setPosition(current);
      const protectedNow = await this.#protect(
        current,
        triggers.filter((o) => o.symbol === symbol),
        config,
      );
      if (!protectedNow) unprotected.add(symbol);
      if (adopted) {
        // Bookkeeping, after the protection and behind every stop-loss and entry at the node's budget.
        await withPriority('background', async () => {
          if (intent) await this.#recordEntry(symbol, intent, entryOrder);
          await this.#recordFills(symbol, fillsSince(current));
          // The entry's fee moved the wallet: the live equity starts from the new balance.
          this.c.balance = await this.c
            .account()
            .balance()
            .catch(() => this.c.balance);
        });
      }
    }
    for (const [symbol, t] of tracked) if (!positions.has(symbol)) await this.#finalizeClose(symbol, t);
    // A limit entry still (partly) unfilled when its recommendation expires is cancelled, freeing the symbol.
    for (const p of pending) {
      if (p.purpose !== 'entry' || p.expiresAt === undefined || p.expiresAt > Date.now()) continue;
      const order = await this.c.account().findOrder(p.symbol, p.clientOrderId);
      if (order && order.state === 'open') {
        const cancelled = await this.c.account().cancelOrder(p.symbol, order.id);
        this.c.records.write({ kind: 'order', row: orderRow(this.c.accountId, p.symbol, 'entry', cancelled, p.recommendationId) });
        await this.c.runtime.count('orders_cancelled');
        this.c.log.info({ symbol: p.symbol, recommendation: p.recommendationId }, 'entry not filled before its recommendation expired: cancelled');
      }
      await this.c.runtime.removePending(p.clientOrderId);
    }
    // The protective order left behind when the other one closed the position.
    for (const o of triggers) {
      const symbol = o.symbol;
      if (positions.has(symbol) || !isOurs(o.clientOrderId)) continue;
      await this.c.account().cancelTrigger(symbol, o.id);
      this.c.records.write({
        kind: 'order',
        row: { ...orderRow(this.c.accountId, symbol, purposeOf(o.clientOrderId!) ?? 'stop_loss', o, undefined), status: 'CANCELED' },
      });
      await this.c.runtime.count('orders_cancelled');
      this.c.log.info({ symbol, clientOrderId: o.clientOrderId }, 'cancelled the remaining protective order of a closed position');
    }
    if (scope) {
      for (const symbol of scope) {
        this.#openSymbols.delete(symbol);
        this.#unprotectedSymbols.delete(symbol);
      }
      for (const symbol of positions.keys()) this.#openSymbols.add(symbol);
      for (const symbol of unprotected) this.#unprotectedSymbols.add(symbol);
    } else {
      this.#openSymbols = new Set(positions.keys());
      this.#unprotectedSymbols = unprotected;
    }
    this.c.metrics.openPositions.set(this.#openSymbols.size);
    this.c.metrics.unprotected.set(this.#unprotectedSymbols.size);
    // (An entry's protection leaves the status to the next heartbeat, at most 5 s away.)
    if (!known) await this.c.heartbeat();
  }

  /**
   * Whether the last pass left something to finish soon: a position without its stop-loss, or an
   * entry still pending. The trader then looks again within seconds instead of at the next safety pass.
   */
  async needsAttention(): Promise<boolean> {
    if (this.#unprotectedSymbols.size > 0) return true;
    return (await this.c.runtime.pending()).some((p) => p.purpose === 'entry');
  }

  /**
   * A position found on the exchange that is not tracked: from an entry cut short by a restart,
   * or opened outside ats. Tracked at once with its stop-loss and take-profit (the entry intent's,
   * or the fallback stop) and no request: its protection comes next, its bookkeeping after that.
   */
  async #adopt(
    symbol: string,
    p: ExchangePosition,
    intent: PendingOrder | undefined,
    config: TradingConfig,
    entryOrderId: string | undefined,
  ): Promise<TrackedPosition> {
    const stopDistance = (p.entryPrice * config.fallbackStopPercent) / 100;
    const t: TrackedPosition = {
      symbol,
      side: p.side,
      amount: p.amount,
      entryPrice: p.entryPrice,
      markPrice: p.markPrice,
      unrealizedPnl: p.unrealizedPnl,
      stopLoss: intent?.stopLoss ?? (p.side === 'long' ? p.entryPrice - stopDistance : p.entryPrice + stopDistance),
      takeProfit: intent?.takeProfit,
      recommendationId: intent?.recommendationId,
      openedAt: intent?.createdAt ?? Date.now(),
      ...(entryOrderId ? { entryOrderId } : {}),
    };
    // Track the position before forgetting the intent: at every moment one of them holds the
    // stop-loss and take-profit, whenever the process is killed.
    await this.c.runtime.setPosition(t);
    if (intent) {
      this.c.log.info(
        { symbol, side: p.side, amount: p.amount, entryPrice: p.entryPrice, recommendation: intent.recommendationId },
        'entry filled: placing its stop-loss and take-profit',
      );
    } else {
      this.c.log.warn({ symbol, amount: p.amount, side: p.side }, 'adopted a position ats did not open; protecting it with the fallback stop');
    }
    this.#recordOpen(t);
    return t;
  }

  /**
   * An adopted position's entry order, once the position is protected: its row, its id on the
   * position, and the intent forgotten. An entry's own path knows its filled order and has
   * recorded it: only the intent is left to forget.
   */
  async #recordEntry(symbol: string, intent: PendingOrder, known: ExchangeOrder | undefined): Promise<void> {
    if (known) return this.c.runtime.removePending(intent.clientOrderId);
    const entry = await this.c.account().findOrder(symbol, intent.clientOrderId);
    if (entry) {
      const t = (await this.c.runtime.positions()).get(symbol);
      if (t) await this.c.runtime.setPosition({ ...t, entryOrderId: entry.id });
      this.c.records.write({ kind: 'order', row: orderRow(this.c.accountId, symbol, 'entry', entry, intent.recommendationId) });
    }
    // A partly filled limit entry keeps its intent: the rest is cancelled when the recommendation expires.
    if (entry?.state !== 'open') await this.c.runtime.removePending(intent.clientOrderId);
  }

  /** Makes sure the position has its stop-loss (and take-profit when known); false if it still lacks a stop. */
  async #protect(t: TrackedPosition, triggers: ExchangeOrder[], config: TradingConfig): Promise<boolean> {
    const account = this.c.account();
    const key = positionKey(t);
    let hasStop = false;
    for (const kind of ['stop_loss', 'take_profit'] as const) {
      const price = kind === 'stop_loss' ? t.stopLoss : t.takeProfit;
      const id = clientOrderId(this.c.accountId, key, kind);
      const existing = triggers.find((o) => o.clientOrderId === id || o.protection === kind);
      if (existing) {
        hasStop ||= kind === 'stop_loss';
        continue;
      }
      if (price === undefined) continue;
      try {
        const order = await account.protect(t.symbol, t.side, kind, price, id);
        this.c.records.write({ kind: 'order', row: orderRow(this.c.accountId, t.symbol, kind, order, t.recommendationId) });
        await this.c.counted(kind, 'placed');
        this.c.log.info({ symbol: t.symbol, kind, triggerPrice: price }, 'protective order placed');
        hasStop ||= kind === 'stop_loss';
      } catch (err) {
        const failure = classify(err);
        if (failure === 'auth') throw err;
        if (isWouldTrigger(err) || (failure === 'rejected' && kind === 'stop_loss')) {
          // Never leave a position without its stop: the price is already past it, so close now.
          this.c.log.warn(
            { symbol: t.symbol, kind, triggerPrice: price, err: describeError(err) },
            'protective order cannot be placed: closing the position at market',
          );
          await this.#closeNow(t);
          return true;
        }
        await this.c.counted(kind, 'failed');
        if (kind === 'stop_loss' && (await this.#stopOverdue(t, config, err))) return true;
        this.c.log.warn({ symbol: t.symbol, kind, failure, err: describeError(err) }, 'protective order not placed yet: retrying shortly');
        this.c.scheduleSync(1_000);
      }
    }
    if (hasStop && t.unprotectedSince !== undefined) {
      const { unprotectedSince: _, ...protectedNow } = t;
      await this.c.runtime.setPosition(protectedNow);
    }
    return hasStop;
  }

  /**
   * A stop-loss the exchange keeps refusing to take (an outage, 5xx, 429): after the account's
   * `stopLossDeadlineSeconds` the position is closed at market instead of staying unprotected.
   */
  async #stopOverdue(t: TrackedPosition, config: TradingConfig, err: unknown): Promise<boolean> {
    const key = positionKey(t);
    const since = t.unprotectedSince ?? Date.now();
    if (t.unprotectedSince === undefined) await this.c.runtime.setPosition({ ...t, unprotectedSince: since });
    const missingMs = Date.now() - since;
    if (missingMs < config.stopLossDeadlineSeconds * 1_000) return false;
    this.c.log.error(
      { symbol: t.symbol, position: key, unprotectedMs: missingMs, deadlineSeconds: config.stopLossDeadlineSeconds, err: describeError(err) },
      'stop-loss could not be placed in time: closing the position at market',
    );
    try {
      await this.#closeNow(t);
    } catch (closeErr) {
      // The close failed too: the next pass (in a second) tries again.
      this.c.log.error({ symbol: t.symbol, position: key, err: describeError(closeErr) }, 'closing the unprotected position failed: retrying');
      this.c.scheduleSync(1_000);
      return false;
    }
    return true;
  }

  /** Closes the tracked positions of these symbols (all when none are named) at market; returns the symbols. */
  async closeNow(symbols: readonly string[]): Promise<string[]> {
    const tracked = [...(await this.c.runtime.positions()).values()].filter((t) => symbols.length === 0 || symbols.includes(t.symbol));
    for (const t of tracked) await this.#closeNow(t);
    return tracked.map((t) => t.symbol);
  }

  async #closeNow(t: TrackedPosition): Promise<void> {
    const id = this.#closeOrderId(t);
    const existing = await this.c.account().findOrder(t.symbol, id);
    const order = existing ?? (await this.c.account().closePosition(t.symbol, t, id));
    this.c.records.write({ kind: 'order', row: orderRow(this.c.accountId, t.symbol, 'close', order, t.recommendationId) });
    if (!existing) await this.c.counted('close', 'placed');
    this.c.scheduleSync(500);
  }

  /**
   * Settles a position the exchange shows flat: its records come from exactly its own fills
   * (found from its entry order forward until flat), summed as decimals.
   */
  async #finalizeClose(symbol: string, t: TrackedPosition): Promise<void> {
    const account = this.c.account();
    const key = positionKey(t);
    const own = new Map<string, string>();
    let entryOrderId = t.entryOrderId;
    if (!entryOrderId && t.recommendationId) {
      const entry = await account.findOrder(symbol, clientOrderId(this.c.accountId, t.recommendationId, 'entry'));
      entryOrderId = entry?.id;
    }
    if (entryOrderId && t.recommendationId) own.set(entryOrderId, clientOrderId(this.c.accountId, t.recommendationId, 'entry'));
    for (const kind of ['stop_loss', 'take_profit'] as const) {
      const id = clientOrderId(this.c.accountId, key, kind);
      const order = await account.findOrder(symbol, id, true);
      if (!order) continue;
      this.c.records.write({ kind: 'order', row: orderRow(this.c.accountId, symbol, kind, order, t.recommendationId) });
      const placed = order.triggeredOrderId;
      if (placed) own.set(placed, id);
    }
    const closeId = this.#closeOrderId(t);
    const close = await account.findOrder(symbol, closeId);
    if (close) own.set(close.id, closeId);

    const found = fillsOfPosition(await this.#recordFills(symbol, fillsSince(t)), new Set(entryOrderId ? [entryOrderId] : []));
    if (!found?.closed) {
      // The exchange may list the closing fill a moment after the position shows flat.
      const since = this.#unsettledSince.get(key) ?? Date.now();
      this.#unsettledSince.set(key, since);
      if (Date.now() - since < SETTLE_WAIT_MS) return this.c.scheduleSync(2_000);
      this.c.log.error(
        { symbol, position: key, fills: found?.fills.length ?? 0 },
        'the fills of a closed position are incomplete on the exchange: recorded with the fills found',
      );
    }
    this.#unsettledSince.delete(key);
    const fills = found?.fills ?? [];
    const result = summarize(fills, t.side);
    const exit = result.exitPrice === undefined ? null : account.roundPrice(symbol, result.exitPrice);
    if (result.otherFees.length > 0) this.c.log.warn({ symbol, otherFees: result.otherFees }, "fees paid in another asset are not in the position's USDT fees");
    this.c.records.write({
      kind: 'position_close',
      row: {
        account_id: this.c.accountId,
        position_key: key,
        symbol,
        quantity: result.quantity,
        entry_price: account.roundPrice(symbol, result.entryPrice),
        exit_price: exit,
        realized_pnl: result.realizedPnl,
        fees: result.fees,
        closed_at: new Date(fills.at(-1)?.time ?? Date.now()).toISOString(),
        fills: fills.map((f) => ({ tradeId: f.id, clientOrderId: own.get(f.orderId) ?? null })),
      },
    });
    await this.c.runtime.removePosition(symbol);
    await this.c.runtime.count('positions_closed');
    const net = decimal.sub(result.realizedPnl, result.fees);
    this.c.metrics.realized.inc(Number(net));
    this.c.balance = await account.balance().catch(() => this.c.balance);
    this.c.log.info(
      { symbol, side: t.side, entry: result.entryPrice, exit, realizedPnl: result.realizedPnl, fees: result.fees, recommendation: t.recommendationId },
      'position closed',
    );
  }

  #closeOrderId(t: TrackedPosition): string {
    return clientOrderId(this.c.accountId, `${t.recommendationId ?? t.symbol}:${t.openedAt}`, 'close');
  }

  /** Records the symbol's fills (idempotent by trade id) and returns them. */
  async #recordFills(symbol: string, since: number | undefined): Promise<Fill[]> {
    const fills = await this.c.account().fills(symbol, since);
    for (const f of fills) this.c.records.write({ kind: 'trade', row: tradeRow(this.c.accountId, symbol, f) });
    return fills;
  }

  /**
   * Equity and unrealized PnL now: the wallet (refreshed after every fill) plus the open
   * positions valued at the shared, stream-fed mark prices, so status is live between snapshots.
   */
  /** The equity at the shared mark prices, from the last balance and the tracked positions (read now unless given). */
  async valuation(positions?: ReadonlyMap<string, TrackedPosition>): Promise<{ equity: number; unrealizedPnl: number } | undefined> {
    if (!this.c.balance) return undefined;
    const tracked = [...(positions ?? (await this.c.runtime.positions())).values()];
    const marks = tracked.length > 0 ? (await this.c.reader.markPrices()).prices : {};
    const unrealizedPnl = tracked.reduce((sum, t) => {
      const mark = marks[t.symbol]?.markPrice ?? t.markPrice;
      return sum + (mark - t.entryPrice) * t.amount * (t.side === 'long' ? 1 : -1);
    }, 0);
    return { equity: this.c.balance.wallet + unrealizedPnl, unrealizedPnl };
  }
}
