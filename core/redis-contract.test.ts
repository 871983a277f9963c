import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRedis, type TestRedis } from '../testing/services.js';
import { SingleFlightCache } from './market-data/single-flight-cache.js';
import { markPricesSchema } from './market-data/types.js';
import { parseJson, readHashJson, readJson, redisKeys, redisValues } from './redis-contract.js';
import { trackedPositionSchema } from './runtime-values.js';

describe('the Redis contract', () => {
  let r: TestRedis;
  beforeAll(() => {
    r = createTestRedis();
  });
  afterAll(async () => r.cleanup());

  it('has a schema for every key', () => {
    expect(Object.keys(redisValues).sort()).toEqual(Object.keys(redisKeys).sort());
  });

  it('reads a value through its schema, and names the key of one that does not fit', async () => {
    const key = redisKeys.markPriceAll();
    await r.redis.set(key, JSON.stringify({ updatedAt: 1, source: 'stream', prices: { BTCUSDT: { markPrice: 1, time: 1 } } }));
    expect((await readJson(r.redis, key, markPricesSchema))?.prices.BTCUSDT?.markPrice).toBe(1);
    await r.redis.set(key, JSON.stringify({ updatedAt: 1, source: 'carrier pigeon', prices: {} }));
    await expect(readJson(r.redis, key, markPricesSchema)).rejects.toThrow(/^Redis ats:md:mark_price:all: unexpected value \(source: /);
    expect(() => parseJson('k', '{not json', markPricesSchema)).toThrow('Redis k: not JSON');
    expect(await readJson(r.redis, 'ats:absent', markPricesSchema)).toBeUndefined();
  });

  it('leaves a damaged hash field out and reports it, keeping the others', async () => {
    const key = redisKeys.positions('alice');
    const good = { symbol: 'BTCUSDT', side: 'long', amount: 0.1, entryPrice: 1, markPrice: 1, unrealizedPnl: 0, openedAt: 1 };
    await r.redis.hset(key, 'BTCUSDT', JSON.stringify(good), 'ETHUSDT', JSON.stringify({ symbol: 'ETHUSDT', side: 'sideways' }));
    const bad: string[] = [];
    const read = await readHashJson(r.redis, key, trackedPositionSchema, (field) => bad.push(field));
    expect([...read.keys()]).toEqual(['BTCUSDT']);
    expect(bad).toEqual(['ETHUSDT']);
  });

  it('treats a cached value of the wrong shape as a miss and fetches it again', async () => {
    const cache = new SingleFlightCache(r.redis);
    const key = redisKeys.markPriceAll();
    await r.redis.set(key, JSON.stringify({ wrong: true }));
    let fetched = 0;
    const value = await cache.getOrFetch(key, markPricesSchema, 5_000, async () => {
      fetched += 1;
      return { updatedAt: 2, source: 'rest' as const, prices: {} };
    });
    expect(fetched).toBe(1);
    expect(value.updatedAt).toBe(2);
  });
});
