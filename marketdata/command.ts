import { Command } from 'commander';
import { portOption, positiveOption as positive } from '../core/cli-options.js';
import { awaitSchema, migrateToLatest, START_DATABASE_GRACE_MS } from '../core/db/migrate.js';
import { openDatabase } from '../core/db/open.js';
import { readLoginsHandoff } from '../core/credentials/key-stdin.js';
import { createOpsServer, listenOps } from '../core/ops-server.js';
import { startProcess } from '../core/process.js';

export const marketdataCommand = () =>
  new Command('marketdata')
    .description("the node's only reader of public market data: shared caches and global recommendations")
    .option('--port <port>', 'port of /metrics, /healthz, /readyz', portOption, 9464)
    .option('--scan-every <minutes>', 'minutes between recommendation scans', positive('scan-every'), 15)
    .option('--interval <interval>', 'kline interval the strategy reads', '1h')
    .option('--universe <n>', 'how many of the most traded USDT perpetuals to scan', positive('universe'), 20)
    .option('--validity <minutes>', 'minutes a recommendation stays actionable', positive('validity'), 60)
    .option('--logins-stdin', 'read its own database and Redis logins as JSON from standard input once at start (how `ats up` hands them over)')
    .action(async (opts) => {
      // Handed over before anything connects: marketdata's own database and Redis logins.
      const handed = opts.loginsStdin ? await readLoginsHandoff() : undefined;
      const ctx = startProcess(
        'marketdata',
        {},
        {
          ...(handed?.databaseUrl ? { DATABASE_URL: handed.databaseUrl } : {}),
          ...(handed?.redisUrl ? { REDIS_URL: handed.redisUrl } : {}),
        },
      );
      const [{ RateGovernor }, { MarketdataService }] = await Promise.all([import('../core/exchange/governor.js'), import('./service.js')]);
      const log = ctx.root.logger;
      const database = await openDatabase(ctx.env, (m) => log.debug({ postgres: m }, 'embedded postgres'));
      // Without DATABASE_URL the embedded database is its own to migrate.
      if (!ctx.env.DATABASE_URL) await migrateToLatest(database.db);
      const service = new MarketdataService({
        redis: ctx.redis,
        db: database.db,
        logger: log,
        registry: ctx.registry,
        governor: new RateGovernor({ redis: ctx.redis, registry: ctx.registry, egress: ctx.env.ATS_EGRESS_ID }),
        exchange: ctx.env.ATS_EXCHANGE,
        wsUrl: ctx.env.ATS_EXCHANGE_WS_URL,
        scanIntervalMs: opts.scanEvery * 60_000,
        interval: opts.interval,
        universeSize: opts.universe,
        validityMs: opts.validity * 60_000,
        ...(ctx.env.ATS_INSTANCE_ID ? { instanceId: ctx.env.ATS_INSTANCE_ID } : {}),
      });
      const ops = createOpsServer({
        registry: ctx.registry,
        ready: () => ctx.redis.status === 'ready',
        status: () => ({ role: service.active ? 'active' : 'standby', instance: service.id }),
      });
      const port = await listenOps(ops, opts.port, ctx.env.ATS_METRICS_HOST);
      service.start();
      log.info({ port, exchange: ctx.env.ATS_EXCHANGE, instance: service.id }, 'marketdata started');
      ctx.onShutdown(async () => database.close());
      ctx.onShutdown(async () => {
        ops.close();
      });
      ctx.onShutdown(() => service.stop());
      // With DATABASE_URL its own role may not change the schema (the operator or `ats up`
      // migrates): checked beside the start, so that mark prices flow even while Postgres is down.
      if (ctx.env.DATABASE_URL) await awaitSchema(database.db, START_DATABASE_GRACE_MS);
    });
