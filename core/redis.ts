import { Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_REDIS_URL, type Env } from './env.js';

export type { Redis, RedisOptions };

/**
 * One way to connect: the URL from the environment (or the developer default) and the optional
 * key prefix that lets tests and several installations share one Redis.
 */
export function createRedis(env: Pick<Env, 'REDIS_URL' | 'REDIS_KEY_PREFIX'>, options: RedisOptions = {}): Redis {
  return new Redis(env.REDIS_URL ?? DEFAULT_REDIS_URL, {
    keyPrefix: env.REDIS_KEY_PREFIX || undefined,
    // Reconnect forever with a capped delay: a Redis restart must never stop a process.
    retryStrategy: (attempt) => Math.min(200 * attempt, 5_000),
    maxRetriesPerRequest: 2,
    ...options,
  });
}
