import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loginPassword, loginUrl } from './login.js';
import { redisKeys } from './redis-contract.js';

/** Redis glob characters in a literal part of a pattern. */
const literal = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/**
 * The commands of every ats process but the operator: data, pub/sub, transactions and scripts,
 * and nothing that reaches other keys or the server (KEYS, SCAN, FLUSHALL, CONFIG, ACL, ...).
 * INFO is the client's ready check.
 */
const COMMANDS = ['-@all', '+@read', '+@write', '+@pubsub', '+@transaction', '+@scripting', '+@connection', '-@dangerous', '+info', '-scan', '-randomkey'];

/** The ACL user name of an account's trader; the key prefix keeps two installations on one Redis apart. */
export const traderRedisUser = (accountId: string, keyPrefix = '') =>
  `ats-trader-${createHash('sha256').update(`${keyPrefix}\0${accountId}`).digest('hex').slice(0, 24)}`;

/**
 * What one account's trader may touch, as ACL rules: its own runtime keys (read and write), its
 * config (read only), the shared market data and recommendations (read; the market-data caches
 * also write, as a trader fills a miss), the shared rate-limit budget and the log streams
 * (append), and the two channels it listens on. Nothing of another account.
 */
export function traderAclRules(accountId: string, keyPrefix = ''): string[] {
  return ['reset', ...COMMANDS, ...sharedTraderRules(keyPrefix), ...accountRules(accountId, keyPrefix)];
}

/** A trader pool's rules: what a trader may touch, for each of the pool's accounts and no other. */
export function poolAclRules(accountIds: readonly string[], keyPrefix = ''): string[] {
  return ['reset', ...COMMANDS, ...sharedTraderRules(keyPrefix), ...accountIds.flatMap((id) => accountRules(id, keyPrefix))];
}

/** One account's keys and channel, and its order counters at the governor. */
function accountRules(accountId: string, keyPrefix: string): string[] {
  const k = (key: string) => literal(keyPrefix + key);
  const own = [
    redisKeys.positions(accountId),
    redisKeys.pendingOrders(accountId),
    redisKeys.decisions(accountId),
    redisKeys.tracking(accountId),
    redisKeys.outbox(accountId),
    redisKeys.heartbeat(`trader:${accountId}`),
    redisKeys.closeRequest(accountId),
  ].map((key) => `~${k(key)}`);
  // (The account's governor windows, its orders and its share of the minute, live in the process that runs it.)
  return [
    ...own,
    `~${k(redisKeys.stats(accountId, ''))}*`,
    `%R~${k(redisKeys.config(accountId))}`,
    // Channels carry the prefix too (`channelOf`).
    `&${k(redisKeys.configChannel(accountId))}`,
  ];
}

/** What every trader shares: market data, recommendations, the node's budget, the log streams. */
function sharedTraderRules(keyPrefix: string): string[] {
  const k = (key: string) => literal(keyPrefix + key);
  const weight = redisKeys.governor('weight');
  return [
    `%R~${k('ats:recommendations:')}*`,
    `~${k('ats:md:')}*`,
    `~${k('ats:lock:ats:md:')}*`,
    `~${k(weight)}`,
    `~${k(`${weight}:`)}*`,
    `~${k(redisKeys.governor('pause_until'))}`,
    `~${k(redisKeys.governor('pause_until:'))}*`,
    `~${k(redisKeys.governor('weight_limit'))}`,
    `~${k(redisKeys.governor('limited:'))}*`,
    `%W~${k('ats:logs:')}*`,
    `&${k(redisKeys.recommendationsChannel())}`,
  ];
}

/**
 * Makes (or re-keys) the account's trader user with a new random password and returns the Redis
 * URL for it: `adminUrl` with that user and password. Each call rotates the password unless
 * `keep` is given (after a Redis restart, which forgets its users); connections already open stay open. Needs a connection allowed to run ACL SETUSER (the operator's).
 */
export async function provisionTraderRedisUser(redis: Redis, adminUrl: string, accountId: string, keyPrefix = '', keep?: string): Promise<string> {
  return setUser(redis, adminUrl, traderRedisUser(accountId, keyPrefix), traderAclRules(accountId, keyPrefix), keep);
}

/** A trader pool's ACL user name; the key prefix keeps two installations on one Redis apart. */
export const poolRedisUser = (pool: string, keyPrefix = '') => `ats-pool-${createHash('sha256').update(`${keyPrefix}\0${pool}`).digest('hex').slice(0, 24)}`;

