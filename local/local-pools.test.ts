import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { LocalKeyStore } from '../core/credentials/local-key-store.js';
import { poolRoleName } from '../core/db/pool-role.js';
import { publishSnapshot } from '../core/recommendations.js';
import { poolRedisUser } from '../core/redis-acl.js';
import { redisKeys } from '../core/redis-contract.js';
import { startTestLocalRuntime } from '../testing/local-runtime.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../testing/services.js';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import { tempDir } from '../testing/temp.js';
import { recommendation } from '../testing/trader.js';
import { until } from '../testing/until.js';
import type { LocalOperator, LocalAccountStatus } from './local-operator.js';
import { accountManifest } from './manifests.js';
import type { ProcessSupervisor } from './process-supervisor.js';

const manifest = (name: string, placement?: 'dedicated' | 'pooled') =>
  accountManifest(name, {
    displayName: name,
    exchange: 'simulator',
    secretRef: { name: `${name}-binance` },
    ...(placement ? { placement } : {}),
    config: { sizing: { mode: 'fixed', usdt: 100 }, leverage: 2 },
  });

describe('local runtime: trader pools', () => {
  let t: TestSimulator;
  let r: TestRedis;
  let d: TestDatabase;
  let dir: string;
  let operator: LocalOperator;
  let supervisor: ProcessSupervisor;
  let state: string;
  const accounts = new Map<string, TestAccount>();

  const status = async (id: string) => JSON.parse((await r.redis.get(redisKeys.accountStatus(id))) ?? 'null') as LocalAccountStatus | null;
  const view = (id: string) => t.admin<{ openAlgoOrders: number; trades: number }>('GET', `/accounts/${accounts.get(id)!.id}`);

  beforeAll(async () => {
    t = await startTestSimulator();
    r = createTestRedis();
    d = await createTestDatabase();
    dir = tempDir('ats-manifests');
    state = tempDir('ats-state');
    const keys = new LocalKeyStore(join(state, 'keys'), 'local-pools-test-master-key');
    for (const id of ['ann', 'ben', 'cat', 'dan']) {
      const a = t.account(5_000);
      accounts.set(id, a);
      keys.put(`${id}-binance`, { apiKey: a.apiKey, apiSecret: a.apiSecret });
      // dan names his placement; the others take the runtime's default (pooled).
      writeFileSync(join(dir, `${id}.yaml`), manifest(id, id === 'dan' ? 'dedicated' : undefined));
    }
    ({ operator, supervisor } = startTestLocalRuntime({ t, r, d, dir, state, keys }, { placement: 'pooled', poolMaxAccounts: 2 }));
  });
  afterEach(async (ctx) => {
    // A failure shows what the pools said, and the statuses.
    if (ctx.task.result?.state !== 'fail') return;
    for (const name of supervisor.names()) console.log(name, readFileSync(join(state, 'logs', `${name}.log`), 'utf8').slice(-5000));
    for (const id of accounts.keys()) console.log(id, JSON.stringify(await status(id)));
  });
  afterAll(async () => {
    await operator.stop();
    await r.cleanup();
    await d.drop();
    await t.close();
  });

  it('places pooled accounts in pools of at most the pool size, shown in their status; a dedicated one runs alone', { timeout: 90_000 }, async () => {
    await until(async () => (await Promise.all(['ann', 'ben', 'cat', 'dan'].map(status))).every((s) => s?.phase === 'Running'), 60_000);
    expect(await Promise.all(['ann', 'ben', 'cat', 'dan'].map(async (id) => (await status(id))?.pool))).toEqual(['pool-0', 'pool-0', 'pool-1', undefined]);
    expect(supervisor.names().sort()).toEqual(['dan', 'pool-0', 'pool-1']);
    // A pool connects with logins of its own, which nothing else has; no key in its environment.
    const sessions = await sql<{ usename: string }>`select usename from pg_stat_activity where datname = current_database()`.execute(d.db);
    expect(sessions.rows.map((x) => x.usename)).toContain(await poolRoleName(d.db, 'pool-0'));
    expect(String(await r.redis.call('CLIENT', 'LIST'))).toContain(`user=${poolRedisUser('pool-0', r.prefix)}`);
    const environ = readFileSync(`/proc/${supervisor.pid('pool-0')}/environ`, 'utf8');
    for (const a of accounts.values()) expect(environ).not.toContain(a.apiSecret);

    const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=BNBUSDT')).markPrice;
    await publishSnapshot(r.redis, [recommendation({ symbol: 'BNBUSDT', entry: mark, stopLoss: mark * 0.95, takeProfit: mark * 1.08 })]);
    await until(async () => (await Promise.all(['ann', 'ben', 'cat', 'dan'].map(view))).every((v) => v.openAlgoOrders === 2), 60_000);
  });

  it('a removed manifest leaves its pool, the pool goes on; a pool killed with kill -9 comes back with its accounts', { timeout: 90_000 }, async () => {
    const pid = supervisor.pid('pool-0');
    rmSync(join(dir, 'ben.yaml'));
    await until(async () => (await status('ben')) === null, 20_000);
    await until(async () => JSON.parse((await r.redis.get(redisKeys.heartbeat('trader:ben'))) ?? '{}').state === 'stopped', 20_000);
    expect(supervisor.pid('pool-0')).toBe(pid);
    expect((await view('ben')).openAlgoOrders).toBe(2);

    const killed = supervisor.pid('pool-1')!;
    const killedAt = Date.now();
    process.kill(killed, 'SIGKILL');
    const heartbeat = async (id: string) => JSON.parse((await r.redis.get(redisKeys.heartbeat(`trader:${id}`))) ?? '{}') as { state?: string; at?: number };
    await until(async () => {
      const h = await heartbeat('cat');
      return ![undefined, killed].includes(supervisor.pid('pool-1')) && h.state === 'active' && (h.at ?? 0) > killedAt;
    }, 30_000);
    // Back with its position and protection, and no second entry.
    expect(await view('cat')).toMatchObject({ trades: 1, openAlgoOrders: 2 });
    // A new account takes the free place in pool-0.
    const eve = t.account(5_000);
    accounts.set('eve', eve);
    writeFileSync(join(dir, 'eve.yaml'), manifest('eve'));
    // Its key: as `ats keys set` would store it.
    (operator as unknown as { o: { keys: LocalKeyStore } }).o.keys.put('eve-binance', { apiKey: eve.apiKey, apiSecret: eve.apiSecret });
    await until(async () => (await status('eve'))?.phase === 'Running', 30_000);
    expect((await status('eve'))?.pool).toBe('pool-0');
    expect(supervisor.pid('pool-0')).toBe(pid);
  });
});
