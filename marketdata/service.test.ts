import { MARK_PRICE_MAX_AGE_MS } from '../core/market-data/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../core/redis.js';
import { redisKeys } from '../core/redis-contract.js';
import { createTestRedis, type TestRedis } from '../testing/services.js';
import { startTestSimulator, type TestSimulator } from '../testing/simulator.js';
import { createGovernedClient } from '../core/exchange/governed-factory.js';
import { RateGovernor } from '../core/exchange/governor.js';
import { MarketDataReader } from '../core/market-data/reader.js';
import type { MarkPrices } from '../core/market-data/types.js';
import { testMarketdata } from '../testing/marketdata.js';
import { until } from '../testing/until.js';

describe('marketdata service', () => {
  let t: TestSimulator;
  let r: TestRedis;
  let md: Awaited<ReturnType<typeof testMarketdata>>;

  beforeAll(async () => {
    t = await startTestSimulator({ speed: 60 });
    r = createTestRedis();
    md = await testMarketdata(r, t.url, undefined, { tickerIntervalMs: 3_600_000, scanIntervalMs: 3_600_000 });
    md.service.start();
    await until(async () => (await r.redis.exists(redisKeys.markPriceAll(), redisKeys.ticker24hAll(), redisKeys.exchangeInfo())) === 3);
  });
  afterAll(async () => {
    await md.close();
    await r.cleanup();
    await t.close();
  });

  const markPrices = async () => JSON.parse((await r.redis.get(redisKeys.markPriceAll())) ?? 'null') as MarkPrices | null;

  it('owns the user-named keys with the user TTLs', async () => {
    const raw = createRedis({ REDIS_URL: r.env.REDIS_URL, REDIS_KEY_PREFIX: '' });
    const names = (await raw.keys(`${r.prefix}ats:md:*`)).map((k) => k.slice(r.prefix.length)).sort();
    expect(names).toEqual(expect.arrayContaining(['ats:md:exchange_info', 'ats:md:mark_price:all', 'ats:md:ticker_24h:all']));
    raw.disconnect();
    const markTtl = await r.redis.pttl(redisKeys.markPriceAll());
    expect(markTtl).toBeGreaterThan(0);
    expect(markTtl).toBeLessThanOrEqual(5_000);
    const tickerTtl = await r.redis.pttl(redisKeys.ticker24hAll());
    expect(tickerTtl).toBeGreaterThan(10_000);
    expect(tickerTtl).toBeLessThanOrEqual(30_000);
    await md.service.reader.klines('BTCUSDT', '1h', 100);
    const klineTtl = await r.redis.pttl(redisKeys.klines('BTCUSDT', '1h', 100));
    expect(klineTtl).toBeGreaterThan(30_000);
    expect(klineTtl).toBeLessThanOrEqual(120_000);
  });

  it('keeps mark prices under 5 s old from the stream, and through a dropped socket by REST', async () => {
    const ages: number[] = [];
    const sources: string[] = [];
    const sample = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const m = await markPrices();
        ages.push(m ? Date.now() - m.updatedAt : Infinity);
        if (m) sources.push(m.source);
        await new Promise((res) => setTimeout(res, 200));
      }
    };
    await until(async () => (await markPrices())?.source === 'stream', 15_000);
    await sample(2_500);
    // The stream feeds the cache; on a loaded machine a gap over 2.5 s may bring one REST poll in.
    const fromStream = sources.filter((s) => s === 'stream').length;
    expect(fromStream, sources.join(',')).toBeGreaterThanOrEqual(sources.length * 0.75);
    await t.admin('POST', '/faults', { dropSockets: true });
    await sample(6_000);
    expect(Math.max(...ages)).toBeLessThan(5_000);
    const metrics = await md.registry.getSingleMetricAsString('ats_marketdata_stream_reconnects_total');
    expect(metrics).toMatch(/ats_marketdata_stream_reconnects_total \d+/);
    await until(async () => (await markPrices())?.source === 'stream', 15_000);
  });

  it('costs the same public weight for 50 readers as for 1 (only the cache misses)', async () => {
    const measure = async (readers: number) => {
      const conns = Array.from({ length: readers }, () => {
        const redis = createRedis(r.env);
        const governor = new RateGovernor({ redis });
        return { redis, reader: new MarketDataReader({ redis, upstream: () => createGovernedClient({ exchange: t.url, governor }) }) };
      });
      await r.redis.del(redisKeys.klines('SOLUSDT', '1h', 120));
      // Tickers are polled rarely in this test; refresh the key so it cannot lapse mid-run.
      await r.redis.pexpire(redisKeys.ticker24hAll(), 30_000);
      await t.admin('DELETE', '/counters');
      const end = Date.now() + 3_000;
      await Promise.all(
        conns.map(async ({ reader }) => {
          while (Date.now() < end) {
            await Promise.all([reader.markPrices(), reader.tickers(), reader.klines('SOLUSDT', '1h', 120)]);
            await new Promise((res) => setTimeout(res, 50));
          }
        }),
      );
      const counters = await t.admin<{ weightByIpPerMinute: Record<string, Array<{ public: number }>> }>('GET', '/counters');
      for (const c of conns) {
        await c.reader.close();
        c.redis.disconnect();
      }
      return (counters.weightByIpPerMinute['127.0.0.1'] ?? []).reduce((sum, m) => sum + m.public, 0);
    };
    const one = await measure(1);
    const fifty = await measure(50);
    // The one kline miss costs 2 (limit 120); nothing else reaches the exchange in either run.
    expect(one).toBe(2);
    expect(fifty).toBe(2);
  });
});

