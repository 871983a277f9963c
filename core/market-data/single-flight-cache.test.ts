import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../redis.js';
import { createTestRedis, type TestRedis } from '../../testing/services.js';
import { startTestSimulator, type TestSimulator } from '../../testing/simulator.js';
import { createGovernedClient } from '../exchange/governed-factory.js';
import { RateGovernor } from '../exchange/governor.js';
import { redisKeys } from '../redis-contract.js';
import { MarketDataReader } from './reader.js';

describe('market data reader', () => {
  let t: TestSimulator;
  let r: TestRedis;

  beforeAll(async () => {
    t = await startTestSimulator();
    r = createTestRedis();
  });
  afterAll(async () => {
    await r.cleanup();
    await t.close();
  });

  it('turns 50 concurrent misses of one kline key, from 50 separate readers, into one upstream request', async () => {
    const readers = Array.from({ length: 50 }, () => {
      const redis = createRedis(r.env);
      const governor = new RateGovernor({ redis });
      return { redis, reader: new MarketDataReader({ redis, upstream: () => createGovernedClient({ exchange: t.url, governor }) }) };
    });
    await t.admin('DELETE', '/counters');
    const results = await Promise.all(readers.map(({ reader }) => reader.klines('ETHUSDT', '15m', 77)));
    const counters = await t.admin<{ requestsByEndpoint: Record<string, number> }>('GET', '/counters');
    expect(counters.requestsByEndpoint['GET /fapi/v1/klines']).toBe(1);
    expect(new Set(results.map((k) => JSON.stringify(k.candles))).size).toBe(1);
    expect(results[0]!.candles).toHaveLength(77);
    const ttl = await r.redis.pttl(redisKeys.klines('ETHUSDT', '15m', 77));
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    await Promise.all(
      readers.map(async ({ reader, redis }) => {
        await reader.close();
        redis.disconnect();
      }),
    );
  });

  it('serves mark prices when marketdata is down, fetched once for all readers', async () => {
    const redis = createRedis(r.env);
    const governor = new RateGovernor({ redis });
    const reader = new MarketDataReader({ redis, upstream: () => createGovernedClient({ exchange: t.url, governor }) });
    await t.admin('DELETE', '/counters');
    const all = await Promise.all(Array.from({ length: 20 }, () => reader.markPrices()));
    expect(all[0]!.prices.BTCUSDT!.markPrice).toBeGreaterThan(0);
    expect(all[0]!.source).toBe('rest');
    const counters = await t.admin<{ requestsByEndpoint: Record<string, number> }>('GET', '/counters');
    expect(counters.requestsByEndpoint['GET /fapi/v1/premiumIndex']).toBe(1);
    await reader.close();
    redis.disconnect();
  });
});
