import { keyFingerprint } from '../../core/credentials/key-pair.js';
import { ACCOUNT_MARK } from '../key-binding.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { redisKeys } from '../../core/redis-contract.js';
import { StandInApiServer } from '../../testing/kube-api-server.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../../testing/services.js';
import { until } from '../../testing/until.js';
import { createDb } from '../../core/db/connection.js';
import { traderRoleName, traderRoles } from '../../core/db/trader-role.js';
import { consoleRedisUser, marketdataRedisUser, traderRedisUser } from '../../core/redis-acl.js';
import { serviceRoleName } from '../../core/db/service-role.js';
import { marketdataRoleName } from '../../core/db/marketdata-role.js';
import { chartRoleGrants, permissionsUsed } from '../../testing/rbac.js';
import { FINALIZER } from '../spec.js';
import type { Controller } from './controller.js';
import { KubeApi } from './kube-api.js';
import { LeaderElection } from './leader-election.js';
import { DEFAULT_TRADER_RESOURCES } from './trader-deployment.js';
import { testController } from '../../testing/operator.js';

const NS = 'trading';
const ta = (name: string) => `/apis/ats.dev/v1alpha1/namespaces/${NS}/tradingaccounts/${name}`;
const dep = (name: string) => `/apis/apps/v1/namespaces/${NS}/deployments/trader-${name}`;
const secret = (name: string) => `/api/v1/namespaces/${NS}/secrets/${name}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const account = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'ats.dev/v1alpha1',
  kind: 'TradingAccount',
  metadata: { name, namespace: NS },
  spec: { displayName: `${name} account`, exchange: 'demo', secretRef: { name: `${name}-binance` }, config: { minScore: 0.6 }, ...spec },
});

describe('operator against a stand-in Kubernetes API server', () => {
  let api: StandInApiServer;
  let r: TestRedis;
  let d: TestDatabase;
  let controller: Controller;
  const newController = () => testController(api, NS, d, r);

  /** Whether the Redis user and password in this URL log in now. */
  const canLogIn = async (url: string) => {
    const { username, password } = new URL(url);
    const probe = r.redis.duplicate();
    const ok = await probe.call('AUTH', username, password).then(
      () => true,
      () => false,
    );
    probe.disconnect();
    return ok;
  };

  beforeAll(async () => {
    api = new StandInApiServer();
    await api.start();
    r = createTestRedis();
    d = await createTestDatabase();
    api.put(secret('ats-runtime'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ats-runtime', namespace: NS }, data: {} });
    controller = newController();
    await controller.start();
  });
  afterAll(async () => {
    controller.stop();
    await api.stop();
    await r.cleanup();
    await d.drop();
  });

  it('creates one trader Deployment with every required property, the rows, the config and a status', async () => {
    api.put(secret('alice-binance'), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'alice-binance', namespace: NS, annotations: { [ACCOUNT_MARK]: 'alice' } },
      data: { apiKey: b64('ak-1'), apiSecret: b64('as-1') },
    });
    api.put(ta('alice'), account('alice'));
    await until(() => api.get(dep('alice')) !== undefined && (api.get(ta('alice'))?.status as any)?.phase !== undefined);

    const deployment = api.get(dep('alice'))! as any;
    expect(() => new Deployment(deployment).validate()).not.toThrow();
    expect(deployment.metadata.managedFields).toEqual([{ manager: 'ats-operator', operation: 'Apply' }]);
    expect(deployment.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'TradingAccount', name: 'alice', controller: true, uid: api.get(ta('alice'))!.metadata.uid }),
    ]);
    expect(deployment.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(pod).toMatchObject({ automountServiceAccountToken: false, securityContext: { runAsNonRoot: true } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(container.resources).toEqual(DEFAULT_TRADER_RESOURCES);
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 9465, protocol: 'TCP' }]);
    expect(container.volumeMounts).toContainEqual({ name: 'credentials', mountPath: '/var/run/secrets/ats', readOnly: true });
    expect(pod.volumes).toContainEqual(expect.objectContaining({ name: 'credentials', secret: expect.objectContaining({ secretName: 'alice-binance' }) }));
    expect(JSON.stringify(deployment)).not.toContain('ak-1');

    expect(api.get(ta('alice'))!.metadata.finalizers).toEqual([FINALIZER]);
    expect(api.get(ta('alice'))!.status).toMatchObject({ phase: 'Pending', observedGeneration: 1 });
    expect(await d.db.selectFrom('accounts').select(['id', 'name', 'exchange', 'status']).execute()).toEqual([
      { id: 'alice', name: 'alice account', exchange: 'demo', status: 'active' },
    ]);
    expect(await r.redis.hget(redisKeys.config('alice'), 'minScore')).toBe('0.6');
  });

  it('gives the trader logins of its own in a Secret it owns, and brings its Redis user back after a Redis restart', async () => {
    const logins = api.get(secret('trader-alice-logins')) as any;
    expect(logins.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'TradingAccount', name: 'alice', controller: true })]);
    const pod = (api.get(dep('alice')) as any).spec.template.spec;
    expect(pod.containers[0].envFrom).toEqual([{ secretRef: { name: 'trader-alice-logins' } }]);
    const value = (k: string) => Buffer.from(logins.data[k], 'base64').toString('utf8');
    expect(new URL(value('DATABASE_URL')).username).toBe(await traderRoleName(d.db, 'alice'));
    expect(new URL(value('REDIS_URL')).username).toBe(traderRedisUser('alice', r.prefix));
    // The role reaches only alice's rows.
    const asAlice = createDb(value('DATABASE_URL'));
    expect((await asAlice.selectFrom('accounts').select('id').execute()).map((a) => a.id)).toEqual(['alice']);
    await asAlice.destroy();

    // A Redis without persistence forgets its users: the next pass sets the same login again.
    await r.redis.call('ACL', 'DELUSER', traderRedisUser('alice', r.prefix));
    await until(() => canLogIn(value('REDIS_URL')));
  });

  it("keeps marketdata's own logins in a Secret that goes with the release, and sets its Redis user again", async () => {
    await until(() => api.get(secret('ats-marketdata-logins')) !== undefined);
    const logins = api.get(secret('ats-marketdata-logins')) as any;
    expect(logins.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Secret', name: 'ats-runtime', uid: api.get(secret('ats-runtime'))!.metadata.uid }),
    ]);
    const value = (k: string) => Buffer.from(logins.data[k], 'base64').toString('utf8');
    expect(new URL(value('DATABASE_URL')).username).toBe(await marketdataRoleName(d.db));
    expect(new URL(value('REDIS_URL')).username).toBe(marketdataRedisUser(r.prefix));
    expect(value('REDIS_KEY_PREFIX')).toBe(r.prefix);
    await r.redis.call('ACL', 'DELUSER', marketdataRedisUser(r.prefix));
    await until(() => canLogIn(value('REDIS_URL')));
    // Same passwords: the Secret was not rewritten.
    expect((api.get(secret('ats-marketdata-logins')) as any).data).toEqual(logins.data);
  });

  it("keeps the console's own logins in a Secret too: its role reads records, its Redis user writes no trading key", async () => {
    await until(() => api.get(secret('ats-console-logins')) !== undefined);
    const logins = api.get(secret('ats-console-logins')) as any;
    const value = (k: string) => Buffer.from(logins.data[k], 'base64').toString('utf8');
    expect(new URL(value('DATABASE_URL')).username).toBe(await serviceRoleName(d.db, 'console'));
    expect(new URL(value('REDIS_URL')).username).toBe(consoleRedisUser(r.prefix));
    expect(logins.metadata.labels['app.kubernetes.io/component']).toBe('console');
    await until(() => canLogIn(value('REDIS_URL')));
  });

  it('applies a spec change to Postgres and Redis without touching the Deployment', async () => {
    const before = api.get(dep('alice'))!.metadata.resourceVersion;
    api.put(ta('alice'), account('alice', { config: { minScore: 0.75, leverage: 4 } }));
    await until(async () => (await r.redis.hget(redisKeys.config('alice'), 'minScore')) === '0.75');
    const rows = await d.db.selectFrom('trading_config').select(['config_key', 'config_value']).where('account_id', '=', 'alice').execute();
    expect(Object.fromEntries(rows.map((x) => [x.config_key, x.config_value]))).toMatchObject({ minScore: 0.75, leverage: 4 });
    await until(() => (api.get(ta('alice'))!.status as any).observedGeneration === 2);
    expect(api.get(dep('alice'))!.metadata.resourceVersion).toBe(before);
  });

  it('rolls the trader when its Secret changes (key rotation)', async () => {
    const before = (api.get(dep('alice')) as any).spec.template.metadata.annotations['ats.dev/secret-version'];
    api.put(secret('alice-binance'), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'alice-binance', namespace: NS, annotations: { [ACCOUNT_MARK]: 'alice' } },
      data: { apiKey: b64('ak-2'), apiSecret: b64('as-2') },
    });
    await until(() => (api.get(dep('alice')) as any).spec.template.metadata.annotations['ats.dev/secret-version'] !== before);
    expect(api.get(dep('alice'))!.metadata.generation).toBe(2);
  });

  it('reports the trader state from its heartbeat, e.g. keys rejected by the exchange', async () => {
    await r.redis.set(
      redisKeys.heartbeat('trader:alice'),
      JSON.stringify({ state: 'error', at: Date.now(), openPositions: 0, lastError: 'API key rejected by the exchange: binanceusdm {"code":-2015}' }),
    );
    await until(() => (api.get(ta('alice'))!.status as any).phase === 'Error');
    const status = api.get(ta('alice'))!.status as any;
    expect(status.lastError).toMatch(/^API key rejected by the exchange/);
    expect(status.conditions.find((c: any) => c.type === 'TraderReady')).toMatchObject({ status: 'False', reason: 'TraderError', observedGeneration: 2 });
    await r.redis.set(redisKeys.heartbeat('trader:alice'), JSON.stringify({ state: 'active', at: Date.now(), openPositions: 2, equity: 1234.5 }));
    await until(() => (api.get(ta('alice'))!.status as any).phase === 'Running');
    expect(api.get(ta('alice'))!.status).toMatchObject({ openPositions: 2, equity: 1234.5 });
  });

  it('reports a missing Secret as a condition a person can act on, and starts no trader', async () => {
    api.put(ta('bob'), account('bob'));
    await until(() => (api.get(ta('bob'))?.status as any)?.phase === 'Error');
    const status = api.get(ta('bob'))!.status as any;
    expect(status.conditions.find((c: any) => c.type === 'SecretReady')).toMatchObject({
      status: 'False',
      reason: 'SecretNotFound',
      message: `Secret bob-binance not found in namespace ${NS}: create it with the keys apiKey and apiSecret (for example seal one with kubeseal), then the trader starts`,
    });
    expect(api.get(dep('bob'))).toBeUndefined();
  });

  it('gives a key to one account only: a Secret must be marked for it, and a key bound to another account is refused', async () => {
    const secretReady = (id: string) => ((api.get(ta(id))?.status as any)?.conditions ?? []).find((c: any) => c.type === 'SecretReady');
    // mallory names alice's Secret.
    api.put(ta('mallory'), account('mallory', { secretRef: { name: 'alice-binance' } }));
    await until(() => secretReady('mallory')?.status === 'False');
    expect(secretReady('mallory').message).toBe('Secret alice-binance is marked for account alice, not mallory (ats.dev/account): a Secret serves one account');
    // A Secret of its own, not marked.
    const own = (annotations: Record<string, string>, apiKey: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'mallory-binance', namespace: NS, annotations },
      data: { apiKey: b64(apiKey), apiSecret: b64('ms') },
    });
    api.put(secret('mallory-binance'), own({}, 'mk-1'));
    api.put(ta('mallory'), account('mallory'));
    await until(() => /not marked for account mallory/.test(secretReady('mallory')?.message ?? ''));
    expect(secretReady('mallory').message).toBe(
      `Secret mallory-binance is not marked for account mallory: mark it with \`kubectl -n ${NS} annotate secret mallory-binance ats.dev/account=mallory\`, then the trader starts`,
    );
    // Marked, but holding alice's API key.
    api.put(secret('mallory-binance'), own({ [ACCOUNT_MARK]: 'mallory' }, 'ak-2'));
    await until(() => /already bound to account alice/.test(secretReady('mallory')?.message ?? ''));
    expect(api.get(dep('mallory'))).toBeUndefined();
    expect(JSON.stringify(api.get(ta('mallory'))!.status)).not.toContain('ak-2');
    // A key of its own: it runs.
    api.put(secret('mallory-binance'), own({ [ACCOUNT_MARK]: 'mallory' }, 'mk-2'));
    await until(() => api.get(dep('mallory')) !== undefined);
    const rows = await d.db.selectFrom('accounts').select(['id', 'key_fingerprint']).where('id', 'in', ['alice', 'mallory']).orderBy('id').execute();
    expect(rows.map((x) => x.key_fingerprint)).toEqual([keyFingerprint('ak-2'), keyFingerprint('mk-2')]);
  });

  it('changes nothing when the operator restarts (idempotent)', async () => {
    const before = api.get(dep('alice'))!.metadata.resourceVersion;
    const configAt = await d.db.selectFrom('trading_config').select('updated_at').where('account_id', '=', 'alice').execute();
    controller.stop();
    controller = newController();
    await controller.start();
    // Several resync passes of the new controller.
    await new Promise((res) => setTimeout(res, 1_500));
    expect(api.get(dep('alice'))!.metadata.resourceVersion).toBe(before);
    expect(await d.db.selectFrom('trading_config').select('updated_at').where('account_id', '=', 'alice').execute()).toEqual(configAt);
  });

  it('relists after 410 Gone and retries a write refused with 409', async () => {
    api.compact();
    api.injectConflict(1);
    api.put(secret('carol-binance'), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'carol-binance', namespace: NS, annotations: { [ACCOUNT_MARK]: 'carol' } },
      data: { apiKey: b64('c'), apiSecret: b64('c') },
    });
    api.put(ta('carol'), account('carol'));
    await until(() => api.get(dep('carol')) !== undefined && (api.get(ta('carol'))!.metadata.finalizers ?? []).includes(FINALIZER));
  });

  it('stops the trader and keeps the records when an account is deleted', async () => {
    await d.db
      .insertInto('trades')
      .values({
        account_id: 'alice',
        exchange_trade_id: 't1',
        exchange_order_id: 'o1',
        symbol: 'BTCUSDT',
        side: 'buy',
        price: 1,
        quantity: 1,
        quote_quantity: 1,
        commission: 0,
        commission_asset: 'USDT',
        realized_pnl: 0,
        is_maker: false,
        traded_at: new Date().toISOString(),
      })
      .execute();
    api.delete(ta('alice'));
    await until(() => api.get(ta('alice')) === undefined);
    expect(api.get(dep('alice'))).toBeUndefined();
    expect(await d.db.selectFrom('accounts').select('status').where('id', '=', 'alice').executeTakeFirst()).toEqual({ status: 'deleted' });
    expect(await d.db.selectFrom('trades').select('id').where('account_id', '=', 'alice').execute()).toHaveLength(1);
    expect(await r.redis.exists(redisKeys.config('alice'))).toBe(0);
    // Its logins no longer work.
    expect(await traderRoles(d.db)).not.toContain(await traderRoleName(d.db, 'alice'));
    expect(String(await r.redis.call('ACL', 'USERS'))).not.toContain(traderRedisUser('alice', r.prefix));
  });

  it('elects one leader through a Lease; another takes over when it stops renewing', async () => {
    let now = Date.now();
    const kube = new KubeApi(api.kubeConfig());
    const a = new LeaderElection({ kube, namespace: NS, name: 'ats-operator', identity: 'a', leaseSeconds: 15, now: () => now });
    const b = new LeaderElection({ kube, namespace: NS, name: 'ats-operator', identity: 'b', leaseSeconds: 15, now: () => now });
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    now += 5_000;
    expect(await a.tryAcquire()).toBe(true);
    now += 16_000;
    expect(await b.tryAcquire()).toBe(true);
    expect(await a.tryAcquire()).toBe(false);
  });

  it('tells what it did and what fails as Kubernetes Events on the account', async () => {
    const events = [...api.objects.entries()].filter(([p]) => p.startsWith(`/api/v1/namespaces/${NS}/events/`)).map(([, e]) => e as any);
    const reasons = new Set(events.map((e) => `${e.type}/${e.reason}`));
    expect([...reasons]).toEqual(
      expect.arrayContaining(['Normal/TraderCreated', 'Warning/SecretNotFound', 'Normal/KeyRotated', 'Warning/TraderError', 'Normal/Deleted']),
    );
    expect(events.every((e) => e.involvedObject.kind === 'TradingAccount' && e.involvedObject.uid)).toBe(true);
  });

  it('runs a pooled account in a pool, and removes the pool with its Secrets when the account goes', async () => {
    api.put(secret('paula-binance'), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'paula-binance', namespace: NS, annotations: { [ACCOUNT_MARK]: 'paula' } },
      data: { apiKey: b64('ak-paula'), apiSecret: b64('as-paula') },
    });
    api.put(ta('paula'), account('paula', { placement: 'pooled' }));
    await until(() => api.get(`/apis/apps/v1/namespaces/${NS}/deployments/pool-0`) !== undefined && (api.get(ta('paula'))?.status as any)?.pool === 'pool-0');
    expect(api.get(dep('paula'))).toBeUndefined();
    api.delete(ta('paula'));
    await until(() => api.get(`/apis/apps/v1/namespaces/${NS}/deployments/pool-0`) === undefined && api.get(secret('pool-0-keys')) === undefined);
  });

  it("uses exactly the permissions the chart's Role grants, no more and no fewer", () => {
    expect([...chartRoleGrants('operator', NS)].sort()).toEqual([...permissionsUsed(api.calls)].sort());
  });
});
