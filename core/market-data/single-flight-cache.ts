import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { AtsError } from '../errors.js';
import { redisKeys } from '../redis-contract.js';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface SingleFlightOptions {
  /** How long the one fetcher may hold the refresh lock. */
  readonly lockMs?: number;
  /** How long waiting readers wait for the fetcher's value. */
  readonly waitMs?: number;
  readonly pollMs?: number;
}

/**
 * A Redis cache where concurrent misses of one key — in this process or any other — become one
 * upstream request: the first takes a short lock and fetches, the others wait for its value.
 */
export class SingleFlightCache {
  readonly #redis: Redis;
  readonly #inProcess = new Map<string, Promise<unknown>>();
  readonly #lockMs: number;
  readonly #waitMs: number;
  readonly #pollMs: number;

  constructor(redis: Redis, opts: SingleFlightOptions = {}) {
    this.#redis = redis;
    this.#lockMs = opts.lockMs ?? 10_000;
    this.#waitMs = opts.waitMs ?? 15_000;
    this.#pollMs = opts.pollMs ?? 25;
  }

  /** The cached value, checked against its schema; one of the wrong shape is a miss. */
  async get<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const raw = await this.#redis.get(key);
    if (raw === null) return undefined;
    try {
      const parsed = schema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.#redis.set(key, JSON.stringify(value), 'PX', ttlMs);
  }

  /** The cached value, or one fetch of it shared by every concurrent reader. */
  async getOrFetch<T>(key: string, schema: z.ZodType<T>, ttlMs: number, fetcher: () => Promise<T>, accept: (value: T) => boolean = () => true): Promise<T> {
    const cached = await this.get(key, schema);
    if (cached !== undefined && accept(cached)) return cached;
    const pending = this.#inProcess.get(key);
    if (pending) return pending as Promise<T>;
    const flight = this.#fetchOnce(key, schema, ttlMs, fetcher, accept).finally(() => this.#inProcess.delete(key));
    this.#inProcess.set(key, flight);
    return flight;
  }

  async #fetchOnce<T>(key: string, schema: z.ZodType<T>, ttlMs: number, fetcher: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
    const lock = redisKeys.refreshLock(key);
    const deadline = Date.now() + this.#waitMs;
    for (;;) {
      const token = randomBytes(8).toString('hex');
      if ((await this.#redis.set(lock, token, 'PX', this.#lockMs, 'NX')) === 'OK') {
        try {
          const again = await this.get(key, schema);
          if (again !== undefined && accept(again)) return again;
          const value = await fetcher();
          await this.set(key, value, ttlMs);
          return value;
        } finally {
          // Not released (Redis gone): the lock expires by itself after lockMs.
          await this.#redis.eval(RELEASE, 1, lock, token).catch(() => undefined);
        }
      }
      // Someone else is fetching: wait for the value (or for the lock to go, then try again).
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, this.#pollMs));
        const value = await this.get(key, schema);
        if (value !== undefined && accept(value)) return value;
        if ((await this.#redis.exists(lock)) === 0) break;
      }
      if (Date.now() >= deadline) throw new AtsError('ATS_CACHE_TIMEOUT', `timed out waiting for ${key} to be refreshed by another reader`);
    }
  }
}