describe('two marketdata instances', () => {
  let t: TestSimulator;
  let r: TestRedis;

  beforeAll(async () => {
    t = await startTestSimulator({ speed: 60 });
    r = createTestRedis();
  });
  afterAll(async () => {
    await r.cleanup();
    await t.close();
  });

  it('only one polls; when it dies the standby takes over within seconds', async () => {
    const a = await testMarketdata(r, t.url, undefined, { instanceId: 'md-a', leaseMs: 2_000, scanIntervalMs: 3_600_000 });
    const b = await testMarketdata(r, t.url, undefined, { instanceId: 'md-b', leaseMs: 2_000, scanIntervalMs: 3_600_000 });
    a.service.start();
    await until(() => a.service.active);
    b.service.start();
    await new Promise((res) => setTimeout(res, 2_500));
    expect([a.service.active, b.service.active]).toEqual([true, false]);
    expect((await t.admin<{ webSockets: number }>('GET', '/counters')).webSockets).toBe(1);

    const crashedAt = Date.now();
    await a.service.crash();
    await until(() => b.service.active, 10_000, 50);
    expect(Date.now() - crashedAt).toBeLessThan(5_000);
    await until(async () => JSON.parse((await r.redis.get(redisKeys.markPriceAll())) ?? '{}').updatedAt > crashedAt, 10_000);
    expect(await r.redis.get(redisKeys.marketdataLease())).toBe('md-b');
    await a.close();
    await b.close();
  });

  /** Samples the shared mark prices every 50 ms for `ms`: the longest time they were missing or over 5 s old. */
  const worstMarkGap = async (ms: number) => {
    let worst = 0;
    let since: number | undefined;
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const raw = await r.redis.get(redisKeys.markPriceAll());
      const fresh = raw !== null && Date.now() - (JSON.parse(raw) as { updatedAt: number }).updatedAt <= MARK_PRICE_MAX_AGE_MS;
      if (!fresh) since ??= Date.now();
      else if (since !== undefined) [worst, since] = [Math.max(worst, Date.now() - since), undefined];
      await new Promise((res) => setTimeout(res, 50));
    }
    return since === undefined ? worst : Math.max(worst, Date.now() - since);
  };

  it('with the default lease, a standby takes over before the mark prices lapse: traders never find them missing', { timeout: 30_000 }, async () => {
    const a = await testMarketdata(r, t.url, undefined, { instanceId: 'md-c', scanIntervalMs: 3_600_000 });
    const b = await testMarketdata(r, t.url, undefined, { instanceId: 'md-d', scanIntervalMs: 3_600_000 });
    a.service.start();
    await until(() => a.service.active);
    b.service.start();
    await until(async () => (await r.redis.get(redisKeys.markPriceAll())) !== null);
    await a.service.crash(); // kill -9: the lease is not released
    expect(await worstMarkGap(8_000)).toBe(0);
    expect(b.service.active).toBe(true);
    await a.close();
    await b.close();
  });

  it('restarted under the same name (the pod name), it takes its lease back at once', { timeout: 30_000 }, async () => {
    const first = await testMarketdata(r, t.url, undefined, { instanceId: 'md-pod-1', scanIntervalMs: 3_600_000, leaseMs: 60_000 });
    first.service.start();
    await until(() => first.service.active);
    await first.service.crash();
    const again = await testMarketdata(r, t.url, undefined, { instanceId: 'md-pod-1', scanIntervalMs: 3_600_000, leaseMs: 60_000 });
    const restartedAt = Date.now();
    again.service.start();
    await until(() => again.service.active, 5_000, 20);
    expect(Date.now() - restartedAt).toBeLessThan(1_000);
    await first.close();
    await again.close();
  });
});
