import type { Recommendation } from '../core/recommendations.js';
import { redisKeys } from '../core/redis-contract.js';
import type { TradingConfig } from '../core/trading-config.js';
import { withPriority } from '../core/exchange/priority.js';
import { clientOrderId } from './client-order-id.js';
import { KNOWN_STATE_MS } from './known-state.js';
import type { TraderContext } from './context.js';
import { classify, describeError } from './errors.js';
import type { PositionKeeper } from './position-keeper.js';
import type { PendingOrder, TrackedPosition } from './runtime-state.js';
import { assessEntry, type DenialReason, type EntryPlan } from './risk.js';
import { orderRow, rejectedOrderRow } from './rows.js';

/** Denials that depend only on the recommendation: decided once, never looked at again. */
const FINAL_DENIALS: ReadonlySet<DenialReason> = new Set(['expired', 'symbol_not_allowed', 'score_below_threshold', 'unknown_market']);
const TAKER_FEE = 0.0005;
/**
 * Denials that change only with the account (its positions, orders, margin, config) or slowly
 * with prices: while nothing happened to the account, the same recommendations get the same
 * answer, so they are looked at again only after an account event or this long.
 */
const ACCOUNT_BOUND: ReadonlySet<DenialReason> = new Set([
  'trading_disabled',
  'position_exists',
  'max_open_positions',
  'max_orders_per_day',
  'insufficient_margin',
  'size_below_minimum',
  'daily_loss_limit',
]);
const RECHECK_MS = 60_000;

/**
 * Entries: each new global recommendation goes through the risk checks once, and an allowed
 * one becomes an entry order with an idempotent client id, its stop-loss and take-profit kept
 * with it until the position keeper has placed them.
 */
export class EntryDesk {
  readonly #lastDenial = new Map<string, DenialReason>();
  /** Recommendations this process has tried to enter (a retry looks its order up first). */
  readonly #tried = new Set<string>();
  /** Client ids of the entries being sent and protected now. */
  readonly #entering = new Set<string>();
  /** Bumped by every account event: the answers of the last look may have changed. */
  #epoch = 0;
  /** The last look that asked the exchange and denied every recommendation for account-bound reasons. */
  #settled: { ids: string; epoch: number; at: number } | undefined;

  constructor(
    private readonly c: TraderContext,
    private readonly keeper: PositionKeeper,
  ) {}

  /** Whether this entry is being sent and protected now: its fill on the stream needs no other look. */
  isEntering(clientOrderId: string | undefined): boolean {
    return clientOrderId !== undefined && this.#entering.has(clientOrderId);
  }

  /** Something that can change an entry's answer happened: an order or account event, a config change. */
  changed(): void {
    this.#epoch += 1;
  }

