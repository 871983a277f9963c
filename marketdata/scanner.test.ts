import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recommendationsSnapshotSchema } from '../core/recommendations.js';
import { createRedis } from '../core/redis.js';
import { channelOf, redisKeys } from '../core/redis-contract.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../testing/services.js';
import { startTestSimulator, type TestSimulator } from '../testing/simulator.js';
import { klineFile, readKlineCsv } from '../simulator/market/bars.js';
import { defaultDataDir } from '../simulator/server.js';
import type { Candle } from '../core/market-data/types.js';
import { TrendFollowing } from './strategies/trend-following.js';
import { testMarketdata } from '../testing/marketdata.js';
import { until } from '../testing/until.js';

/** The first replayed bar (after warm-up) where the default strategy recommends something. */
function firstSignalBar(): number {
  const strategy = new TrendFollowing();
  const bars = readKlineCsv(klineFile(join(defaultDataDir()!, 'futures-klines-1h'), 'ETHUSDT')!);
  for (let h = 300; h < bars.length; h++) {
    const closed: Candle[] = bars.slice(h - strategy.lookback, h).map((b) => [b.openTime, b.open, b.high, b.low, b.close, b.volume]);
    if (strategy.evaluate('ETHUSDT', closed)) return h;
  }
  throw new Error('no signal in the data');
}

describe('recommendation scan over replayed data', () => {
  let t: TestSimulator;
  let r: TestRedis;
  let d: TestDatabase;

  beforeAll(async () => {
    t = await startTestSimulator({ historyBars: firstSignalBar() });
    r = createTestRedis();
    d = await createTestDatabase();
  });
  afterAll(async () => {
    await r.cleanup();
    await d.drop();
    await t.close();
  });

  it('publishes a snapshot, a row per recommendation and a notification; a re-scan of the bar adds no rows', async () => {
    const md = await testMarketdata(r, t.url, d, { scanIntervalMs: 3_600_000 });
    const subscriber = createRedis(r.env);
    const notes: string[] = [];
    await subscriber.subscribe(channelOf(subscriber, redisKeys.recommendationsChannel()));
    subscriber.on('message', (_channel, message) => notes.push(message));
    md.service.start();
    await until(async () => (await r.redis.exists(redisKeys.recommendationsSnapshot())) === 1, 15_000);

    const first = recommendationsSnapshotSchema.parse(JSON.parse((await r.redis.get(redisKeys.recommendationsSnapshot()))!));
    const eth = first.recommendations.find((x) => x.symbol === 'ETHUSDT');
    expect(eth).toBeDefined();
    expect(eth!.reason).toMatch(/^EMA20 crossed (above|below) EMA50/);
    expect(eth!.side === 'long' ? eth!.stopLoss < eth!.entry && eth!.takeProfit > eth!.entry : eth!.stopLoss > eth!.entry).toBe(true);
    expect(eth!.expiresAt).toBeGreaterThan(Date.now());
    const rows = await d.db.selectFrom('recommendations').selectAll().execute();
    expect(rows.map((row) => row.id).sort()).toEqual(first.recommendations.map((x) => x.id).sort());
    await until(() => notes.length > 0);
    expect(JSON.parse(notes[0]!)).toEqual({ version: first.version });

    const second = await md.service.scanNow();
    expect(second.version).toBeGreaterThan(first.version);
    expect(second.recommendations.map((x) => x.id)).toEqual(first.recommendations.map((x) => x.id));
    expect(await d.db.selectFrom('recommendations').select('id').execute()).toHaveLength(rows.length);
    subscriber.disconnect();
    await md.close();
  });
});
