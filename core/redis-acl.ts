import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from './redis-contract.js';

/** Redis glob characters in a literal part of a pattern. */
const literal = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

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
  const k = (key: string) => literal(keyPrefix + key);
  const own = [
    redisKeys.positions(accountId),
    redisKeys.pendingOrders(accountId),
    redisKeys.decisions(accountId),
    redisKeys.tracking(accountId),
    redisKeys.outbox(accountId),
    redisKeys.heartbeat(`trader:${accountId}`),
  ].map((key) => `~${k(key)}`);
  // The governor's counters: a key per window (`<name>:<window>`); scripts also name `<name>`.
  const windows = [redisKeys.governor('weight'), redisKeys.governor(`orders10s:${accountId}`), redisKeys.governor(`orders1m:${accountId}`)].flatMap((key) => [
    `~${k(key)}`,
    `~${k(`${key}:`)}*`,
  ]);
  return [
    'reset',
    // Everything a trader sends, and nothing that reaches other keys or the server (KEYS, SCAN,
    // FLUSHALL, CONFIG, ACL, ...): INFO is the client's ready check.
    '-@all',
    '+@read',
    '+@write',
    '+@pubsub',
    '+@transaction',
    '+@scripting',
    '+@connection',
    '-@dangerous',
    '+info',
    '-scan',
    '-randomkey',
    ...own,
    `~${k(redisKeys.stats(accountId, ''))}*`,
    `%R~${k(redisKeys.config(accountId))}`,
    `%R~${k('ats:recommendations:')}*`,
    `~${k('ats:md:')}*`,
    `~${k('ats:lock:ats:md:')}*`,
    ...windows,
    `~${k(redisKeys.governor('pause_until'))}`,
    `~${k(redisKeys.governor('weight_limit'))}`,
    `%W~${k('ats:logs:')}*`,
    // Channels are not prefixed by the client.
    `&${literal(redisKeys.recommendationsChannel())}`,
    `&${literal(redisKeys.configChannel(accountId))}`,
  ];
}

/**
 * Makes (or re-keys) the account's trader user with a new random password and returns the Redis
 * URL for it: `adminUrl` with that user and password. Each call rotates the password unless
 * `keep` is given (after a Redis restart, which forgets its users); connections already open stay open. Needs a connection allowed to run ACL SETUSER (the operator's).
 */
export async function provisionTraderRedisUser(redis: Redis, adminUrl: string, accountId: string, keyPrefix = '', keep?: string): Promise<string> {
  const user = traderRedisUser(accountId, keyPrefix);
  const password = keep && /^[0-9a-f]{48}$/.test(keep) ? keep : randomBytes(24).toString('hex');
  await redis.call('ACL', 'SETUSER', user, ...traderAclRules(accountId, keyPrefix), 'on', `>${password}`);
  const url = new URL(adminUrl);
  url.username = user;
  url.password = password;
  return url.toString();
}

/** Removes the account's trader user and closes its connections (an account deleted). */
export async function removeTraderRedisUser(redis: Redis, accountId: string, keyPrefix = ''): Promise<void> {
  await redis.call('ACL', 'DELUSER', traderRedisUser(accountId, keyPrefix));
}
