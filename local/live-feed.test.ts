import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../core/env.js';
import { createRootLogger } from '../core/logger.js';
import { createRedis } from '../core/redis.js';
import { createTestRedis, type TestRedis } from '../testing/services.js';
import { until } from '../testing/until.js';
import { LiveFeed } from './live-feed.js';

describe('the live feed of ats up', () => {
  let r: TestRedis;
  beforeAll(() => {
    r = createTestRedis();
  });
  afterAll(async () => r.cleanup());

  it('shows what the processes log to the global streams: metrics addresses, entries, exits with PnL, errors with the account', async () => {
    const lines: string[] = [];
    const feed = new LiveFeed({ redis: createRedis(r.env), write: (l) => lines.push(l), since: Date.now() });
    feed.start();
    const root = createRootLogger({
      component: 'trader',
      env: loadEnv({ ...r.env, LOG_LEVEL: 'info' }),
      redis: r.redis,
      destination: { write: () => undefined },
    });
    const log = root.logger.child({ account_id: 'alice' });
    log.info({ port: 40123 }, 'trader starting');
    log.info({ symbol: 'BTCUSDT', recommendation: 'r1' }, 'recommendation denied');
    log.info({ symbol: 'BTCUSDT', side: 'buy', amount: 0.012, entryPrice: 64000.1 }, 'entry filled: placing its stop-loss and take-profit');
    log.info({ symbol: 'BTCUSDT', side: 'buy', exit: '64500.0', realizedPnl: '5.99880000', fees: '0.76962000' }, 'position closed');
    log.info({ symbol: 'ETHUSDT', side: 'sell', exit: '3000.00', realizedPnl: '-12.345', fees: '0.1' }, 'position closed');
    log.error({ err: 'Invalid API-key, IP, or permissions for action.' }, 'account in error: API key rejected');
    await root.flush();
    await until(async () => lines.length >= 5, 5_000, 50);
    await feed.stop();

    expect(lines.map((l) => l.slice(10))).toEqual([
      'alice      up; metrics at http://127.0.0.1:40123/metrics',
      'alice      entered BTCUSDT long 0.012 @ 64000.1',
      'alice      closed  BTCUSDT long @ 64500.0: PnL +6.00 USDT, fees 0.7696',
      'alice      closed  ETHUSDT short @ 3000.00: PnL -12.35 USDT, fees 0.1000',
      'alice      ERROR account in error: API key rejected: Invalid API-key, IP, or permissions for action.',
    ]);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d /);
  });
});
