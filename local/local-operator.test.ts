import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyStore } from '../core/credentials/local-key-store.js';
import { redisKeys } from '../core/redis-contract.js';
import { startTestLocalRuntime } from '../testing/local-runtime.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../testing/services.js';
import { tempDir } from '../testing/temp.js';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import { recommendation } from '../testing/trader.js';
import { publishSnapshot } from '../core/recommendations.js';
import { until } from '../testing/until.js';
import type { LocalOperator } from './local-operator.js';
import { type LocalAccountStatus } from './local-operator.js';
import type { ProcessSupervisor } from './process-supervisor.js';
import { accountManifest } from './manifests.js';
import { sql } from 'kysely';
import { traderRoleName } from '../core/db/trader-role.js';
import { traderRedisUser } from '../core/redis-acl.js';

const manifest = (name: string, secret: string, config: Record<string, unknown> = {}) =>
  accountManifest(name, { displayName: name, exchange: 'simulator', secretRef: { name: secret }, config });

describe('local runtime', () => {
  let t: TestSimulator;
  let r: TestRedis;
  let d: TestDatabase;
  let dir: string;
  let operator: LocalOperator;
  let supervisor: ProcessSupervisor;
  let dora: TestAccount;
  let keys: LocalKeyStore;
  let state: string;

  beforeAll(async () => {
    // As after `ats keys set` from the environment: none of it may reach a trader.
    Object.assign(process.env, {
      ATS_API_KEY: 'exported-api-key-0123456789',
      ATS_API_SECRET: 'exported-secret-0123456789',
      ATS_MASTER_KEY: 'exported-master-key-0123',
    });
    t = await startTestSimulator();
    r = createTestRedis();
    d = await createTestDatabase();
    dir = tempDir('ats-manifests');
    state = tempDir('ats-state');
    keys = new LocalKeyStore(join(state, 'keys'), 'local-runtime-test-master-key');
    dora = t.account(5_000);
    keys.put('dora-binance', { apiKey: dora.apiKey, apiSecret: dora.apiSecret });
    writeFileSync(join(dir, 'dora.yaml'), manifest('dora', 'dora-binance', { minScore: 0.6 }));
    writeFileSync(join(dir, 'eve.yaml'), manifest('eve', 'eve-binance'));
    ({ operator, supervisor } = startTestLocalRuntime({ t, r, d, dir, state, keys }));
  });
  afterAll(async () => {
    await operator.stop();
    await r.cleanup();
    await d.drop();
    await t.close();
  });

  const status = async (id: string) => JSON.parse((await r.redis.get(redisKeys.accountStatus(id))) ?? 'null') as LocalAccountStatus | null;

  it('runs a trader per account and reports it Running; a missing key is an Error with what to do', async () => {
    await until(async () => (await status('dora'))?.phase === 'Running', 40_000);
    expect(await status('eve')).toMatchObject({
      phase: 'Error',
      lastError: 'no key pair stored under "eve-binance": run `ats keys set --account eve-binance`',
    });
    expect((await status('eve'))!.conditions.find((c) => c.type === 'SecretReady')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(supervisor.pid('eve')).toBeUndefined();
    expect(await r.redis.hget(redisKeys.config('dora'), 'minScore')).toBe('0.6');
    expect(await d.db.selectFrom('accounts').select(['id', 'status']).orderBy('id').execute()).toEqual([
      { id: 'dora', status: 'active' },
      { id: 'eve', status: 'active' },
    ]);
  });

  it('hands a trader only its own key pair and logins: no master key, key store, exported keys or admin logins in its environment or arguments', async () => {
    const pid = supervisor.pid('dora')!;
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const names = environ.map((e) => e.split('=')[0]);
    for (const name of ['ATS_MASTER_KEY', 'ATS_API_KEY', 'ATS_API_SECRET', 'ATS_STATE_DIR', 'DATABASE_URL', 'REDIS_URL']) expect(names).not.toContain(name);
    // It is connected with logins of its own: its Postgres role and its Redis user.
    const role = await traderRoleName(d.db, 'dora');
    const sessions = await sql<{ usename: string }>`select usename from pg_stat_activity where datname = current_database()`.execute(d.db);
    expect(sessions.rows.map((x) => x.usename)).toContain(role);
    expect(String(await r.redis.call('CLIENT', 'LIST'))).toContain(`user=${traderRedisUser('dora', r.prefix)}`);
    const visible = `${environ.join('\n')}\n${readFileSync(`/proc/${pid}/cmdline`, 'utf8')}`;
    for (const secret of [dora.apiKey, dora.apiSecret, 'exported-api-key-0123456789', 'local-runtime-test-master-key']) expect(visible).not.toContain(secret);
    expect(statSync(join(state, 'logs', 'dora.log')).mode & 0o777).toBe(0o600);
  });

  it('applies a spec change live, without restarting the trader', async () => {
    const pid = supervisor.pid('dora');
    writeFileSync(join(dir, 'dora.yaml'), manifest('dora', 'dora-binance', { minScore: 0.8, leverage: 2 }));
    await until(async () => (await r.redis.hget(redisKeys.config('dora'), 'minScore')) === '0.8');
    const rows = await d.db.selectFrom('trading_config').select(['config_key', 'config_value']).where('account_id', '=', 'dora').execute();
    expect(Object.fromEntries(rows.map((x) => [x.config_key, x.config_value]))).toMatchObject({ minScore: 0.8, leverage: 2 });
    expect(supervisor.pid('dora')).toBe(pid);
    // The status follows the config it was written with (a moment later under load).
    await until(async () => (await status('dora'))?.observedGeneration === 2, 10_000);
    expect(supervisor.pid('dora')).toBe(pid);
  });

  it('brings a killed trader back', async () => {
    const pid = supervisor.pid('dora')!;
    process.kill(pid, 'SIGKILL');
    await until(() => supervisor.pid('dora') !== undefined && supervisor.pid('dora') !== pid, 20_000);
    await until(async () => (await status('dora'))?.phase === 'Running' && Date.parse((await status('dora'))!.lastHeartbeat!) > Date.now() - 3_000, 40_000);
  });

  it('refuses a broken or invalid manifest edit and a second manifest of the same name; the last valid spec keeps running', async () => {
    const pid = supervisor.pid('dora')!;
    const valid = manifest('dora', 'dora-binance', { minScore: 0.8, leverage: 2 });
    const refused = async (pattern: RegExp) => {
      await until(async () => pattern.test((await status('dora'))?.lastError ?? ''));
      const s = (await status('dora'))!;
      expect(s.phase).toBe('Running');
      expect(s.conditions.find((c) => c.type === 'SpecValid')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
      expect(supervisor.pid('dora')).toBe(pid);
      expect(await r.redis.hgetall(redisKeys.config('dora'))).toMatchObject({ minScore: '0.8', leverage: '2' });
      expect(await d.db.selectFrom('accounts').select('status').where('id', '=', 'dora').executeTakeFirst()).toEqual({ status: 'active' });
    };
    writeFileSync(join(dir, 'dora.yaml'), `${valid}  extra: [unclosed\n`);
    await refused(/dora\.yaml: .*the change is refused, the last valid spec keeps running/);
    writeFileSync(join(dir, 'dora.yaml'), manifest('dora', 'dora-binance', { minScore: 0.8, leverage: -1 }));
    await refused(/leverage/);
    writeFileSync(join(dir, 'dora.yaml'), valid);
    await until(async () => (await status('dora'))?.lastError === undefined);
    // A second manifest of the same name is ignored (and logged), not a silent override.
    writeFileSync(join(dir, 'dora-copy.yaml'), manifest('dora', 'dora-binance', { minScore: 0.1 }));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await r.redis.hget(redisKeys.config('dora'), 'minScore')).toBe('0.8');
    expect(supervisor.pid('dora')).toBe(pid);
    rmSync(join(dir, 'dora-copy.yaml'));
  });

  it('brings a trader holding a position back at once, kill after kill: protected again within 5 s', { timeout: 90_000 }, async () => {
    const sim = () => t.admin<{ openAlgoOrders: number; positions: unknown[] }>('GET', `/accounts/${dora.id}`);
    writeFileSync(join(dir, 'dora.yaml'), manifest('dora', 'dora-binance', { minScore: 0.5, stopLossDeadlineSeconds: 120 }));
    await until(async () => (await r.redis.hget(redisKeys.config('dora'), 'stopLossDeadlineSeconds')) === '120');
    // The exchange takes no stop-loss for now: the position stays unprotected across the kills.
    await t.admin('POST', '/faults', { fail5xx: { count: 100_000, status: 503, pathPrefix: '/fapi/v1/algoOrder' } });
    const { markPrice } = await t.admin<{ markPrice: number }>('GET', '/price?symbol=XRPUSDT');
    await publishSnapshot(r.redis, [recommendation({ symbol: 'XRPUSDT', entry: markPrice, stopLoss: markPrice * 0.95, takeProfit: markPrice * 1.05 })]);
    await until(async () => (await sim()).positions.length === 1, 20_000);
    await until(async () => (await r.redis.hlen(redisKeys.positions('dora'))) === 1, 20_000);
    const kill = async () => {
      const pid = supervisor.pid('dora')!;
      process.kill(pid, 'SIGKILL');
      await until(() => supervisor.pid('dora') !== undefined && supervisor.pid('dora') !== pid, 10_000, 20);
    };
    for (let i = 0; i < 3; i++) await kill();
    await t.admin('DELETE', '/faults');
    const killedAt = Date.now();
    await kill();
    await until(async () => (await sim()).openAlgoOrders === 2, 20_000, 50);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
  });

  it("refuses an account that names another account's key, and restarts a trader whose secret alone was rotated", async () => {
    writeFileSync(join(dir, 'mallory.yaml'), manifest('mallory', 'dora-binance'));
    await until(async () => /already bound to account dora/.test((await status('mallory'))?.lastError ?? ''));
    expect((await status('mallory'))!.phase).toBe('Error');
    expect(supervisor.pid('mallory')).toBeUndefined();
    rmSync(join(dir, 'mallory.yaml'));
    await until(async () => (await status('mallory')) === null);

    const pid = supervisor.pid('dora');
    keys.put('dora-binance', { apiKey: dora.apiKey, apiSecret: 'rotated-secret-0123456789abcdef' });
    await until(() => supervisor.pid('dora') !== undefined && supervisor.pid('dora') !== pid);
    keys.put('dora-binance', { apiKey: dora.apiKey, apiSecret: dora.apiSecret });
  });

  it('stops the trader of a removed manifest and keeps its records', async () => {
    const pid = supervisor.pid('dora')!;
    rmSync(join(dir, 'dora.yaml'));
    await until(async () => supervisor.pid('dora') === undefined && (await status('dora')) === null, 20_000);
    expect(() => process.kill(pid, 0)).toThrow();
    await until(async () => (await d.db.selectFrom('accounts').select('status').where('id', '=', 'dora').executeTakeFirst())?.status === 'deleted');
    expect(await d.db.selectFrom('trading_config').select('id').where('account_id', '=', 'dora').execute()).not.toHaveLength(0);
  });
});
