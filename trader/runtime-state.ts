import type { Redis } from 'ioredis';
import type { TraderHeartbeat } from '../core/account-status.js';
import { AtsError, describeError } from '../core/errors.js';
import { parseHashJson, readHashJson, redisKeys, statsDay } from '../core/redis-contract.js';
import { pendingOrderSchema, trackedPositionSchema, type PendingOrder, type TrackedPosition } from '../core/runtime-values.js';
import type { TrackingFromRecords } from './tracking-records.js';

export type { PendingOrder, TrackedPosition } from '../core/runtime-values.js';

/** A position's identity in the records: its recommendation, or when and where it was adopted. */
export const positionKey = (t: Pick<TrackedPosition, 'recommendationId' | 'symbol' | 'openedAt'>) => t.recommendationId ?? `adopted:${t.symbol}:${t.openedAt}`;

const TWO_DAYS_S = 2 * 24 * 3600;

/** A failed rebuild is tried again after this long (the callers go on failing meanwhile). */
const REBUILD_RETRY_MS = 5_000;

/**
 * The trader's runtime state in Redis, for display and for surviving a restart. Redis is a
 * cache, never the only copy: when its tracking marker is gone (Redis came back empty), the
 * positions and pending entries are rebuilt from the records before anything reads them.
 */
export class RuntimeState {
  #rebuilding: Promise<void> | undefined;
  #failedAt = 0;
  #failure = '';

  constructor(
    readonly redis: Redis,
    readonly accountId: string,
    /** Told of an entry of the wrong shape, which is left out (the exchange is asked instead). */
    private readonly onBad: (problem: string) => void = () => undefined,
    /** Where the tracking state comes from when Redis has lost it (the trader's records); none: Redis only. */
    private readonly fromRecords?: { read: () => Promise<TrackingFromRecords>; rebuilt: (found: TrackingFromRecords) => void },
  ) {}

  async positions(): Promise<Map<string, TrackedPosition>> {
    await this.#tracking();
    return readHashJson(this.redis, redisKeys.positions(this.accountId), trackedPositionSchema, (_f, problem) => this.onBad(problem));
  }

  /**
   * What an entry's risk checks read, in one round trip: the tracked positions, the pending
   * orders and today's counters (a burst of a hundred accounts makes a hundred such reads).
   */
  async entryView(): Promise<{ positions: Map<string, TrackedPosition>; pending: PendingOrder[]; today: Record<string, string> }> {
    const positions = redisKeys.positions(this.accountId);
    const pending = redisKeys.pendingOrders(this.accountId);
    const read = async () => {
      const replies = (await this.redis
        .pipeline()
        .exists(redisKeys.tracking(this.accountId))
        .hgetall(positions)
        .hgetall(pending)
        .hgetall(redisKeys.stats(this.accountId, statsDay()))
        .exec())!;
      for (const [err] of replies) if (err) throw err;
      return replies.map(([, value]) => value) as [number, Record<string, string>, Record<string, string>, Record<string, string>];
    };
    let replies = await read();
    if (this.fromRecords && replies[0] !== 1) {
      await this.#tracking();
      replies = await read();
    }
    const [, p, o, today] = replies;
    const onBad = (_f: string, problem: string) => this.onBad(problem);
    return {
      positions: parseHashJson(positions, p, trackedPositionSchema, onBad),
      pending: [...parseHashJson(pending, o, pendingOrderSchema, onBad).values()],
      today,
    };
  }

