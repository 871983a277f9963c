import { Command } from 'commander';
import { resolve } from 'node:path';
import { portOption } from '../core/cli-options.js';
import { readLoginsHandoff } from '../core/credentials/key-stdin.js';
import { localKeyStore } from '../core/credentials/local-key-store.js';
import { awaitSchema, START_DATABASE_GRACE_MS } from '../core/db/migrate.js';
import { openDatabase } from '../core/db/open.js';
import { AtsError } from '../core/errors.js';
import { registerSecret } from '../core/secrets-scrub.js';
import { loadEnv } from '../core/env.js';
import type { Redis } from 'ioredis';
import { startProcess } from '../core/process.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export const consoleCommand = () =>
  new Command('console')
    .description('the web console and HTTP API: each user sees and runs only their own accounts')
    .option('--port <port>', 'port of the web console and API', portOption, 8090)
    .option('--host <host>', 'address to listen on (0.0.0.0 in a pod)', '127.0.0.1')
    .option('--namespace <ns>', 'in a cluster: the namespace of the TradingAccounts and their Secrets', process.env.ATS_NAMESPACE)
    .option('--accounts <dir>', 'locally: a folder of TradingAccount manifests the local operator reads (repeatable)', collect)
    .option('--new-accounts <dir>', 'locally: where accounts created in the console are written (one of --accounts; default the first)')
    .option('--default-exchange <exchange>', 'the exchange of an account created without one', 'simulator')
    .option('--secure-cookies', 'send cookies over HTTPS only (behind TLS, e.g. an Ingress)')
    .option('--trust-proxy', 'take the client address from X-Forwarded-For (only behind a proxy such as an Ingress)')
    .option('--logins-stdin', 'read its database and Redis logins as JSON from standard input once at start (how `ats up` hands them over)')
    .action(
      async (opts: {
        port: number;
        host: string;
        namespace?: string;
        accounts?: string[];
        newAccounts?: string;
        defaultExchange: string;
        secureCookies?: boolean;
        trustProxy?: boolean;
        loginsStdin?: boolean;
      }) => {
        if (!opts.namespace && !opts.accounts?.length) {
          throw new AtsError('ATS_BAD_OPTION', 'Say where the accounts are: --namespace NS in a cluster, or --accounts DIR for the local runtime.');
        }
        const handed = opts.loginsStdin ? await readLoginsHandoff() : undefined;
        const ctx = startProcess(
          'console',
          {},
          { ...(handed?.databaseUrl ? { DATABASE_URL: handed.databaseUrl } : {}), ...(handed?.redisUrl ? { REDIS_URL: handed.redisUrl } : {}) },
        );
        const log = ctx.root.logger;
        const database = await openDatabase(ctx.env);
        ctx.onShutdown(() => database.close());
        await awaitSchema(database.db, START_DATABASE_GRACE_MS);
        const firstAdmin = process.env.ATS_CONSOLE_ADMIN_PASSWORD;
        delete process.env.ATS_CONSOLE_ADMIN_PASSWORD;
        if (firstAdmin) {
          registerSecret(firstAdmin);
          const { ensureFirstAdmin } = await import('./users.js');
          if (await ensureFirstAdmin(database.db, firstAdmin)) log.info('first admin made: log in as admin (the password is in the console-admin Secret)');
        }
        const [{ buildConsole }, backend] = await Promise.all([import('./server.js'), makeBackend(opts, ctx.redis, handed?.masterKey)]);
        const { app } = await buildConsole({
          db: database.db,
          redis: ctx.redis,
          backend,
          logger: log,
          secureCookies: opts.secureCookies ?? false,
          trustProxy: opts.trustProxy ?? false,
          defaultExchange: opts.defaultExchange,
        });
        const address = await app.listen({ port: opts.port, host: opts.host });
        ctx.onShutdown(() => app.close());
        log.info({ url: address, runtime: backend.kind }, 'console started');
        // `ats up` reads this line for the URL it prints.
        process.stdout.write(`console listening on ${address}\n`);
      },
    );

async function makeBackend(opts: { namespace?: string; accounts?: string[]; newAccounts?: string }, redis: Redis, masterKey: string | undefined) {
  if (opts.namespace) {
    const [{ KubeConfig }, { KubeApi }, { KubeBackend }] = await Promise.all([
      import('@kubernetes/client-node'),
      import('../operator/kube/kube-api.js'),
      import('./kube-backend.js'),
    ]);
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubeBackend(new KubeApi(kc), opts.namespace);
  }
  const { LocalBackend } = await import('./local-backend.js');
  const dirs = opts.accounts!.map((d) => resolve(d));
  return new LocalBackend({
    dirs,
    newAccountsDir: resolve(opts.newAccounts ?? dirs[0]!),
    keys: localKeyStore({ ...loadEnv(), ...(masterKey ? { ATS_MASTER_KEY: masterKey } : {}) }),
    redis,
  });
}
