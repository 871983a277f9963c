import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { poolRoleName } from '../../core/db/pool-role.js';
import { poolRedisUser } from '../../core/redis-acl.js';
import { ACCOUNT_MARK } from '../key-binding.js';
import { StandInApiServer } from '../../testing/kube-api-server.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../../testing/services.js';
import { until } from '../../testing/until.js';
import type { Controller } from './controller.js';
import { testController } from '../../testing/operator.js';
import { DEFAULT_POOL_RESOURCES } from './pool-workload.js';

const NS = 'trading';
const ta = (name: string) => `/apis/ats.dev/v1alpha1/namespaces/${NS}/tradingaccounts/${name}`;
const dep = (name: string) => `/apis/apps/v1/namespaces/${NS}/deployments/${name}`;
const secret = (name: string) => `/api/v1/namespaces/${NS}/secrets/${name}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const account = (name: string, placement?: string) => ({
  apiVersion: 'ats.dev/v1alpha1',
  kind: 'TradingAccount',
  metadata: { name, namespace: NS },
  spec: { displayName: name, exchange: 'demo', secretRef: { name: `${name}-binance` }, ...(placement ? { placement } : {}) },
});

describe('operator: trader pools', () => {
  let api: StandInApiServer;
  let r: TestRedis;
  let d: TestDatabase;
  let controller: Controller;
  const status = (name: string) => (api.get(ta(name))?.status ?? {}) as { pool?: string; phase?: string };
  const keysOf = (pool: string) => Object.keys((api.get(secret(`${pool}-keys`)) as { data?: Record<string, string> } | undefined)?.data ?? {}).sort();

  beforeAll(async () => {
    api = new StandInApiServer();
    await api.start();
    r = createTestRedis();
    d = await createTestDatabase();
    api.put(secret('ats-runtime'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ats-runtime', namespace: NS }, data: {} });
    controller = testController(api, NS, d, r, { defaultPlacement: 'pooled', maxAccounts: 2 });
    await controller.start();
  });
  afterAll(async () => {
    controller.stop();
    await api.stop();
    await r.cleanup();
    await d.drop();
  });

  it('places accounts without a placement in pools of at most maxAccounts: a Deployment and a keys Secret per pool, the pool in the status', async () => {
    for (const name of ['ann', 'ben', 'cat']) {
      api.put(secret(`${name}-binance`), {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `${name}-binance`, namespace: NS, annotations: { [ACCOUNT_MARK]: name } },
        data: { apiKey: b64(`ak-${name}`), apiSecret: b64(`as-${name}`) },
      });
      api.put(ta(name), account(name));
    }
    await until(() => ['ann', 'ben', 'cat'].every((n) => status(n).pool !== undefined) && api.get(dep('pool-1')) !== undefined, 15_000);
    expect(['ann', 'ben', 'cat'].map((n) => status(n).pool)).toEqual(['pool-0', 'pool-0', 'pool-1']);
    for (const n of ['ann', 'ben', 'cat']) expect(api.get(dep(`trader-${n}`))).toBeUndefined();

    const pool = api.get(dep('pool-0')) as any;
    expect(() => new Deployment(pool).validate()).not.toThrow();
    expect(pool.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Secret', name: 'ats-runtime' })]);
    const container = pool.spec.template.spec.containers[0];
    expect(container.args).toEqual(['pool', '--pool', 'pool-0', '--credentials-dir', '/var/run/secrets/ats-pool', '--port', '9465']);
    expect(container.envFrom).toEqual([{ secretRef: { name: 'pool-0-logins' } }]);
    expect(container.resources).toEqual(DEFAULT_POOL_RESOURCES);
    expect(pool.spec.template.spec.volumes).toContainEqual(
      expect.objectContaining({ name: 'credentials', secret: expect.objectContaining({ secretName: 'pool-0-keys' }) }),
    );
    expect(JSON.stringify(pool)).not.toContain(b64('ak-ann'));
    expect(keysOf('pool-0')).toEqual(['ann.apiKey', 'ann.apiSecret', 'ann.exchange', 'ben.apiKey', 'ben.apiSecret', 'ben.exchange']);
    expect((api.get(secret('pool-0-keys')) as any).data['ann.apiSecret']).toBe(b64('as-ann'));
    // The pool's logins cover exactly its accounts.
    const role = await poolRoleName(d.db, 'pool-0');
    const members = await sql<{ n: string }>`select count(*) as n from pg_auth_members m join pg_roles u on u.oid = m.member where u.rolname = ${role}`.execute(
      d.db,
    );
    expect(Number(members.rows[0]!.n)).toBe(2);
    expect(((await r.redis.call('ACL', 'GETUSER', poolRedisUser('pool-0', r.prefix))) as unknown[]).length).toBeGreaterThan(0);
  });

  it('an account that asks for a dedicated trader leaves its pool; a pool left empty goes with its Secrets and logins', async () => {
    api.put(ta('ann'), account('ann', 'dedicated'));
    await until(() => api.get(dep('trader-ann')) !== undefined && status('ann').pool === undefined && !keysOf('pool-0').includes('ann.apiKey'), 15_000);
    expect(status('ben').pool).toBe('pool-0');

    api.delete(ta('cat'));
    await until(
      () => api.get(dep('pool-1')) === undefined && api.get(secret('pool-1-keys')) === undefined && api.get(secret('pool-1-logins')) === undefined,
      15_000,
    );
    const role = await poolRoleName(d.db, 'pool-1');
    await until(async () => (await sql`select 1 from pg_roles where rolname = ${role}`.execute(d.db)).rows.length === 0, 10_000);
    expect(api.get(dep('pool-0'))).toBeDefined();
  });

  it('keeps an account whose key is already bound to another account out of every pool', async () => {
    // ben's key, in a Secret marked for eve: a key serves one account.
    api.put(secret('eve-binance'), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'eve-binance', namespace: NS, annotations: { [ACCOUNT_MARK]: 'eve' } },
      data: { apiKey: b64('ak-ben'), apiSecret: b64('as-eve') },
    });
    api.put(ta('eve'), account('eve'));
    await until(() => /already bound to account ben/.test(JSON.stringify(api.get(ta('eve'))?.status ?? {})), 15_000);
    expect(status('eve').pool).toBeUndefined();
    expect(keysOf('pool-0').filter((k) => k.startsWith('eve.'))).toEqual([]);
    expect(status('ben').pool).toBe('pool-0');
  });
});