  /**
   * Makes sure Redis holds the tracking state. Until it can be rebuilt, reading it fails: acting
   * on an empty state would take the account's own positions for foreign ones.
   */
  async #tracking(): Promise<void> {
    if (!this.fromRecords || (await this.redis.exists(redisKeys.tracking(this.accountId))) === 1) return;
    if (Date.now() - this.#failedAt < REBUILD_RETRY_MS) {
      throw new AtsError('ATS_TRACKING_NOT_RESTORED', `the tracking state is not in Redis and could not be rebuilt from the records yet: ${this.#failure}`);
    }
    this.#rebuilding ??= this.#rebuild().finally(() => (this.#rebuilding = undefined));
    await this.#rebuilding;
  }

  async #rebuild(): Promise<void> {
    const { read, rebuilt } = this.fromRecords!;
    let found: TrackingFromRecords;
    try {
      found = await read();
    } catch (err) {
      [this.#failedAt, this.#failure] = [Date.now(), describeError(err)];
      throw new AtsError('ATS_TRACKING_NOT_RESTORED', `the tracking state is not in Redis and could not be rebuilt from the records: ${this.#failure}`, {
        cause: err,
      });
    }
    // What Redis holds wins: only what is missing is filled in.
    const tx = this.redis.multi();
    for (const p of found.positions) tx.hsetnx(redisKeys.positions(this.accountId), p.symbol, JSON.stringify(p));
    for (const o of found.pending) tx.hsetnx(redisKeys.pendingOrders(this.accountId), o.clientOrderId, JSON.stringify(o));
    if (found.dayStartEquity !== undefined) {
      const stats = redisKeys.stats(this.accountId, statsDay());
      tx.hsetnx(stats, 'day_start_equity', String(found.dayStartEquity)).expire(stats, TWO_DAYS_S);
    }
    tx.set(redisKeys.tracking(this.accountId), String(Date.now()));
    await tx.exec();
    rebuilt(found);
  }

  async setPosition(p: TrackedPosition): Promise<void> {
    await this.redis.hset(redisKeys.positions(this.accountId), p.symbol, JSON.stringify(p));
  }

  async removePosition(symbol: string): Promise<void> {
    await this.redis.hdel(redisKeys.positions(this.accountId), symbol);
  }

  async pending(): Promise<PendingOrder[]> {
    await this.#tracking();
    return [...(await readHashJson(this.redis, redisKeys.pendingOrders(this.accountId), pendingOrderSchema, (_f, problem) => this.onBad(problem))).values()];
  }

  async setPending(o: PendingOrder): Promise<void> {
    await this.redis.hset(redisKeys.pendingOrders(this.accountId), o.clientOrderId, JSON.stringify(o));
  }

  async removePending(clientOrderId: string): Promise<void> {
    await this.redis.hdel(redisKeys.pendingOrders(this.accountId), clientOrderId);
  }

  /** Adds to today's counters (orders_placed, orders_filled, orders_rejected, denied:<reason>, …). */
  async count(field: string, by = 1): Promise<number> {
    const key = redisKeys.stats(this.accountId, statsDay());
    const value = await this.redis.hincrby(key, field, by);
    // A field counted for the first time today (and so a key made just now) goes with the day.
    if (value === by) await this.redis.expire(key, TWO_DAYS_S);
    return value;
  }

  /** Remembers the first equity seen today (the daily-loss limit measures from it). */
  async dayStartEquity(equity: number): Promise<number> {
    const key = redisKeys.stats(this.accountId, statsDay());
    await this.redis.multi().hsetnx(key, 'day_start_equity', String(equity)).expire(key, TWO_DAYS_S).exec();
    return Number((await this.redis.hget(key, 'day_start_equity')) ?? equity);
  }

  /** Marks a recommendation decided; false if it already was (so a denial is logged once). */
  async decideOnce(recommendationId: string): Promise<boolean> {
    const key = redisKeys.decisions(this.accountId);
    const [[, added]] = (await this.redis.multi().sadd(key, recommendationId).expire(key, TWO_DAYS_S).exec()) as [[unknown, number]];
    return added === 1;
  }

  /** Takes a decision back: the recommendation is looked at again (an entry that did not reach the exchange). */
  async reopen(recommendationId: string): Promise<void> {
    await this.redis.srem(redisKeys.decisions(this.accountId), recommendationId);
  }

  async heartbeat(h: TraderHeartbeat): Promise<void> {
    await this.redis.set(redisKeys.heartbeat(`trader:${this.accountId}`), JSON.stringify(h), 'PX', 30_000);
  }
}
