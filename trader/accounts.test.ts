import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freePort } from '../core/db/embedded.js';
import { publishSnapshot } from '../core/recommendations.js';
import { createRedis } from '../core/redis.js';
import { redisKeys } from '../core/redis-contract.js';
import { credentialsDir, spawnAts, type AtsProcess } from '../testing/processes.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../testing/services.js';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import { until } from '../testing/until.js';
import { recommendation, writeConfig } from '../testing/trader.js';

describe('accounts are isolated', () => {
  let t: TestSimulator;
  let r: TestRedis;
  let d: TestDatabase;
  let alice: TestAccount;
  let bob: TestAccount;
  let carol: TestAccount;
  const procs = new Map<string, AtsProcess & { port: number }>();

  beforeAll(async () => {
    t = await startTestSimulator();
    r = createTestRedis();
    d = await createTestDatabase();
    [alice, bob, carol] = [t.account(5_000), t.account(5_000), t.account(5_000)];
    await writeConfig(r, alice!.id, { minScore: 0.3, sizing: { mode: 'fixed', usdt: 150 }, leverage: 4 });
    await writeConfig(r, bob!.id, { minScore: 0.9, sizing: { mode: 'equity', percent: 2 }, leverage: 2 });
    await writeConfig(r, carol!.id, { minScore: 0.3 });
    for (const [a, secret] of [
      [alice!, alice!.apiSecret],
      [bob!, bob!.apiSecret],
      [carol!, 'not-carols-secret-at-all-000'],
    ] as const) {
      const port = await freePort();
      const p = spawnAts(['trader', '--account', a.id, '--credentials-dir', credentialsDir(a.apiKey, secret), '--port', String(port)], {
        ...r.env,
        DATABASE_URL: d.url,
        ATS_EXCHANGE: t.url,
        LOG_LEVEL: 'debug',
      });
      procs.set(a.id, { ...p, port });
    }
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') for (const p of procs.values()) console.log(p.output.join('').slice(-4000));
  });
  afterAll(async () => {
    for (const p of procs.values()) p.child.kill('SIGKILL');
    await r.cleanup();
    await d.drop();
    await t.close();
  });

  const heartbeat = async (id: string) => JSON.parse((await r.redis.get(redisKeys.heartbeat(`trader:${id}`))) ?? '{}');
  const logs = (id: string) =>
    procs
      .get(id)!
      .output.join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));

  it('act differently on the same recommendation; a bad key puts only its own account in error', async () => {
    await until(async () => (await heartbeat(alice.id)).state === 'active' && (await heartbeat(bob.id)).state === 'active', 30_000);
    await until(async () => (await heartbeat(carol.id)).state === 'error', 30_000);
    expect((await heartbeat(carol.id)).lastError).toMatch(/^API key rejected by the exchange: .*-1022/);

    const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=SOLUSDT')).markPrice;
    const rec = recommendation({ symbol: 'SOLUSDT', score: 0.6, entry: mark, stopLoss: mark * 0.9, takeProfit: mark * 1.2 });
    await publishSnapshot(r.redis, [rec]);

    await until(async () => (await t.admin<{ openAlgoOrders: number }>('GET', `/accounts/${alice.id}`)).openAlgoOrders === 2, 20_000);
    await until(() => logs(bob.id).some((l) => l.msg === 'recommendation denied'), 10_000);
    expect(logs(bob.id).find((l) => l.msg === 'recommendation denied')).toMatchObject({
      account_id: bob.id,
      reason: 'score_below_threshold',
      recommendation: rec.id,
    });
    expect((await t.admin<{ ordersPlaced: number }>('GET', `/accounts/${bob.id}`)).ordersPlaced).toBe(0);
    expect((await t.admin<{ ordersPlaced: number }>('GET', `/accounts/${carol.id}`)).ordersPlaced).toBe(0);
    expect(await heartbeat(carol.id)).toMatchObject({ state: 'error' });

    // Records carry their account; the others have none.
    // The entry's fill is recorded after its protection: a stop-loss never waits for bookkeeping.
    await until(async () => (await d.db.selectFrom('orders').select('id').where('account_id', '=', alice.id).execute()).length === 3);
    await until(async () => (await d.db.selectFrom('trades').select('id').where('account_id', '=', alice.id).execute()).length === 1);
    for (const table of ['orders', 'trades', 'positions'] as const) {
      const owners = await d.db.selectFrom(table).select('account_id').distinct().execute();
      expect(
        owners.map((o) => o.account_id),
        table,
      ).toEqual([alice.id]);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${procs.get(carol.id)!.port}/metrics`)).text();
    expect(metrics).toMatch(/ats_trader_state\{state="error",component="trader",account="acct3"\} 1/);
    const ready = await fetch(`http://127.0.0.1:${procs.get(carol.id)!.port}/readyz`);
    expect(ready.status).toBe(503);
  });

  it('never shows key material in logs, metrics, status, rows or Redis', async () => {
    const secrets = [alice, bob, carol].flatMap((a) => [a.apiKey, a.apiSecret]).concat('not-carols-secret-at-all-000');
    const texts: Array<[string, string]> = [];
    for (const [id, p] of procs) {
      texts.push([`output of ${id}`, p.output.join('')]);
      texts.push([`metrics of ${id}`, await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text()]);
      texts.push([`readyz of ${id}`, await (await fetch(`http://127.0.0.1:${p.port}/readyz`)).text()]);
    }
    for (const table of ['accounts', 'trading_config', 'orders', 'trades', 'positions', 'account_snapshots']) {
      const rows = await sql`select * from ${sql.table(table)}`.execute(d.db);
      texts.push([`table ${table}`, JSON.stringify(rows.rows)]);
    }
    const raw = createRedis({ REDIS_URL: r.env.REDIS_URL, REDIS_KEY_PREFIX: '' });
    for (const key of await raw.keys(`${r.prefix}*`)) {
      const type = await raw.type(key);
      const value =
        type === 'string'
          ? await raw.get(key)
          : type === 'hash'
            ? await raw.hgetall(key)
            : type === 'list'
              ? await raw.lrange(key, 0, -1)
              : type === 'set'
                ? await raw.smembers(key)
                : type === 'stream'
                  ? await raw.xrange(key, '-', '+')
                  : null;
      texts.push([`redis ${key}`, `${key} ${JSON.stringify(value)}`]);
    }
    raw.disconnect();
    expect(texts.length).toBeGreaterThan(20);
    for (const [where, text] of texts) for (const secret of secrets) expect(text.includes(secret), `${where} contains key material`).toBe(false);
  });
});
