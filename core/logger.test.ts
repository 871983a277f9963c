import { afterAll, describe, expect, it } from 'vitest';
import { createRootLogger } from './logger.js';
import { createRedis } from './redis.js';
import { registerSecret } from './secrets-scrub.js';
import { redisKeys } from './redis-contract.js';
import { createTestRedis } from '../testing/services.js';

const env = { LOG_LEVEL: 'info', ATS_LOG_STREAM_LEVEL: 'info', ATS_LOG_STREAM_MAXLEN: 1000 } as const;

const capture = () => {
  const lines: string[] = [];
  return { lines, write: (line: string) => lines.push(line) };
};

describe('logger', () => {
  const t = createTestRedis();
  afterAll(async () => t.cleanup());

  it('appends warnings and errors to the global streams with account_id', async () => {
    const out = capture();
    const root = createRootLogger({ component: 'trader', env, redis: t.redis, destination: out });
    root.logger.child({ account_id: 'alice' }).warn({ symbol: 'BTCUSDT' }, 'order rejected');
    root.logger.error('marketdata lost its stream');
    await root.flush();

    const warnings = await t.redis.xrange(redisKeys.logs('warning'), '-', '+');
    const errors = await t.redis.xrange(redisKeys.logs('error'), '-', '+');
    const fields = (entry: [string, string[]] | undefined) => Object.fromEntries(chunk(entry?.[1] ?? []));
    expect(fields(warnings.at(-1))).toMatchObject({ account_id: 'alice', component: 'trader', msg: 'order rejected' });
    expect(fields(errors.at(-1))).toMatchObject({ account_id: '', msg: 'marketdata lost its stream' });
    expect(out.lines).toHaveLength(2);
  });

  it('caps each stream near its configured length', async () => {
    const root = createRootLogger({ component: 'cap', env: { ...env, ATS_LOG_STREAM_MAXLEN: 100 }, redis: t.redis, destination: capture() });
    for (let i = 0; i < 1_000; i++) root.logger.info({ i }, 'tick');
    await root.flush();
    expect(await t.redis.xlen(redisKeys.logs('info'))).toBeLessThan(300);
  });

  it('redacts secret fields and known secret values in stdout and in the stream', async () => {
    const out = capture();
    const root = createRootLogger({ component: 'trader', env, redis: t.redis, destination: out });
    registerSecret('sk-live-0123456789abcdef');
    root.logger.warn({ apiSecret: 'field-secret-value', exchange: { apiKey: 'nested-key-value' } }, 'key rejected: sk-live-0123456789abcdef');
    await root.flush();
    const streamed = JSON.stringify(await t.redis.xrange(redisKeys.logs('warning'), '-', '+'));
    for (const text of [out.lines.join('\n'), streamed]) {
      expect(text).toContain('[REDACTED]');
      expect(text).not.toContain('field-secret-value');
      expect(text).not.toContain('nested-key-value');
      expect(text).not.toContain('sk-live-0123456789abcdef');
    }
  });

  it('keeps logging when Redis is down, and writes the buffered entries once it is back', async () => {
    // A port nothing listens on: the logger must neither throw nor block.
    const down = createRedis({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_KEY_PREFIX: t.prefix }, { lazyConnect: true, enableOfflineQueue: false });
    down.on('error', () => undefined);
    const out = capture();
    const root = createRootLogger({ component: 'trader', env, redis: down, destination: out });
    const started = Date.now();
    for (let i = 0; i < 50; i++) root.logger.error({ i }, 'still here');
    expect(Date.now() - started).toBeLessThan(500);
    expect(out.lines).toHaveLength(50);
    await root.flush();
    down.disconnect();

    // The same buffer reaches a Redis that comes up later.
    const late = createRedis({ ...t.env }, { lazyConnect: true });
    const root2 = createRootLogger({ component: 'late', env, redis: late, destination: capture() });
    root2.logger.error('written after reconnect');
    await late.connect();
    await root2.flush();
    const errors = await t.redis.xrange(redisKeys.logs('error'), '-', '+');
    expect(errors.some(([, f]) => f.includes('written after reconnect'))).toBe(true);
    late.disconnect();
  });
});

function chunk(flat: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}
