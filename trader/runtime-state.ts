import type { Redis } from 'ioredis';
import { redisKeys, statsDay } from '../core/redis-keys.js';
import type { ExchangePosition } from './exchange-account.js';

/** An open position as the trader tracks it (`ats:positions:{account_id}`, one field per symbol). */
export interface TrackedPosition extends ExchangePosition {
  readonly stopLoss: number | undefined;
  readonly takeProfit: number | undefined;
  readonly recommendationId: string | undefined;
  readonly openedAt: number;
  /** The exchange id of the order that opened it, when ats opened it: its fills start there. */
  readonly entryOrderId?: string | undefined;
}

/** A position's identity in the records: its recommendation, or when and where it was adopted. */
export const positionKey = (t: Pick<TrackedPosition, 'recommendationId' | 'symbol' | 'openedAt'>) =>
  t.recommendationId ?? `adopted:${t.symbol}:${t.openedAt}`;

/** An order the trader is placing or has placed and not yet seen finished (`ats:orders:pending:{account_id}`). */
export interface PendingOrder {
  readonly clientOrderId: string;
  readonly recommendationId: string;
  readonly symbol: string;
  readonly purpose: 'entry' | 'stop_loss' | 'take_profit' | 'close';
  readonly side: 'buy' | 'sell';
  readonly amount: number;
  readonly stopLoss: number;
  readonly takeProfit: number;
  readonly createdAt: number;
  /** The recommendation's expiry: an entry still unfilled then is cancelled. */
  readonly expiresAt?: number;
}

export interface Heartbeat {
  readonly state: string;
  readonly at: number;
  readonly equity: number | undefined;
  readonly unrealizedPnl: number | undefined;
  readonly openPositions: number;
  readonly lastError: string | undefined;
}

const TWO_DAYS_S = 2 * 24 * 3600;

/** The trader's runtime state in Redis, for display and for surviving a restart. */
export class RuntimeState {
  constructor(
    readonly redis: Redis,
    readonly accountId: string,
  ) {}

  async positions(): Promise<Map<string, TrackedPosition>> {
    const all = await this.redis.hgetall(redisKeys.positions(this.accountId));
    return new Map(Object.entries(all).map(([symbol, json]) => [symbol, JSON.parse(json) as TrackedPosition]));
  }

  async setPosition(p: TrackedPosition): Promise<void> {
    await this.redis.hset(redisKeys.positions(this.accountId), p.symbol, JSON.stringify(p));
  }

  async removePosition(symbol: string): Promise<void> {
    await this.redis.hdel(redisKeys.positions(this.accountId), symbol);
  }

  async pending(): Promise<PendingOrder[]> {
    const all = await this.redis.hgetall(redisKeys.pendingOrders(this.accountId));
    return Object.values(all).map((json) => JSON.parse(json) as PendingOrder);
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

  async heartbeat(h: Heartbeat): Promise<void> {
    await this.redis.set(redisKeys.heartbeat(`trader:${this.accountId}`), JSON.stringify(h), 'PX', 30_000);
  }
}
