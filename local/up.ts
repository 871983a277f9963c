import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRootLogger } from '../core/logger.js';
import { localKeyStore } from '../core/credentials/local-key-store.js';
import { resolveMasterKey } from '../core/credentials/master-key.js';
import { createDb } from '../core/db/connection.js';
import { freePort, portIsFree, startEmbeddedPostgres } from '../core/db/embedded.js';
import { migrateToLatest } from '../core/db/migrate.js';
import { AtsError, describeError } from '../core/errors.js';
import { loadEnv } from '../core/env.js';
import { createRedis } from '../core/redis.js';
import { readRuntimeFile, removeRuntime, writeRuntime } from '../core/runtime-file.js';
import { redactUrl } from '../core/secrets-scrub.js';
import { postgresHelper, runs, startReaper, stopHelpers, type Helper } from './orphans.js';
import { Simulator } from '../simulator/server.js';
import { parseSpec, type TradingAccountSpec } from '../operator/spec.js';
import { LiveFeed } from './live-feed.js';
import { LocalOperator } from './local-operator.js';
import { provisionConsoleLogins, provisionMarketdataLogins } from '../operator/logins.js';
import type { Placement } from '../operator/pools.js';
import { ManifestFolder } from './manifests.js';
import { writeDemoAccounts } from './demo-accounts.js';
import { ProcessSupervisor } from './process-supervisor.js';
import { ensureConsoleUsers } from './console-users.js';
import { DEFAULT_CONSOLE_PORT } from '../console/defaults.js';

export interface UpOptions {
  readonly accounts: string;
  readonly simPort: number;
  readonly speed: number;
  readonly scanEverySeconds: number;
  readonly balance: number;
  /** Generated demo accounts to run beside (or, without `folder`, instead of) the folder's. */
  readonly demoAccounts?: number;
  /** Run the accounts of the `accounts` folder (default true). */
  readonly folder?: boolean;
  /** Where an account whose manifest names no placement trades (default dedicated). */
  readonly placement?: Placement;
  /** Accounts per trader pool (default 100). */
  readonly poolMaxAccounts?: number;
  /** The web console's port (0: a free one). */
  readonly consolePort?: number;
}

const say = (text: string) => process.stdout.write(`${text}\n`);

/**
 * The whole system on one machine, no cluster: Postgres (embedded unless DATABASE_URL), Redis
 * (REDIS_URL or a redis-server of its own), the simulator as the exchange, marketdata, and the
 * operator with the local runtime for the accounts in a folder. Ctrl-C stops it all.
 */
