import { Command, InvalidArgumentError } from 'commander';
import { envSchema } from '../core/env.js';
import { portOption } from '../core/cli-options.js';
import { readKeyPairDir } from '../core/credentials/key-dir.js';
import { readTraderHandoff } from '../core/credentials/key-stdin.js';
import { awaitSchema, START_DATABASE_GRACE_MS } from '../core/db/migrate.js';
import { openDatabase } from '../core/db/open.js';
import { createOpsServer, listenOps } from '../core/ops-server.js';
import { startProcess } from '../core/process.js';
import { localKeyStore } from '../core/credentials/local-key-store.js';

export const traderCommand = () =>
  new Command('trader')
    .description("one account's automated trading")
    .requiredOption('--account <id>', 'account id')
    .option('--credentials-dir <dir>', 'directory with the files apiKey and apiSecret (a mounted Secret); default: the local encrypted key store')
    .option('--key-name <name>', 'entry of the local key store to use (default: the account id)')
    .option(
      '--credentials-stdin',
      'read the key pair (and its own database and Redis logins) as JSON from standard input once at start (how `ats up` hands each trader its own)',
    )
    .option('--exchange <target>', 'simulator, live, demo, testnet or a simulator URL (default: ATS_EXCHANGE)', (value: string) => {
      if (!envSchema.shape.ATS_EXCHANGE.safeParse(value).success)
        throw new InvalidArgumentError('expected simulator, live, demo, testnet or an http(s) URL of a simulator');
      return value;
    })
    .option('--port <port>', 'port of /metrics, /healthz, /readyz', portOption, 9465)
    .action(async (opts: { account: string; credentialsDir?: string; keyName?: string; credentialsStdin?: boolean; exchange?: string; port: number }) => {
      // Handed over before anything connects: the trader's own database and Redis logins.
      const handed = opts.credentialsStdin ? await readTraderHandoff() : undefined;
      const ctx = startProcess(
        'trader',
        { account: opts.account },
        { ...(handed?.databaseUrl ? { DATABASE_URL: handed.databaseUrl } : {}), ...(handed?.redisUrl ? { REDIS_URL: handed.redisUrl } : {}) },
      );
      const [{ RateGovernor }, { Trader }] = await Promise.all([import('../core/exchange/governor.js'), import('./trader.js')]);
      const log = ctx.root.logger;
      // Connects lazily: nothing here waits on Postgres.
      const database = await openDatabase(ctx.env);
      const store = opts.credentialsDir || handed ? undefined : localKeyStore(ctx.env);
      const trader = new Trader({
        accountId: opts.account,
        redis: ctx.redis,
        db: database.db,
        logger: log,
        registry: ctx.registry,
        governor: new RateGovernor({ redis: ctx.redis, registry: ctx.registry, egress: ctx.env.ATS_EGRESS_ID }),
        exchange: opts.exchange ?? ctx.env.ATS_EXCHANGE,
        wsUrl: ctx.env.ATS_EXCHANGE_WS_URL,
        credentials: async () => handed?.pair ?? (opts.credentialsDir ? readKeyPairDir(opts.credentialsDir) : store!.get(opts.keyName ?? opts.account)),
      });
      const ops = createOpsServer({
        registry: ctx.registry,
        healthy: () => true,
        // Ready while trading or deliberately not entering; an account in error is not ready.
        ready: () => ['active', 'paused', 'halted'].includes(trader.state),
        status: () => ({ account: opts.account, state: trader.state, lastError: trader.lastError }),
      });
      const listening = await listenOps(ops, opts.port, ctx.env.ATS_METRICS_HOST);
      log.info({ account_id: opts.account, port: listening }, 'trader starting');
      ctx.onShutdown(async () => database.close());
      ctx.onShutdown(async () => {
        ops.close();
      });
      ctx.onShutdown(() => trader.stop());
      // Its role may not change the schema: the operator (or `ats migrate`) migrates. The check
      // runs beside the start, so that open positions get their stop-loss at once even while
      // Postgres is down (records wait in the Redis outbox); a schema behind, or a Postgres still
      // unreachable after the grace, fails the start: the process exits and is started again.
      await Promise.all([trader.start(), awaitSchema(database.db, START_DATABASE_GRACE_MS)]);
    });
