import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Db } from '../core/db/connection.js';
import { decimal } from '../core/decimal.js';
import { RateGovernor } from '../core/exchange/governor.js';
import { REDACT_PATHS } from '../core/logger.js';
import { createRedis } from '../core/redis.js';
import { channelOf, redisKeys } from '../core/redis-contract.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from './services.js';
import { createDb } from '../core/db/connection.js';
import { provisionTraderRole } from '../core/db/trader-role.js';
import { provisionTraderRedisUser } from '../core/redis-acl.js';
import { startTestSimulator, type TestAccount } from './simulator.js';
import { until } from './until.js';
import { configEntries, tradingConfigSchema } from '../core/trading-config.js';
import type { Recommendation } from '../core/recommendations.js';
import { Trader, type TraderOptions } from '../trader/trader.js';
import { acceptKeyPair } from '../core/credentials/key-pair.js';
import { scrubSecrets } from '../core/secrets-scrub.js';

/** Writes an account's config the way the operator does (`ats:cfg:{id}`). */
export async function writeConfig(r: TestRedis, accountId: string, config: Record<string, unknown>): Promise<void> {
  const key = redisKeys.config(accountId);
  await r.redis.del(key);
  await r.redis.hset(key, configEntries(tradingConfigSchema.parse(config)));
  await r.redis.publish(channelOf(r.redis, redisKeys.configChannel(accountId)), 'changed');
}

/** A trader in this process with its own Redis connection, capturing its log lines. */
export function testTrader(r: TestRedis, exchange: string, db: Db, account: TestAccount, opts: Partial<TraderOptions> = {}, redisUrl = r.env.REDIS_URL) {
  const redis = createRedis({ ...r.env, REDIS_URL: redisUrl });
  redis.on('error', () => undefined); // Redis outages are part of some tests; ioredis reconnects
  const registry = new Registry();
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(scrubSecrets(String(chunk)));
      done();
    },
  });
  const logger = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } }, sink);
  const trader = new Trader({
    accountId: account.id,
    redis,
    db,
    registry,
    logger,
    governor: new RateGovernor({ redis }),
    exchange,
    credentials: async () => acceptKeyPair({ apiKey: account.apiKey, apiSecret: account.apiSecret }, 'test'),
    reconcileMs: 1_000,
    snapshotMs: 2_000,
    recommendationPollMs: 1_000,
    ...opts,
  });
  return {
    trader,
    registry,
    lines,
    redis,
    async close() {
      await trader.stop();
      redis.disconnect();
    },
  };
}

export const recommendation = (over: Partial<Recommendation> & Pick<Recommendation, 'symbol' | 'entry' | 'stopLoss' | 'takeProfit'>): Recommendation => ({
  id: `${over.symbol}-1h-${Date.now()}-${over.side ?? 'long'}-test`,
  side: 'long',
  score: 0.8,
  reason: 'test',
  strategy: 'test',
  interval: '1h',
  barTime: Date.now(),
  expiresAt: Date.now() + 10 * 60_000,
  ...over,
});

/**
 * What the operator gives an account's trader: the account's row, its own Postgres role (a
 * connection as that role) and its own Redis ACL user (a URL).
 */
export async function traderAccess(r: TestRedis, d: TestDatabase, accountId: string): Promise<{ db: Db; redisUrl: string }> {
  await d.db
    .insertInto('accounts')
    .values({ id: accountId, name: accountId, exchange: 'simulator', key_fingerprint: null, last_error: null, updated_at: new Date().toISOString() })
    .onConflict((c) => c.column('id').doNothing())
    .execute();
  const db = createDb(await provisionTraderRole(d.db, d.url, accountId));
  const redisUrl = await provisionTraderRedisUser(r.redis, r.env.REDIS_URL, accountId, r.prefix);
  return { db, redisUrl };
}

/**
 * A simulator, Redis prefix, database and one account with this config, traded by an
 * in-process trader that is already active.
 */
export async function startTraderFixture(config: Record<string, unknown>, balance = 5_000, traderOpts: Partial<TraderOptions> = {}) {
  const t = await startTestSimulator();
  const r = createTestRedis();
  const d = await createTestDatabase();
  const acct = t.account(balance);
  await writeConfig(r, acct.id, config);
  // As in a deployment: the trader connects with its own Postgres role and Redis user.
  const access = await traderAccess(r, d, acct.id);
  const tr = testTrader(r, t.url, access.db, acct, traderOpts, access.redisUrl);
  await tr.trader.start();
  await until(() => tr.trader.state === 'active');
  return {
    t,
    r,
    d,
    acct,
    tr,
    async close() {
      await tr.close();
      await access.db.destroy();
      await r.cleanup();
      await d.drop();
      await t.close();
    },
  };
}

/**
 * An account's ledger as recorded in Postgres (exact `numeric` sums): what its fills and its
 * positions say the wallet gained, and the fills no position claims.
 */
export async function recordedLedger(db: Db, accountId: string) {
  const trades = await db
    .selectFrom('trades')
    .where('account_id', '=', accountId)
    .select((eb) => [
      eb.fn.coalesce(eb.fn.sum<string>(sql<string>`realized_pnl - commission`), sql<string>`0`).as('net'),
      eb.fn.countAll<string>().as('count'),
      eb.fn.count<string>('position_key').as('attributed'),
    ])
    .executeTakeFirstOrThrow();
  const positions = await db
    .selectFrom('positions')
    .where('account_id', '=', accountId)
    .select((eb) => [eb.fn.coalesce(eb.fn.sum<string>(sql<string>`realized_pnl - fees`), sql<string>`0`).as('net')])
    .executeTakeFirstOrThrow();
  const funding = await db
    .selectFrom('funding_payments')
    .where('account_id', '=', accountId)
    .select((eb) => [eb.fn.coalesce(eb.fn.sum<string>('amount'), sql<string>`0`).as('net'), eb.fn.countAll<string>().as('count')])
    .executeTakeFirstOrThrow();
  return {
    fillsNet: String(trades.net),
    positionsNet: String(positions.net),
    /** Funding paid (negative) and received, as recorded. */
    fundingNet: String(funding.net),
    fundingPayments: Number(funding.count),
    /** What the records say the wallet moved by: fills (realized − commission) plus funding. */
    walletNet: decimal.add(String(trades.net), String(funding.net)),
    fills: Number(trades.count),
    unattributed: Number(trades.count) - Number(trades.attributed),
  };
}
