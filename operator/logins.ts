import type { Redis } from 'ioredis';
import type { Db } from '../core/db/connection.js';
import { provisionServiceRole } from '../core/db/service-role.js';
import { provisionMarketdataRole } from '../core/db/marketdata-role.js';
import { dropPoolRole, provisionPoolRole } from '../core/db/pool-role.js';
import { dropTraderRole, provisionTraderRole } from '../core/db/trader-role.js';
import { passwordOf } from '../core/login.js';
import {
  provisionConsoleRedisUser,
  provisionMarketdataRedisUser,
  provisionPoolRedisUser,
  provisionTraderRedisUser,
  removePoolRedisUser,
  removeTraderRedisUser,
} from '../core/redis-acl.js';

/** The operator's own (admin) connections, from which each trader and marketdata get logins of their own. */
export interface AdminLogins {
  readonly db: Db;
  readonly databaseUrl: string;
  readonly redis: Redis;
  readonly redisUrl: string;
  readonly keyPrefix?: string | undefined;
}

/** A process's own Postgres role and Redis user, as connection URLs (they carry passwords). */
export interface Logins {
  readonly databaseUrl: string;
  readonly redisUrl: string;
}

/**
 * Makes (or rotates) the account's trader logins: a Postgres role that row-level security holds
 * to the account's rows, and a Redis user that ACLs hold to the account's keys. The account's
 * row must exist (its role is mapped to it). With `keep`, the same passwords are set again: a
 * Redis restarted without persistence has forgotten its users, and this brings them back.
 */
export async function provisionTraderLogins(a: AdminLogins, accountId: string, keep?: Logins): Promise<Logins> {
  const databaseUrl = await provisionTraderRole(a.db, a.databaseUrl, accountId, passwordOf(keep?.databaseUrl));
  const redisUrl = await provisionTraderRedisUser(a.redis, a.redisUrl, accountId, a.keyPrefix ?? '', passwordOf(keep?.redisUrl));
  return { databaseUrl, redisUrl };
}

/** The account is gone: its logins stop working (its records stay). */
export async function removeTraderLogins(a: AdminLogins, accountId: string): Promise<void> {
  await removeTraderRedisUser(a.redis, accountId, a.keyPrefix ?? '');
  await dropTraderRole(a.db, accountId);
}

/**
 * Makes (or, with `keep`, sets again) marketdata's logins: a Postgres role that may only record
 * recommendations, and a Redis user held to the market-data, recommendation, lease and budget keys.
 */
export async function provisionMarketdataLogins(a: AdminLogins, keep?: Logins): Promise<Logins> {
  const databaseUrl = await provisionMarketdataRole(a.db, a.databaseUrl, passwordOf(keep?.databaseUrl));
  const redisUrl = await provisionMarketdataRedisUser(a.redis, a.redisUrl, a.keyPrefix ?? '', passwordOf(keep?.redisUrl));
  return { databaseUrl, redisUrl };
}

/** The console's own logins: it reads every account's records and keys, and writes only its own tables and keys. */
export async function provisionConsoleLogins(a: AdminLogins, keep?: Logins): Promise<Logins> {
  const databaseUrl = await provisionServiceRole(a.db, a.databaseUrl, 'console', passwordOf(keep?.databaseUrl));
  const redisUrl = await provisionConsoleRedisUser(a.redis, a.redisUrl, a.keyPrefix ?? '', passwordOf(keep?.redisUrl));
  return { databaseUrl, redisUrl };
}

/**
 * Makes (or, with `keep`, sets again) a trader pool's logins for exactly these accounts: a
 * Postgres role that may become each account's own role and no other, and a Redis user held to
 * their keys. An account that left the pool loses its place in both.
 */
export async function provisionPoolLogins(a: AdminLogins, pool: string, accountIds: readonly string[], keep?: Logins): Promise<Logins> {
  const databaseUrl = await provisionPoolRole(a.db, a.databaseUrl, pool, accountIds, passwordOf(keep?.databaseUrl));
  const redisUrl = await provisionPoolRedisUser(a.redis, a.redisUrl, pool, accountIds, a.keyPrefix ?? '', passwordOf(keep?.redisUrl));
  return { databaseUrl, redisUrl };
}

/** The pool is gone: its logins stop working. */
export async function removePoolLogins(a: AdminLogins, pool: string): Promise<void> {
  await removePoolRedisUser(a.redis, pool, a.keyPrefix ?? '');
  await dropPoolRole(a.db, pool);
}
