import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Db } from '../core/db/connection.js';
import { RateGovernor } from '../core/exchange/governor.js';
import { createRedis } from '../core/redis.js';
import type { TestRedis } from './services.js';
import { MarketdataService, type MarketdataOptions } from '../marketdata/service.js';

/** A marketdata instance for tests, with its own Redis connection (as a separate process has). */
export function testMarketdata(r: TestRedis, exchange: string, db: Db | undefined, opts: Partial<MarketdataOptions> = {}) {
  const redis = createRedis(r.env);
  const registry = new Registry();
  const service = new MarketdataService({
    redis,
    db,
    registry,
    logger: pino({ level: 'silent' }),
    governor: new RateGovernor({ redis }),
    exchange,
    ...opts,
  });
  return {
    service,
    registry,
    async close() {
      await service.stop();
      redis.disconnect();
    },
  };
}