  async onRecommendations(): Promise<void> {
    if (!this.c.state.connected) return;
    const [snapshot, config, decidedIds] = await Promise.all([
      this.c.reader.recommendations(),
      this.c.config(),
      this.c.redis.smembers(redisKeys.decisions(this.c.accountId)),
    ]);
    if (!snapshot) return;
    const decided = new Set(decidedIds);
    const fresh = snapshot.recommendations.filter((r) => !decided.has(r.id));
    if (fresh.length === 0) return;
    // Undecided recommendations cost no exchange request per poll while nothing has changed.
    const ids = fresh.map((r) => r.id).join(',');
    const settled = this.#settled;
    if (settled && settled.ids === ids && settled.epoch === this.#epoch && Date.now() - settled.at < RECHECK_MS) return;
    const epoch = this.#epoch;
    let allAccountBound = true;
    const account = this.c.account();
    // What the trader knows (stream-first) it does not ask again: a burst of hundreds of accounts
    // would spend the node's budget on it. The equity is valued at the shared mark prices; the
    // exchange still refuses an entry without margin. The runtime state an entry needs comes in
    // one round trip.
    const view = await this.c.runtime.entryView();
    const knownBalance = Date.now() - this.c.balanceAt <= KNOWN_STATE_MS ? this.c.balance : undefined;
    const live = knownBalance ? await this.keeper.valuation(view.positions).catch(() => undefined) : undefined;
    const balance = knownBalance && live ? { ...knownBalance, equity: live.equity, unrealizedPnl: live.unrealizedPnl } : await account.balance();
    if (!knownBalance || !live) this.c.balance = balance;
    const dayStart = Number(view.today.day_start_equity);
    const dayStartEquity = Number.isFinite(dayStart) && view.today.day_start_equity ? dayStart : await this.c.runtime.dayStartEquity(balance.equity);
    const positions = this.keeper.knownPositions(KNOWN_STATE_MS) ?? (await account.positions());
    const pendingEntries = view.pending.filter((p) => p.purpose === 'entry');
    // A tracked position whose records are not settled yet also holds its symbol: a new entry
    // there waits, so two positions never share the symbol's fills.
    const openSymbols = new Set([...positions.keys(), ...view.positions.keys()]);
    // An entry sent (or being sent) holds its symbol too, except for its own recommendation: a
    // retry of that one finds the order by its client id instead of sending another.
    const pendingFor = (rec: Recommendation) => pendingEntries.filter((p) => p.recommendationId !== rec.id).map((p) => p.symbol);
    let available = balance.available;
    let ordersToday = Number(view.today.orders_placed ?? 0);
    for (const rec of fresh) {
      const markPrice = await this.c.reader.markPrice(rec.symbol);
      const decision = assessEntry(rec, {
        config,
        now: Date.now(),
        market: account.rules(rec.symbol),
        markPrice,
        equity: balance.equity,
        available,
        dayStartEquity,
        openSymbols: new Set([...openSymbols, ...pendingFor(rec)]),
        ordersToday,
        takerFee: TAKER_FEE,
      });
      if (!decision.ok) {
        if (decision.reason === 'daily_loss_limit') this.c.state.decide(config, balance.equity, dayStartEquity);
        if (!ACCOUNT_BOUND.has(decision.reason) && !FINAL_DENIALS.has(decision.reason)) allAccountBound = false;
        await this.#deny(rec, decision.reason, decision.detail);
        continue;
      }
      allAccountBound = false;
      if (this.c.state.current !== 'active') continue;
      const firstLook = await this.c.runtime.decideOnce(rec.id);
      // Never sent before: decided just now, no intent of it kept, not tried by this process. A
      // retry, or a start after a crash, looks its order up by client id first.
      const neverSent = firstLook && !this.#tried.has(rec.id) && !view.pending.some((p) => p.recommendationId === rec.id);
      let placed: boolean;
      const entryId = clientOrderId(this.c.accountId, rec.id, 'entry');
      this.#entering.add(entryId);
      try {
        placed = await this.#enter(rec, entryId, decision.plan, config, { neverSent, tracked: view.positions, pending: view.pending });
      } catch (err) {
        // A step before or after the entry failed (a lookup, a 5xx): looked at again next time.
        // The client id keeps it to one entry, and an open position denies a second.
        if (classify(err) !== 'auth') await this.c.runtime.reopen(rec.id).catch(() => undefined);
        throw err;
      } finally {
        this.#entering.delete(entryId);
      }
      if (placed) {
        openSymbols.add(rec.symbol);
        available -= decision.plan.margin;
        ordersToday += 3;
      }
    }
    this.#settled = allAccountBound ? { ids, epoch, at: Date.now() } : undefined;
  }

  async #deny(rec: Recommendation, reason: DenialReason, detail: string): Promise<void> {
    if (FINAL_DENIALS.has(reason)) await this.c.runtime.decideOnce(rec.id);
    if (this.#lastDenial.get(rec.id) === reason) return;
    this.#lastDenial.set(rec.id, reason);
    this.c.metrics.denials.inc({ reason });
    await this.c.runtime.count(`denied:${reason}`);
    this.c.log.info({ recommendation: rec.id, symbol: rec.symbol, reason, detail }, 'recommendation denied');
  }

  /** Opens a position for a recommendation with the entry client id `id`; true when the entry reached the exchange. */
  async #enter(
    rec: Recommendation,
    id: string,
    plan: EntryPlan,
    config: TradingConfig,
    known: { neverSent: boolean; tracked: ReadonlyMap<string, TrackedPosition>; pending: PendingOrder[] },
  ): Promise<boolean> {
    const account = this.c.account();
    if (this.#tried.size > 1_000) this.#tried.clear(); // recommendations live minutes; a restart forgets them too
    this.#tried.add(rec.id);
    const intent: PendingOrder = {
      clientOrderId: id,
      recommendationId: rec.id,
      symbol: plan.symbol,
      purpose: 'entry',
      side: plan.side,
      amount: plan.amount,
      stopLoss: rec.stopLoss,
      takeProfit: rec.takeProfit,
      createdAt: Date.now(),
      expiresAt: rec.expiresAt,
    };
    await this.c.runtime.setPending(intent);
    // A restart or retry finds the entry it already sent instead of sending another.
    let order = known.neverSent ? undefined : await account.findOrder(plan.symbol, id);
    if (!order) {
      try {
        await account.prepare(plan.symbol, plan.leverage, config.marginMode);
        const limit = config.entryType === 'limit' ? Number(account.roundPrice(plan.symbol, rec.entry)) : undefined;
        order = await account.entry(plan.symbol, plan.side, plan.amount, id, limit);
        await this.c.counted('entry', 'placed');
      } catch (err) {
        const failure = classify(err);
        if (failure === 'temporary' || failure === 'rate_limited') {
          // Did the entry reach the exchange after all? If even that cannot be known now, the
          // intent stays pending: a fill is then adopted with its stop-loss and take-profit, and
          // an order still open when the recommendation expires is cancelled.
          try {
            order = await account.findOrder(plan.symbol, id);
          } catch (lookup) {
            this.c.log.warn(
              { recommendation: rec.id, symbol: plan.symbol, err: describeError(err), lookup: describeError(lookup) },
              'entry outcome unknown: kept pending until the exchange answers',
            );
            return false;
          }
        }
        if (!order) {
          await this.c.runtime.removePending(id);
          if (failure === 'auth') throw err;
          // It did not reach the exchange for a passing reason: the recommendation is looked at
          // again at the next look (until it expires); the same client id keeps it to one entry.
          if (failure === 'temporary' || failure === 'rate_limited') await this.c.runtime.reopen(rec.id);
          this.c.records.write({
            kind: 'order',
            row: rejectedOrderRow(this.c.accountId, plan.symbol, 'entry', id, plan.side, plan.amount, rec.id, describeError(err)),
          });
          await this.c.counted('entry', failure === 'rejected' ? 'rejected' : 'failed');
          this.c.log.warn({ recommendation: rec.id, symbol: plan.symbol, failure, err: describeError(err) }, 'entry not placed');
          return false;
        }
      }
    }
    this.c.records.write({ kind: 'order', row: orderRow(this.c.accountId, plan.symbol, 'entry', order, rec.id) });
    this.c.log.info({ recommendation: rec.id, symbol: plan.symbol, side: plan.side, amount: plan.amount, status: order.exchangeStatus }, 'entry placed');
    if (order.state === 'filled') {
      await this.c.counted('entry', 'filled');
      // Its stop-loss is what protects the money now.
      await withPriority('protect', () =>
        this.keeper.protectFilledEntry(order, {
          config,
          tracked: known.tracked,
          pending: [...known.pending, intent],
          fresh: known.neverSent,
          entryOrder: order,
        }),
      );
    }
    return true;
  }
}
