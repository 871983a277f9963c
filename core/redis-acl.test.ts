import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRedis, type TestRedis } from '../testing/services.js';
import { createRedis, type Redis } from './redis.js';
import { channelOf, redisKeys, statsDay } from './redis-contract.js';
import { provisionMarketdataRedisUser, provisionTraderRedisUser, removeTraderRedisUser } from './redis-acl.js';

describe("a trader's Redis user", () => {
  let r: TestRedis;
  let alice: Redis;
  let aliceUrl: string;

  beforeAll(async () => {
    r = createTestRedis();
    aliceUrl = await provisionTraderRedisUser(r.redis, r.env.REDIS_URL, 'alice', r.prefix);
    await provisionTraderRedisUser(r.redis, r.env.REDIS_URL, 'bob', r.prefix);
    alice = createRedis({ REDIS_URL: aliceUrl, REDIS_KEY_PREFIX: r.prefix });
    await r.redis.hset(redisKeys.config('alice'), 'leverage', '2');
    await r.redis.hset(redisKeys.config('bob'), 'leverage', '3');
    await r.redis.hset(redisKeys.positions('bob'), 'BTCUSDT', '{}');
    await r.redis.set(redisKeys.markPriceAll(), '{}');
  });
  afterAll(async () => {
    alice.disconnect();
    await r.cleanup();
  });

  it("reads its config and shared market data, writes its own runtime keys, and cannot touch another account's", async () => {
    expect(await alice.hget(redisKeys.config('alice'), 'leverage')).toBe('2');
    expect(await alice.get(redisKeys.markPriceAll())).toBe('{}');
    await alice.hset(redisKeys.positions('alice'), 'ETHUSDT', '{}');
    await alice.hincrby(redisKeys.stats('alice', statsDay()), 'orders_placed', 1);
    await alice.xadd(redisKeys.logs('error'), '*', 'msg', 'x');

    await expect(alice.hset(redisKeys.config('alice'), 'leverage', '125')).rejects.toThrow(/NOPERM/);
    await expect(alice.hgetall(redisKeys.config('bob'))).rejects.toThrow(/NOPERM/);
    await expect(alice.hgetall(redisKeys.positions('bob'))).rejects.toThrow(/NOPERM/);
    await expect(alice.del(redisKeys.positions('bob'))).rejects.toThrow(/NOPERM/);
    await expect(alice.hincrby(redisKeys.stats('bob', statsDay()), 'orders_placed', 1)).rejects.toThrow(/NOPERM/);
    await expect(alice.xrange(redisKeys.logs('error'), '-', '+')).rejects.toThrow(/NOPERM/);
    await expect(alice.set(redisKeys.recommendationsSnapshot(), '{}')).rejects.toThrow(/NOPERM/);
    await expect(alice.keys('*')).rejects.toThrow(/NOPERM/);
    await expect(alice.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
    await expect(alice.call('ACL', 'SETUSER', 'mallory', 'on', '~*', '+@all')).rejects.toThrow(/NOPERM/);
    await expect(alice.eval("return redis.call('HGETALL', KEYS[1])", 1, redisKeys.positions('bob'))).rejects.toThrow(/access|NOPERM/);
    expect(await r.redis.hgetall(redisKeys.positions('bob'))).toEqual({ BTCUSDT: '{}' });
    expect(await r.redis.hget(redisKeys.config('alice'), 'leverage')).toBe('2');

    const sub = createRedis({ REDIS_URL: aliceUrl, REDIS_KEY_PREFIX: r.prefix });
    await sub.subscribe(channelOf(sub, redisKeys.recommendationsChannel()), channelOf(sub, redisKeys.configChannel('alice')));
    await expect(sub.subscribe(channelOf(sub, redisKeys.configChannel('bob')))).rejects.toThrow(/NOPERM/);
    // Another installation's (or prefix's) channels are not its own.
    await expect(sub.subscribe(redisKeys.configChannel('alice'))).rejects.toThrow(/NOPERM/);
    sub.disconnect();
  });

  it('rotates: a new password per provisioning, and a removed user is refused', async () => {
    const again = await provisionTraderRedisUser(r.redis, r.env.REDIS_URL, 'bob', r.prefix);
    expect(new URL(again).password).not.toBe('');
    const bob = createRedis({ REDIS_URL: again, REDIS_KEY_PREFIX: r.prefix });
    expect(await bob.hgetall(redisKeys.positions('bob'))).toEqual({ BTCUSDT: '{}' });
    bob.disconnect();
    await removeTraderRedisUser(r.redis, 'bob', r.prefix);
    const probe = r.redis.duplicate();
    const { username, password } = new URL(again);
    await expect(probe.call('AUTH', username, password)).rejects.toThrow(/WRONGPASS/);
    probe.disconnect();
  });
});

describe("marketdata's Redis user", () => {
  let r: TestRedis;
  let md: Redis;

  beforeAll(async () => {
    r = createTestRedis();
    md = createRedis({ REDIS_URL: await provisionMarketdataRedisUser(r.redis, r.env.REDIS_URL, r.prefix), REDIS_KEY_PREFIX: r.prefix });
    await r.redis.hset(redisKeys.config('alice'), 'leverage', '2');
    await r.redis.hset(redisKeys.positions('alice'), 'BTCUSDT', '{}');
  });
  afterAll(async () => {
    md.disconnect();
    await r.cleanup();
  });

  it('writes the market data, recommendations and its lease, and reads or changes no account', async () => {
    await md.set(redisKeys.markPriceAll(), '{}', 'PX', 5_000);
    await md.set(redisKeys.recommendationsSnapshot(), '{}');
    await md.incr(redisKeys.recommendationsVersion());
    await md.set(redisKeys.marketdataLease(), 'me', 'PX', 3_000);
    await md.publish(channelOf(md, redisKeys.recommendationsChannel()), '1');
    await md.xadd(redisKeys.logs('info'), '*', 'msg', 'x');

    await expect(md.hgetall(redisKeys.config('alice'))).rejects.toThrow(/NOPERM/);
    await expect(md.hset(redisKeys.config('alice'), 'leverage', '125')).rejects.toThrow(/NOPERM/);
    await expect(md.hgetall(redisKeys.positions('alice'))).rejects.toThrow(/NOPERM/);
    await expect(md.publish(channelOf(md, redisKeys.configChannel('alice')), 'x')).rejects.toThrow(/NOPERM/);
    await expect(md.keys('*')).rejects.toThrow(/NOPERM/);
    await expect(md.call('ACL', 'SETUSER', 'mallory', 'on', '~*', '+@all')).rejects.toThrow(/NOPERM/);
    expect(await r.redis.hget(redisKeys.config('alice'), 'leverage')).toBe('2');
  });
});
