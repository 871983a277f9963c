import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createPgPool } from '../core/db/connection.js';
import { RateGovernor } from '../core/exchange/governor.js';
import { publishSnapshot } from '../core/recommendations.js';
import { createRedis } from '../core/redis.js';
import { redisKeys } from '../core/redis-contract.js';
import { provisionPoolLogins } from '../operator/logins.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../testing/services.js';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import { until } from '../testing/until.js';
import { recommendation, writeConfig } from '../testing/trader.js';
import { acceptKeyPair } from '../core/credentials/key-pair.js';
import { AccountPool } from './account-pool.js';
import { asAccount } from './account-scope.js';

const ROOT = resolve(import.meta.dirname, '..');

/** Runs the fixture program (a process started as every ats process is) and returns its output lines and exit code. */
function runFixture(env: Record<string, string>): Promise<{ lines: string[]; code: number | null }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'testing', 'uncaught-in-account.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...env, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    child.once('exit', (code) => done({ lines: out.split('\n').filter(Boolean), code }));
  });
}

describe("an account's unhandled error stops that account, never the process", () => {
  it("routes a throw in an account's socket handler to that account, and exits on one that is no account's", { timeout: 30_000 }, async () => {
    const r = createTestRedis();
    try {
      const owned = await runFixture({ ...r.env, FIXTURE_THROW_AS: 'acct-a' });
      expect(owned.lines).toContain('crashed acct-a: thrown in a socket handler');
      // The process and the other account went on.
      expect(owned.lines).toContain('acct-b still running as acct-b');
      expect(owned.code).toBe(0);

      const unowned = await runFixture({ ...r.env, FIXTURE_THROW_AS: '' });
      expect(unowned.lines).not.toContain('acct-b still running as acct-b');
      expect(unowned.code).toBe(1);
    } finally {
      await r.cleanup();
    }
  });

  describe('in a trader pool', () => {
    let t: TestSimulator;
    let r: TestRedis;
    let d: TestDatabase;
    let pool: AccountPool;
    let close: () => Promise<void>;
    const accounts: TestAccount[] = [];

    beforeAll(async () => {
      t = await startTestSimulator();
      r = createTestRedis();
      d = await createTestDatabase();
      for (let i = 0; i < 3; i += 1) accounts.push(t.account(5_000));
      for (const a of accounts) {
        await writeConfig(r, a.id, { sizing: { mode: 'fixed', usdt: 100 }, leverage: 2 });
        await d.db
          .insertInto('accounts')
          .values({ id: a.id, name: a.id, exchange: 'simulator', key_fingerprint: null, last_error: null, updated_at: new Date().toISOString() })
          .execute();
      }
      const admin = { db: d.db, databaseUrl: d.url, redis: r.redis, redisUrl: r.env.REDIS_URL, keyPrefix: r.prefix };
      const logins = await provisionPoolLogins(
        admin,
        'pool-iso',
        accounts.map((a) => a.id),
      );
      const redis = createRedis({ ...r.env, REDIS_URL: logins.redisUrl });
      const pg = createPgPool(logins.databaseUrl, 4);
      const db = createDb(logins.databaseUrl, 1);
      pool = new AccountPool({
        pool: 'pool-iso',
        redis,
        pg,
        db,
        logger: pino({ level: 'silent' }),
        governor: new RateGovernor({ redis }),
        registry: new Registry(),
        exchange: t.url,
      });
      close = async () => {
        await pool.stop();
        await db.destroy();
        await pg.end();
        redis.disconnect();
      };
      await pool.apply(new Map(accounts.map((a) => [a.id, { pair: acceptKeyPair({ apiKey: a.apiKey, apiSecret: a.apiSecret }, 'test'), exchange: t.url }])));
      await until(() => Object.values(pool.states()).every((s) => s === 'active'), 60_000);
    }, 120_000);
    afterAll(async () => {
      await close?.();
      await r?.cleanup();
      await d?.drop();
      await t?.close();
    });

    it('puts only the failing account in error, keeps its stop-loss, and brings it back', { timeout: 90_000 }, async () => {
      const [failing, other] = accounts as [TestAccount, TestAccount, TestAccount];
      const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=BNBUSDT')).markPrice;
      await publishSnapshot(r.redis, [recommendation({ symbol: 'BNBUSDT', entry: mark, stopLoss: mark * 0.95, takeProfit: mark * 1.08 })]);
      const view = (a: TestAccount) => t.admin<{ openAlgoOrders: number; trades: number }>('GET', `/accounts/${a.id}`);
      await until(async () => (await Promise.all(accounts.map(view))).every((v) => v.openAlgoOrders === 2), 30_000);

      // An error escapes the failing account's work (as a throw in one of its callbacks would).
      expect(asAccount(failing.id, () => pool.crashed(new Error('escaped')))).toBe(true);
      expect(pool.crashed(new Error('no account'))).toBe(false);
      expect(pool.states()[failing.id]).toBe('error');
      const heartbeat = async (id: string) => JSON.parse((await r.redis.get(redisKeys.heartbeat(`trader:${id}`))) ?? '{}');
      await until(async () => (await heartbeat(failing.id)).lastError === 'escaped', 10_000);
      expect(
        Object.entries(pool.states())
          .filter(([id]) => id !== failing.id)
          .map(([, s]) => s),
      ).toEqual(['active', 'active']);

      // It starts again by itself (backoff), finds its position protected, and enters nothing twice.
      await until(() => pool.states()[failing.id] === 'active', 30_000);
      const [again, untouched] = await Promise.all([view(failing), view(other)]);
      expect(again).toMatchObject({ openAlgoOrders: 2, trades: 1 });
      expect(untouched).toMatchObject({ openAlgoOrders: 2, trades: 1 });
    });
  });
});
