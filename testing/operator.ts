import { pino } from 'pino';
import { Controller } from '../operator/kube/controller.js';
import { KubeApi } from '../operator/kube/kube-api.js';
import { PoolReconciler } from '../operator/kube/pool-reconciler.js';
import { DEFAULT_POOL_RESOURCES } from '../operator/kube/pool-workload.js';
import { DEFAULT_TRADER_RESOURCES } from '../operator/kube/trader-deployment.js';
import type { Placement } from '../operator/pools.js';
import type { StandInApiServer } from './kube-api-server.js';
import type { TestDatabase, TestRedis } from './services.js';

export const TEST_IMAGE = 'ghcr.io/example/ats:test';

/**
 * The operator's controller as `ats operator` builds it, against a stand-in API server and the
 * test's database and Redis: the runtime Secret `ats-runtime`, marketdata's logins, trader pools
 * (an account that leaves a pool leaves its logins at once), a resync every 400 ms.
 */
export function testController(
  api: StandInApiServer,
  namespace: string,
  d: TestDatabase,
  r: TestRedis,
  o: { defaultPlacement?: Placement; maxAccounts?: number } = {},
): Controller {
  const kube = new KubeApi(api.kubeConfig());
  const logger = pino({ level: 'silent' });
  const logins = { db: d.db, databaseUrl: d.url, redis: r.redis, redisUrl: r.env.REDIS_URL, keyPrefix: r.prefix };
  const deployment = { image: TEST_IMAGE, runtimeSecret: 'ats-runtime', logLevel: 'info', resources: DEFAULT_TRADER_RESOURCES };
  const defaultPlacement = o.defaultPlacement ?? 'dedicated';
  const pools = new PoolReconciler({
    kube,
    db: d.db,
    logger,
    namespace,
    workload: { ...deployment, ownLogins: true, poolResources: DEFAULT_POOL_RESOURCES },
    defaultPlacement,
    maxAccounts: o.maxAccounts ?? 100,
    logins,
    runtimeSecret: 'ats-runtime',
    leavingGraceMs: 0,
  });
  return new Controller({
    kube,
    db: d.db,
    redis: r.redis,
    logger,
    namespace,
    resyncMs: 400,
    serviceLogins: [
      { service: 'marketdata', secret: 'ats-marketdata-logins', runtimeSecret: 'ats-runtime' },
      { service: 'console', secret: 'ats-console-logins', runtimeSecret: 'ats-runtime' },
    ],
    logins,
    deployment,
    defaultPlacement,
    pools,
  });
}
