import { Command, InvalidArgumentError } from 'commander';
import { watch } from 'node:fs';
import { envSchema } from '../core/env.js';
import { portOption } from '../core/cli-options.js';
import { readPoolDir, readPoolHandoffs, type PoolAccounts } from '../core/credentials/pool-accounts.js';
import { createDb, createPgPool } from '../core/db/connection.js';
import { awaitSchema, START_DATABASE_GRACE_MS } from '../core/db/migrate.js';
import { AtsError, describeError } from '../core/errors.js';
import { createOpsServer, listenOps } from '../core/ops-server.js';
import { startProcess } from '../core/process.js';

/** How often a mounted pool Secret is read again (the kubelet updates it within about a minute). */
const DIR_POLL_MS = 5_000;

/** Shared connections of a pool: enough for a burst of records, far below Postgres's max_connections. */
const POOL_CONNECTIONS = 8;

export const poolCommand = () =>
  new Command('pool')
    .description('a trader pool: many accounts in one process, each trading as `ats trader` does')
    .requiredOption('--pool <name>', 'the pool name (its logins and metrics carry it)')
    .option(
      '--credentials-dir <dir>',
      'directory of the files <account>.apiKey, <account>.apiSecret and <account>.exchange (the pool Secret the operator mounts), read again every 5 s',
    )
    .option(
      '--credentials-stdin',
      "read the accounts (and the pool's own logins) as JSON lines from standard input, one line per change (how `ats up` runs pools)",
    )
    .option(
      '--exchange <target>',
      'the exchange of an account that names none: simulator, live, demo, testnet or a simulator URL (default: ATS_EXCHANGE)',
      (value: string) => {
        if (!envSchema.shape.ATS_EXCHANGE.safeParse(value).success)
          throw new InvalidArgumentError('expected simulator, live, demo, testnet or an http(s) URL of a simulator');
        return value;
      },
    )
    .option('--port <port>', 'port of /metrics, /healthz, /readyz', portOption, 9465)
    .action(async (opts: { pool: string; credentialsDir?: string; credentialsStdin?: boolean; exchange?: string; port: number }) => {
      if (!opts.credentialsDir === !opts.credentialsStdin)
        throw new AtsError('ATS_CREDENTIALS_MISSING', 'a pool needs exactly one of --credentials-dir <dir> and --credentials-stdin');
      // Accounts that change before the pool is up are applied once it is.
      let later: PoolAccounts | undefined;
      let apply: (accounts: PoolAccounts) => void = (accounts) => void (later = accounts);
      const problems: string[] = [];
      const handed = opts.credentialsStdin
        ? await readPoolHandoffs(
            (h) => apply(h.accounts),
            (message) => problems.push(message),
          )
        : undefined;
      const ctx = startProcess(
        'pool',
        { pool: opts.pool },
        { ...(handed?.databaseUrl ? { DATABASE_URL: handed.databaseUrl } : {}), ...(handed?.redisUrl ? { REDIS_URL: handed.redisUrl } : {}) },
        // A hundred accounts' commands of one tick go out in one write: in a burst, a write per
        // command was a sixth of the pool's CPU (a system call each).
        { enableAutoPipelining: true },
      );
      const log = ctx.root.logger.child({ pool: opts.pool });
      for (const p of problems.splice(0)) log.error({ problem: p }, 'pool accounts refused');
      if (!ctx.env.DATABASE_URL) throw new AtsError('ATS_CONFIG_INVALID', 'a pool needs DATABASE_URL (its own login; the operator or `ats up` gives it one)');
      const [{ RateGovernor }, { AccountPool }] = await Promise.all([import('../core/exchange/governor.js'), import('./account-pool.js')]);
      const pg = createPgPool(ctx.env.DATABASE_URL, POOL_CONNECTIONS);
      const db = createDb(ctx.env.DATABASE_URL, 1);
      const pool = new AccountPool({
        pool: opts.pool,
        redis: ctx.redis,
        pg,
        db,
        logger: ctx.root.logger,
        governor: new RateGovernor({ redis: ctx.redis, registry: ctx.registry, egress: ctx.env.ATS_EGRESS_ID }),
        registry: ctx.registry,
        exchange: opts.exchange ?? ctx.env.ATS_EXCHANGE,
        wsUrl: ctx.env.ATS_EXCHANGE_WS_URL,
      });
      const ops = createOpsServer({
        registry: ctx.registry,
        metrics: () => pool.metrics(),
        ready: () => true,
        status: () => ({ pool: opts.pool, accounts: pool.states() }),
      });
      const listening = await listenOps(ops, opts.port, ctx.env.ATS_METRICS_HOST);
      log.info({ port: listening }, 'pool starting');
      ctx.onShutdown(async () => {
        await db.destroy();
        await pg.end();
      });
      ctx.onShutdown(async () => {
        ops.close();
      });
      ctx.onShutdown(() => pool.stop());
      // An account's unhandled error stops that account (error state, backoff), never the process.
      ctx.onUncaught((err) => pool.crashed(err));
      // As a dedicated trader: the schema check runs beside the start, so open positions get
      // their stop-loss at once even while Postgres is down (records wait in the Redis outbox).
      const schema = awaitSchema(db, START_DATABASE_GRACE_MS);
      apply = (accounts) => void pool.apply(accounts);
      if (handed) return void (await Promise.all([pool.apply(later ?? handed.accounts), schema]));
      const dir = opts.credentialsDir!;
      let lastProblems = '';
      const reread = async () => {
        const found: string[] = [];
        const accounts = await readPoolDir(dir, (m) => found.push(m));
        // Each problem is logged when it appears, not at every read.
        if (found.join('\n') !== lastProblems) for (const p of found) log.error({ problem: p }, 'pool account refused');
        lastProblems = found.join('\n');
        await pool.apply(accounts);
      };
      await Promise.all([reread(), schema]);
      const timer = setInterval(() => void reread().catch((err) => log.error({ err: describeError(err) }, 'could not read the pool accounts')), DIR_POLL_MS);
      let watcher: ReturnType<typeof watch> | undefined;
      try {
        watcher = watch(dir, () => void reread().catch(() => undefined)); // the poll reports failures
      } catch {
        // Polling alone is enough.
      }
      ctx.onShutdown(async () => {
        clearInterval(timer);
        watcher?.close();
      });
    });