export async function up(opts: UpOptions): Promise<void> {
  if (opts.folder === false && !opts.demoAccounts)
    throw new AtsError('ATS_BAD_OPTION', '--no-examples leaves no accounts: add --demo-accounts N, or drop --no-examples to run the --accounts folder.');
  const env = loadEnv();
  const stateDir = resolve(env.ATS_STATE_DIR);
  const logDir = join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  // The project's logger (redaction and secret scrubbing), to the runtime's own log file.
  const { logger } = createRootLogger({ component: 'up', env, destination: createWriteStream(join(logDir, 'up.log'), { flags: 'a', mode: 0o600 }) });
  const stops: Array<[string, () => Promise<unknown> | unknown]> = [];
  const stopAll = async () => {
    for (const [name, stop] of stops.reverse()) {
      await Promise.resolve()
        .then(stop)
        .catch((err) => logger.warn({ step: name, err: describeError(err) }, 'shutdown step failed'));
      logger.info({ step: name }, 'stopped');
    }
  };
  await refuseSecondUp(stateDir);
  // Checked before anything starts: a busy port is one line, not a console that never comes up.
  const consolePort = opts.consolePort === 0 ? await freePort() : (opts.consolePort ?? DEFAULT_CONSOLE_PORT);
  if (!(await portIsFree(consolePort))) {
    throw new AtsError(
      'ATS_CONSOLE_PORT_BUSY',
      `Cannot listen on port ${consolePort} for the console: stop what uses it or pass --console-port (0: any free port).`,
    );
  }
  const helpers: Helper[] = [];
  try {
    // Postgres
    const embedded = env.DATABASE_URL ? undefined : await startEmbeddedPostgres(stateDir, (m) => logger.debug({ postgres: m }));
    if (embedded) stops.push(['postgres', () => embedded.stop()]);
    const postgres = embedded ? postgresHelper(stateDir) : undefined;
    if (postgres) helpers.push(postgres);
    const databaseUrl = env.DATABASE_URL ?? embedded!.url;
    const db = createDb(databaseUrl);
    stops.push(['database pool', () => db.destroy()]);
    await migrateToLatest(db);
    say(`● postgres    ${embedded ? `embedded, data in ${join(stateDir, 'postgres')}` : 'DATABASE_URL'}`);

    // Redis
    let redisUrl = env.REDIS_URL;
    if (!redisUrl) {
      if (spawnSync('redis-server', ['--version']).status !== 0) {
        throw new AtsError('ATS_NO_REDIS', 'redis-server is not installed: install Redis (apt-get install redis-server) or set REDIS_URL.');
      }
      const port = await freePort();
      // The admin password goes in on standard input (`-`), never on the command line `ps` shows:
      // each trader logs in as a user of its own that reaches only its account's keys.
      const password = randomBytes(24).toString('hex');
      const child = spawn('redis-server', ['-'], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
      child.stdin!.end(`port ${port}\nbind 127.0.0.1\nsave ""\nappendonly no\nrequirepass ${password}\n`);
      stops.push(['redis-server', () => child.kill('SIGTERM')]);
      helpers.push({ name: 'redis-server', pid: child.pid!, command: 'redis-server' });
      redisUrl = `redis://:${password}@127.0.0.1:${port}`;
      await waitForRedis(redisUrl, `redis-server did not start on ${redisUrl}`);
    } else {
      await waitForRedis(
        redisUrl,
        `Cannot reach Redis at ${redactUrl(redisUrl)} (REDIS_URL): check the host, port and password, or unset REDIS_URL to start a redis-server of its own.`,
        10,
      );
    }
    // Whatever happens to this process, these stop with it.
    startReaper(helpers);
    const redis = createRedis({ REDIS_URL: redisUrl, REDIS_KEY_PREFIX: env.REDIS_KEY_PREFIX });
    redis.on('error', (err) => logger.warn({ err: describeError(err) }, 'redis connection problem'));
    stops.push(['redis client', () => redis.disconnect()]);
    say(`● redis       ${redactUrl(redisUrl)}`);

    // The exchange: the simulator
    const sim = new Simulator({ speed: opts.speed });
    let simUrl: string;
    try {
      simUrl = (await sim.listen(opts.simPort)).url;
    } catch (err) {
      throw new AtsError(
        'ATS_SIM_PORT_BUSY',
        `Cannot listen on port ${opts.simPort} for the simulator (${describeError(err)}): stop what uses it or pass --sim-port.`,
      );
    }
    stops.push(['simulator', () => sim.close()]);
    say(
      `● simulator   ${simUrl} (${sim.source === 'replay' ? `replaying real Binance klines from ${sim.dataDir}` : 'seeded generated prices'}, ${opts.speed}× market time)`,
    );

    // Accounts on the simulator get a demo key pair, stored encrypted, and an account on it with
    // the starting balance: those in the folder now, and any added while this runs.
    const keys = localKeyStore(env);
    const demoDir = join(stateDir, 'demo-accounts');
    const demo = writeDemoAccounts(demoDir, opts.demoAccounts ?? 0);
    // Accounts made in the console get manifests of their own here, read like the others.
    const consoleDir = join(stateDir, 'console-accounts');
    mkdirSync(consoleDir, { recursive: true });
    const dirs = [...(opts.folder === false ? [] : [opts.accounts]), ...(demo.length > 0 ? [demoDir] : []), consoleDir];
    const { accounts, problems } = new ManifestFolder(dirs).read();
    for (const p of problems) say(`  ! ${p}`);
    for (const [id, { object }] of accounts) {
      const parsed = parseSpec(object.spec);
      if (!parsed.ok) say(`  ! ${id}: ${parsed.message}`);
    }
    const atStart = new Set(accounts.keys());
    const provision = (id: string, spec: TradingAccountSpec) => {
      if (spec.exchange !== 'simulator' && spec.exchange !== simUrl) return;
      const keyName = spec.secretRef.name;
      if (!keys.has(keyName)) keys.put(keyName, { apiKey: `demo${randomBytes(24).toString('hex')}`, apiSecret: randomBytes(32).toString('hex') });
      const pair = keys.get(keyName);
      if (sim.engine.byApiKey(pair.apiKey)) return;
      // A key entered anew (the console, `ats keys set`) becomes the simulator account's key: a rotation.
      if (sim.engine.account(id)) {
        sim.engine.rotateKey(id, pair.apiKey, pair.apiSecret);
        say(`● account     ${id}: a new API key (${keys.fingerprint(keyName)}); the simulator account takes it`);
        return;
      }
      sim.createAccount({ id, apiKey: pair.apiKey, apiSecret: pair.apiSecret, balance: opts.balance });
      if (!atStart.has(id)) say(`● account     ${id} added: a demo key and ${opts.balance} USDT on the simulator`);
    };

    // ATS_PARENT_PID: every child stops by itself when this process is gone. No DATABASE_URL or
    // REDIS_URL: each child gets logins of its own on standard input.
    const feedSince = Date.now();
    const childEnv = {
      REDIS_KEY_PREFIX: env.REDIS_KEY_PREFIX,
      ATS_EXCHANGE: simUrl,
      ATS_PARENT_PID: String(process.pid),
      // Metrics and probes of local processes are for this machine only.
      ATS_METRICS_HOST: '127.0.0.1',
    };
    // marketdata logs in as itself (it may record recommendations and reach no account), under a
    // name of its own on the marketdata lease: restarted, it takes the lease back at once.
    const logins = { db, databaseUrl, redis, redisUrl, keyPrefix: env.REDIS_KEY_PREFIX };
    const own = await provisionMarketdataLogins(logins);
    const marketdata = new ProcessSupervisor({ logDir, env: { ...childEnv, ATS_INSTANCE_ID: `marketdata-${process.pid}` }, logger });
    await marketdata.ensure({
      name: 'marketdata',
      fingerprint: 'marketdata',
      args: ['marketdata', '--logins-stdin', '--port', '0', '--scan-every', String(opts.scanEverySeconds / 60), '--validity', '3'],
      stdin: () => JSON.stringify(own),
    });
    stops.push(['marketdata', () => marketdata.stopAll()]);
    say(`● marketdata  scans every ${opts.scanEverySeconds} s`);

    const supervisor = new ProcessSupervisor({ logDir, env: childEnv, logger });
    const operator = new LocalOperator({
      dirs,
      db,
      redis,
      keys,
      supervisor,
      logger,
      simulatorUrl: simUrl,
      provision,
      logins,
      placement: opts.placement,
      poolMaxAccounts: opts.poolMaxAccounts,
    });
    operator.start();
    stops.push(['operator and traders', () => operator.stop()]);
    const fromFolder = fromFolderIds(accounts, demo);
    const parts = [
      ...(opts.folder === false ? [] : [`from ${opts.accounts}: ${fromFolder.join(', ')}`]),
      ...(demo.length > 0 ? [`${demo.length} demo account(s) ${demo.length === 1 ? demo[0] : `${demo[0]}…${demo.at(-1)}`} (manifests in ${demoDir})`] : []),
    ];
    say(`● operator    ${accounts.size} account(s) ${parts.join('; ')}`);

    // The web console: it writes manifests and the key store, as a person would; the operator applies them.
    const consoleUrl = `http://127.0.0.1:${consolePort}`;
    // Logins of its own: it reads every account's records and keys and writes only its own tables and keys.
    const consoleLogins = await provisionConsoleLogins(logins);
    // It stores key pairs in this state folder's key store, under the master key handed over below.
    const consoleProcess = new ProcessSupervisor({ logDir, env: { ...childEnv, ATS_STATE_DIR: stateDir }, logger });
    await consoleProcess.ensure({
      name: 'console',
      fingerprint: 'console',
      args: ['console', '--logins-stdin', '--port', String(consolePort), ...dirs.flatMap((d) => ['--accounts', d]), '--new-accounts', consoleDir],
      stdin: () => JSON.stringify({ ...consoleLogins, masterKey: resolveMasterKey({ masterKey: env.ATS_MASTER_KEY, stateDir }) }),
    });
    stops.push(['console', () => consoleProcess.stopAll()]);
    const firstUsers = await ensureConsoleUsers(db, opts.folder === false ? [] : fromFolderIds(accounts, demo));
    say(
      `● console     ${consoleUrl}  (log in as admin${firstUsers.admin ? `, password shown once: ${firstUsers.admin}` : '; forgot the password? npx ats users passwd admin'})`,
    );
    if (firstUsers.demo.length > 0) say(`  demo users, each owning its account: ${firstUsers.demo.map((u) => `${u.name} / ${u.password}`).join(', ')}`);

    writeRuntime(stateDir, { pid: process.pid, redisUrl, databaseUrl, simulatorUrl: simUrl, consoleUrl, helpers });
    stops.push(['runtime file', () => removeRuntime(stateDir)]);
    say(
      `\nats is up. In another terminal: npx ats status · npx ats recommendations · npx ats trades --account ${[...accounts.keys()][0] ?? 'ID'} · npx ats logs`,
    );
    say(`Logs: ${logDir}/ (one file per process). Metrics: each process serves /metrics; its address is shown below when it starts.`);
    say(`Add or edit a manifest in ${dirs.join(' or ')} while this runs. Ctrl-C stops everything.\n`);
    say('Live: entries, exits with their PnL, errors (all of it: npx ats logs)');
    const feed = new LiveFeed({ redis: createRedis({ REDIS_URL: redisUrl, REDIS_KEY_PREFIX: env.REDIS_KEY_PREFIX }), write: say, since: feedSince });
    feed.start();
    stops.push(['live feed', () => feed.stop()]);
  } catch (err) {
    await stopAll();
    throw err;
  }
  await new Promise<void>((done) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) process.exit(130);
      stopping = true;
      say('\nstopping: traders (protective orders stay), marketdata, simulator, redis, postgres…');
      void stopAll().then(() => {
        say('stopped.');
        done();
      });
    };
    // SIGHUP: the terminal was closed. Every way of stopping stops everything.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  });
}