/** Makes (or re-keys, as `provisionTraderRedisUser`) a pool's user for exactly these accounts and returns its Redis URL. */
export async function provisionPoolRedisUser(
  redis: Redis,
  adminUrl: string,
  pool: string,
  accountIds: readonly string[],
  keyPrefix = '',
  keep?: string,
): Promise<string> {
  return setUser(redis, adminUrl, poolRedisUser(pool, keyPrefix), poolAclRules(accountIds, keyPrefix), keep);
}

/** Removes a pool's user and closes its connections (the pool is gone). */
export async function removePoolRedisUser(redis: Redis, pool: string, keyPrefix = ''): Promise<void> {
  await redis.call('ACL', 'DELUSER', poolRedisUser(pool, keyPrefix));
}

/** marketdata's ACL user name (one per key prefix). */
export const marketdataRedisUser = (keyPrefix = '') => `ats-marketdata-${createHash('sha256').update(keyPrefix).digest('hex').slice(0, 24)}`;

/**
 * What marketdata may touch: the market-data caches and their refresh locks, the recommendations
 * and their channel, its lease and heartbeat, the shared rate-limit budget, and the log streams
 * (append). No account's keys.
 */
export function marketdataAclRules(keyPrefix = ''): string[] {
  const k = (key: string) => literal(keyPrefix + key);
  return [
    'reset',
    ...COMMANDS,
    `~${k('ats:md:')}*`,
    `~${k('ats:lock:ats:md:')}*`,
    `~${k('ats:recommendations:')}*`,
    `~${k(redisKeys.marketdataLease())}`,
    `~${k(redisKeys.heartbeat('marketdata'))}`,
    `~${k(redisKeys.governor('weight'))}`,
    `~${k(redisKeys.governor('weight:'))}*`,
    `~${k(redisKeys.governor('pause_until'))}`,
    `~${k(redisKeys.governor('pause_until:'))}*`,
    `~${k(redisKeys.governor('weight_limit'))}`,
    `~${k(redisKeys.governor('limited:'))}*`,
    `%W~${k('ats:logs:')}*`,
    `&${k(redisKeys.recommendationsChannel())}`,
  ];
}

/** Makes (or re-keys, as `provisionTraderRedisUser`) marketdata's user and returns its Redis URL. */
export async function provisionMarketdataRedisUser(redis: Redis, adminUrl: string, keyPrefix = '', keep?: string): Promise<string> {
  return setUser(redis, adminUrl, marketdataRedisUser(keyPrefix), marketdataAclRules(keyPrefix), keep);
}

/** The console's ACL user name (one per key prefix). */
export const consoleRedisUser = (keyPrefix = '') => `ats-console-${createHash('sha256').update(keyPrefix).digest('hex').slice(0, 24)}`;

/**
 * What the console may touch: read every ats key (it shows them, filtered by user), its own
 * keys (login rate limits), the log streams (append), and every change channel (listen). It
 * writes nothing a trader, marketdata or the operator reads.
 */
export function consoleAclRules(keyPrefix = ''): string[] {
  const k = (key: string) => literal(keyPrefix + key);
  return [
    'reset',
    ...COMMANDS.filter((c) => c !== '-scan'),
    // The system page finds this minute's weight counters by pattern.
    '+scan',
    `%R~${k('ats:')}*`,
    `~${k('ats:console:')}*`,
    `%W~${k('ats:logs:')}*`,
    `&${k('ats:events:')}*`,
  ];
}

/** Makes (or re-keys, as `provisionTraderRedisUser`) the console's user and returns its Redis URL. */
export async function provisionConsoleRedisUser(redis: Redis, adminUrl: string, keyPrefix = '', keep?: string): Promise<string> {
  return setUser(redis, adminUrl, consoleRedisUser(keyPrefix), consoleAclRules(keyPrefix), keep);
}

async function setUser(redis: Redis, adminUrl: string, user: string, rules: string[], keep: string | undefined): Promise<string> {
  const password = loginPassword(keep);
  await redis.call('ACL', 'SETUSER', user, ...rules, 'on', `>${password}`);
  return loginUrl(adminUrl, user, password);
}

/** Removes the account's trader user and closes its connections (an account deleted). */
export async function removeTraderRedisUser(redis: Redis, accountId: string, keyPrefix = ''): Promise<void> {
  await redis.call('ACL', 'DELUSER', traderRedisUser(accountId, keyPrefix));
}
