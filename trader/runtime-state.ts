import type { Redis } from 'ioredis';
import type { TraderHeartbeat } from '../core/account-status.js';
import { readHashJson, redisKeys, statsDay } from '../core/redis-contract.js';
import { pendingOrderSchema, trackedPositionSchema, type PendingOrder, type TrackedPosition } from '../core/runtime-values.js';

export type { PendingOrder, TrackedPosition } from '../core/runtime-values.js';

/** A position's identity in the records: its recommendation, or when and where it was adopted. */
export const positionKey = (t: Pick<TrackedPosition, 'recommendationId' | 'symbol' | 'openedAt'>) => t.recommendationId ?? `adopted:${t.symbol}:${t.openedAt}`;

const TWO_DAYS_S = 2 * 24 * 3600;

/** The trader's runtime state in Redis, for display and for surviving a restart. */
export class RuntimeState {
  constructor(
    readonly redis: Redis,
    readonly accountId: string,
    /** Told of an entry of the wrong shape, which is left out (the exchange is asked instead). */
    private readonly onBad: (problem: string) => void = () => undefined,
  ) {}

  async positions(): Promise<Map<string, TrackedPosition>> {
    return readHashJson(this.redis, redisKeys.positions(this.accountId), trackedPositionSchema, (_f, problem) => this.onBad(problem));
  }

  async setPosition(p: TrackedPosition): Promise<void> {
    await this.redis.hset(redisKeys.positions(this.accountId), p.symbol, JSON.stringify(p));
  }

  async removePosition(symbol: string): Promise<void> {
    await this.redis.hdel(redisKeys.positions(this.accountId), symbol);
  }

  async pending(): Promise<PendingOrder[]> {
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
    const [[, value]] = (await this.redis.multi().hincrby(key, field, by).expire(key, TWO_DAYS_S).exec()) as [[unknown, number]];
    return value;
  }

  async today(): Promise<Record<string, string>> {
    return this.redis.hgetall(redisKeys.stats(this.accountId, statsDay()));
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
    const added = await this.redis.sadd(key, recommendationId);
    await this.redis.expire(key, TWO_DAYS_S);
    return added === 1;
  }

  async heartbeat(h: TraderHeartbeat): Promise<void> {
    await this.redis.set(redisKeys.heartbeat(`trader:${this.accountId}`), JSON.stringify(h), 'PX', 30_000);
  }
}
