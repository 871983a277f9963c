import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createDb, type Db } from '../core/db/connection.js';
import { provisionMarketdataRole } from '../core/db/marketdata-role.js';
import { RateGovernor } from '../core/exchange/governor.js';
import { provisionMarketdataRedisUser } from '../core/redis-acl.js';
import { createRedis } from '../core/redis.js';
import type { TestDatabase, TestRedis } from './services.js';
import { MarketdataService, type MarketdataOptions } from '../marketdata/service.js';

/** One login per Redis prefix or database, as deployed (a second provisioning would rotate the first instance's password). */
const logins = new WeakMap<object, Promise<string>>();
const once = (owner: object, make: () => Promise<string>) => {
  if (!logins.has(owner)) logins.set(owner, make());
  return logins.get(owner)!;
};

/**
 * A marketdata instance for tests, with its own connections (as a separate process has), logged
 * in as marketdata's own Redis user and, with a database, its own Postgres role: as deployed.
 */
export async function testMarketdata(r: TestRedis, exchange: string, d: TestDatabase | undefined, opts: Partial<MarketdataOptions> = {}) {
  const redis = createRedis({ REDIS_URL: await once(r, () => provisionMarketdataRedisUser(r.redis, r.env.REDIS_URL, r.prefix)), REDIS_KEY_PREFIX: r.prefix });
  const db: Db | undefined = d && createDb(await once(d, () => provisionMarketdataRole(d.db, d.url)));
  const registry = new Registry();
  const service = new MarketdataService({
    redis,
    db,
    registry,
    logger: pino({ level: process.env.TEST_LOG ?? 'silent' }),
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
      await db?.destroy();
    },
  };
}
