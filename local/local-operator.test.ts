import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { LocalKeyStore } from '../core/credentials/local-key-store.js';
import { redisKeys } from '../core/redis-contract.js';
import { ATS_PROGRAM } from '../testing/processes.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../testing/services.js';
import { tempDir } from '../testing/temp.js';
import { startTestSimulator, type TestSimulator } from '../testing/simulator.js';
import { until } from '../testing/until.js';
import { LocalOperator, type LocalAccountStatus } from './local-operator.js';
import { ProcessSupervisor } from './process-supervisor.js';

const manifest = (name: string, secret: string, config: Record<string, unknown> = {}) => `apiVersion: ats.dev/v1alpha1
kind: TradingAccount
metadata:
  name: ${name}
spec:
  displayName: ${name}
  exchange: simulator
  secretRef: { name: ${secret} }
  config: ${JSON.stringify(config)}
`;

describe('local runtime', () => {
  let t: TestSimulator;
  let r: TestRedis;
  let d: TestDatabase;
  let dir: string;
  let operator: LocalOperator;
  let supervisor: ProcessSupervisor;

  beforeAll(async () => {
    t = await startTestSimulator();
    r = createTestRedis();
    d = await createTestDatabase();
    dir = tempDir('ats-manifests');
    const state = tempDir('ats-state');
    const keys = new LocalKeyStore(join(state, 'keys'), 'local-runtime-test-master-key');
    const dora = t.account(5_000);
    keys.put('dora-binance', { apiKey: dora.apiKey, apiSecret: dora.apiSecret });
    writeFileSync(join(dir, 'dora.yaml'), manifest('dora', 'dora-binance', { minScore: 0.6 }));
    writeFileSync(join(dir, 'eve.yaml'), manifest('eve', 'eve-binance'));
    supervisor = new ProcessSupervisor({
      logDir: join(state, 'logs'),
      logger: pino({ level: 'silent' }),
      program: ATS_PROGRAM,
      env: { ...r.env, DATABASE_URL: d.url, ATS_STATE_DIR: state, ATS_MASTER_KEY: 'local-runtime-test-master-key' },
    });
    operator = new LocalOperator({ dir, db: d.db, redis: r.redis, keys, supervisor, logger: pino({ level: 'silent' }), intervalMs: 500, simulatorUrl: t.url });
    operator.start();
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

  it('applies a spec change live, without restarting the trader', async () => {
    const pid = supervisor.pid('dora');
    writeFileSync(join(dir, 'dora.yaml'), manifest('dora', 'dora-binance', { minScore: 0.8, leverage: 2 }));
    await until(async () => (await r.redis.hget(redisKeys.config('dora'), 'minScore')) === '0.8');
    const rows = await d.db.selectFrom('trading_config').select(['config_key', 'config_value']).where('account_id', '=', 'dora').execute();
    expect(Object.fromEntries(rows.map((x) => [x.config_key, x.config_value]))).toMatchObject({ minScore: 0.8, leverage: 2 });
    expect(supervisor.pid('dora')).toBe(pid);
    expect((await status('dora'))!.observedGeneration).toBe(2);
  });

  it('brings a killed trader back', async () => {
    const pid = supervisor.pid('dora')!;
    process.kill(pid, 'SIGKILL');
    await until(() => supervisor.pid('dora') !== undefined && supervisor.pid('dora') !== pid, 20_000);
    await until(async () => (await status('dora'))?.phase === 'Running' && Date.parse((await status('dora'))!.lastHeartbeat!) > Date.now() - 3_000, 40_000);
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