/**
 * One `ats up` per state folder. A live one is an error; one that died without stopping leaves
 * its runtime file, redis-server or embedded Postgres behind: those are stopped and reported.
 */
async function refuseSecondUp(stateDir: string): Promise<void> {
  const previous = readRuntimeFile(stateDir);
  // `ats up` itself, not a process that got its pid after a reboot.
  if (previous && runs({ name: 'ats up', pid: previous.pid, command: '\0up\0' })) {
    throw new AtsError(
      'ATS_ALREADY_UP',
      `ats is already running here (pid ${previous.pid}, state in ${stateDir}): use it (npx ats status), or stop it with Ctrl-C in its terminal or \`kill ${previous.pid}\`.`,
    );
  }
  const leftovers = [...(previous?.helpers ?? []), postgresHelper(stateDir)].filter((h): h is Helper => h !== undefined);
  const stopped = await stopHelpers(leftovers);
  if (previous || stopped.length > 0) {
    removeRuntime(stateDir);
    say(`  cleaned up after an ats up that did not stop${stopped.length ? `: stopped ${stopped.map((h) => `${h.name} (pid ${h.pid})`).join(', ')}` : ''}`);
  }
}

/** The accounts of the user's folder (not the generated demo accounts). */
const fromFolderIds = (accounts: ReadonlyMap<string, unknown>, demo: readonly string[]) => [...accounts.keys()].filter((id) => !demo.includes(id));

async function waitForRedis(url: string, failure: string, attempts = 50): Promise<void> {
  const probe = createRedis(
    { REDIS_URL: url, REDIS_KEY_PREFIX: '' },
    { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 },
  );
  // Each failed attempt is retried below, and the last one becomes the error.
  probe.on('error', () => undefined);
  try {
    for (let i = 0; i < attempts; i++) {
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new AtsError('ATS_NO_REDIS', failure);
  } finally {
    probe.disconnect();
  }
}
