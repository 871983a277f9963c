import type { Redis } from 'ioredis';
import type { Db } from '../core/db/connection.js';
import { dropTraderRole, provisionTraderRole } from '../core/db/trader-role.js';
import { provisionTraderRedisUser, removeTraderRedisUser } from '../core/redis-acl.js';

/** The operator's own (admin) connections, from which each trader gets logins of its own. */
export interface AdminLogins {
  readonly db: Db;
  readonly databaseUrl: string;
  readonly redis: Redis;
  readonly redisUrl: string;
  readonly keyPrefix?: string | undefined;
}

/** A trader's own Postgres role and Redis user, as connection URLs (they carry passwords). */
export interface TraderLogins {
  readonly databaseUrl: string;
  readonly redisUrl: string;
}

/**
 * Makes (or rotates) the account's trader logins: a Postgres role that row-level security holds
 * to the account's rows, and a Redis user that ACLs hold to the account's keys. The account's
 * row must exist (its role is mapped to it). With `keep`, the same passwords are set again: a
 * Redis restarted without persistence has forgotten its users, and this brings them back.
 */
export async function provisionTraderLogins(a: AdminLogins, accountId: string, keep?: TraderLogins): Promise<TraderLogins> {
  const password = (url: string | undefined) => (url ? decodeURIComponent(new URL(url).password) : undefined);
  const databaseUrl = await provisionTraderRole(a.db, a.databaseUrl, accountId, password(keep?.databaseUrl));
  const redisUrl = await provisionTraderRedisUser(a.redis, a.redisUrl, accountId, a.keyPrefix ?? '', password(keep?.redisUrl));
  return { databaseUrl, redisUrl };
}

/** The account is gone: its logins stop working (its records stay). */
export async function removeTraderLogins(a: AdminLogins, accountId: string): Promise<void> {
  await removeTraderRedisUser(a.redis, accountId, a.keyPrefix ?? '');
  await dropTraderRole(a.db, accountId);
}
