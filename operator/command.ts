import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Command } from 'commander';
import { sql } from 'kysely';
import type { Db } from '../core/db/connection.js';
import { migrateToLatest } from '../core/db/migrate.js';
import { openDatabase } from '../core/db/open.js';
import { countOption, portOption } from '../core/cli-options.js';
import { DEFAULT_POOL_MAX_ACCOUNTS, placementOption, type Placement } from './pools.js';
import { createOpsServer, listenOps } from '../core/ops-server.js';
import { startProcess } from '../core/process.js';
import { AtsError, describeError } from '../core/errors.js';
import { DEFAULT_REDIS_URL } from '../core/env.js';

export const operatorCommand = () =>
  new Command('operator')
    .description('reconcile TradingAccount resources into trader Deployments (in a Kubernetes cluster)')
    .requiredOption('--namespace <ns>', 'namespace to watch (where TradingAccounts, their Secrets and traders live)', process.env.ATS_NAMESPACE)
    .requiredOption('--image <image>', 'image of the trader pods (the same ats image)', process.env.ATS_IMAGE)
    .option('--runtime-secret <name>', 'Secret with DATABASE_URL and REDIS_URL for the traders', 'ats-runtime')
    .option('--marketdata-secret <name>', "Secret to keep marketdata's own database and Redis logins in (the chart's marketdata reads it)")
    .option('--console-secret <name>', "Secret to keep the console's own database and Redis logins in (the chart's console reads it)")
    .option('--lease-name <name>', 'the Lease that elects one leader among operator replicas', 'ats-operator')
    .option('--instance <release>', 'the Helm release: trader pods carry it as app.kubernetes.io/instance')
    .option('--port <port>', 'port of /metrics, /healthz, /readyz', portOption, 9466)
    .option('--trader-requests <cpu,memory>', 'trader resource requests', '20m,128Mi')
    .option('--trader-limits <cpu,memory>', 'trader resource limits', '500m,256Mi')
    .option('--default-placement <where>', 'where an account whose spec names no placement trades: dedicated or pooled', placementOption, 'dedicated')
    .option('--pool-max-accounts <n>', 'accounts per trader pool', countOption('pool-max-accounts'), DEFAULT_POOL_MAX_ACCOUNTS)
    .option('--pool-requests <cpu,memory>', 'trader pool resource requests', '100m,256Mi')
    .option('--pool-limits <cpu,memory>', 'trader pool resource limits', '1,768Mi')
    .action(
      async (opts: {
        namespace: string;
        image: string;
        runtimeSecret: string;
        marketdataSecret?: string;
        consoleSecret?: string;
        leaseName: string;
        instance?: string;
        port: number;
        traderRequests: string;
        traderLimits: string;
        defaultPlacement: Placement;
        poolMaxAccounts: number;
        poolRequests: string;
        poolLimits: string;
      }) => {
        const ctx = startProcess('operator');
        const [{ KubeConfig }, { Controller }, { KubeApi }, { LeaderElection }, { PoolReconciler }] = await Promise.all([
          import('@kubernetes/client-node'),
          import('./kube/controller.js'),
          import('./kube/kube-api.js'),
          import('./kube/leader-election.js'),
          import('./kube/pool-reconciler.js'),
        ]);
        const log = ctx.root.logger;
        const database = await openDatabase(ctx.env);
        await migrateToLatest(database.db);
        if (await isSuperuser(database.db))
          log.warn(
            'DATABASE_URL logs in as a superuser: ats needs only a role that owns the database and may create roles (CREATEROLE). Use such a role (README: Per-account logins).',
          );
        const kc = new KubeConfig();
        kc.loadFromDefault();
        const kube = new KubeApi(kc);
        // Each trader, pool (and marketdata) gets a Postgres role and a Redis user of its own, made from these.
        const logins = {
          db: database.db,
          databaseUrl: database.url,
          redis: ctx.redis,
          redisUrl: ctx.env.REDIS_URL ?? DEFAULT_REDIS_URL,
          keyPrefix: ctx.env.REDIS_KEY_PREFIX,
        };
        const deployment = {
          image: opts.image,
          runtimeSecret: opts.runtimeSecret,
          logLevel: ctx.env.LOG_LEVEL,
          instance: opts.instance,
          resources: resourcesOption(opts.traderRequests, opts.traderLimits),
        };
        const pools = new PoolReconciler({
          kube,
          db: database.db,
          logger: log,
          namespace: opts.namespace,
          workload: { ...deployment, ownLogins: true, poolResources: resourcesOption(opts.poolRequests, opts.poolLimits) },
          defaultPlacement: opts.defaultPlacement,
          maxAccounts: opts.poolMaxAccounts,
          logins,
          runtimeSecret: opts.runtimeSecret,
        });
        const controller = new Controller({
          kube,
          db: database.db,
          redis: ctx.redis,
          logger: log,
          namespace: opts.namespace,
          serviceLogins: [
            ...(opts.marketdataSecret ? [{ service: 'marketdata' as const, secret: opts.marketdataSecret, runtimeSecret: opts.runtimeSecret }] : []),
            ...(opts.consoleSecret ? [{ service: 'console' as const, secret: opts.consoleSecret, runtimeSecret: opts.runtimeSecret }] : []),
          ],
          logins,
          deployment,
          defaultPlacement: opts.defaultPlacement,
          pools,
        });
        const election = new LeaderElection({
          kube,
          namespace: opts.namespace,
          name: opts.leaseName,
          identity: `${hostname()}-${randomBytes(3).toString('hex')}`,
        });
        let leading = false;
        const ops = createOpsServer({ registry: ctx.registry, status: () => ({ leader: leading }) });
        await listenOps(ops, opts.port);
        const tick = async () => {
          try {
            const now = await election.tryAcquire();
            if (now && !leading) {
              log.info('became the leader: reconciling');
              await controller.start();
            } else if (!now && leading) {
              log.warn('lost the lease: standing by');
              controller.stop();
            }
            leading = now;
          } catch (err) {
            log.warn({ err: describeError(err) }, 'leader election failed');
          }
        };
        await tick();
        const timer = setInterval(() => void tick(), 5_000);
        ctx.onShutdown(async () => database.close());
        ctx.onShutdown(async () => {
          clearInterval(timer);
          controller.stop();
          ops.close();
        });
      },
    );

/** `cpu,memory` requests and limits, as the chart passes them. */
const resourcesOption = (requests: string, limits: string) => {
  const [rc, rm] = requests.split(',');
  const [lc, lm] = limits.split(',');
  if (!rc || !rm || !lc || !lm) throw new AtsError('ATS_BAD_OPTION', `resources are given as cpu,memory (got "${requests}" and "${limits}")`);
  return { requests: { cpu: rc, memory: rm }, limits: { cpu: lc, memory: lm } };
};

const isSuperuser = async (db: Db) =>
  (await sql<{ s: boolean }>`select rolsuper as s from pg_roles where rolname = current_user`.execute(db)).rows[0]?.s === true;
