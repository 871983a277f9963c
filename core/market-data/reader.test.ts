import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRedis, type TestRedis } from '../../testing/services.js';
import { publishSnapshot, type Recommendation } from '../recommendations.js';
import { redisKeys } from '../redis-contract.js';
import { MarketDataReader } from './reader.js';

const rec = (id: string): Recommendation => ({
  id,
  symbol: 'BTCUSDT',
  side: 'long',
  entry: 100,
  stopLoss: 95,
  takeProfit: 110,
  score: 0.9,
  reason: 'test',
  strategy: 'test',
  interval: '1h',
  barTime: 0,
  expiresAt: Date.now() + 60_000,
});

describe("a process's readers share one read of each recommendations snapshot", () => {
  let r: TestRedis;
  let reader: MarketDataReader;

  beforeAll(() => {
    r = createTestRedis();
    reader = new MarketDataReader({ redis: r.redis, upstream: () => Promise.reject(new Error('no upstream in this test')) });
  });
  afterAll(() => r.cleanup());

  it('gives a hundred readers one parsed snapshot, and a new one as soon as it is published', async () => {
    expect(await reader.recommendations()).toBeUndefined();
    await publishSnapshot(r.redis, [rec('a')]);
    const first = await Promise.all(Array.from({ length: 100 }, () => reader.recommendations()));
    expect(new Set(first).size).toBe(1);
    expect(first[0]!.recommendations.map((x) => x.id)).toEqual(['a']);
    await publishSnapshot(r.redis, [rec('b')]);
    expect((await reader.recommendations())!.recommendations.map((x) => x.id)).toEqual(['b']);
    // Redis back empty counts versions from 1 again: a new snapshot is still new.
    await r.redis.del(redisKeys.recommendationsVersion());
    await publishSnapshot(r.redis, [rec('c')]);
    const after = (await reader.recommendations())!;
    expect([after.version, after.recommendations.map((x) => x.id)]).toEqual([1, ['c']]);
  });
});
