import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import { AggregatorRegistry, Registry } from 'prom-client';
import { accountDb } from '../core/db/account-db.js';
import type { Db } from '../core/db/connection.js';
import { traderRoleName } from '../core/db/trader-role.js';
import { poolAccountFingerprint, type PoolAccounts } from '../core/credentials/pool-accounts.js';
import { describeError } from '../core/errors.js';
import { createGovernedClient } from '../core/exchange/governed-factory.js';
import type { RateGovernor } from '../core/exchange/governor.js';
import { MarketDataReader } from '../core/market-data/reader.js';
import { asAccount, currentAccount } from './account-scope.js';
import { ChannelHub } from './channel-hub.js';
import type { TraderState } from './metrics.js';
import { SharedMarkets } from './shared-markets.js';
import { Trader } from './trader.js';

interface Worker {
  readonly trader: Trader;
  readonly fingerprint: string;
  readonly registry: Registry;
  readonly db: Db;
  readonly started: Promise<void>;
}

export interface AccountPoolOptions {
  readonly pool: string;
  readonly redis: Redis;
  /** The pool's shared connections, logged in as the pool's role (each account's work runs as its own role). */
  readonly pg: pg.Pool;
  /** The admin-free view used to name each account's role (any connection of the pool's login). */
  readonly db: Db;
  readonly logger: Logger;
  readonly governor: RateGovernor;
  /** The process's own metrics (Node's), beside every account's. */
  readonly registry: Registry;
  /** An account's exchange when its handoff names none. */
  readonly exchange: string | undefined;
  readonly wsUrl?: string | undefined;
}

/**
 * The accounts of one trader pool, each a Trader of its own: its own exchange client, serial queue,
 * timeouts, error state and backoff, as in a dedicated process. What a process can share is
 * shared: the Redis connection and one subscriber, the database connections (each account's work
 * runs as its own role), the node's rate-limit governor, the market-data readers and the parsed
 * markets. `apply` follows the accounts as they change: a new one starts, a removed one stops
 * (its protective orders stay on the exchange), a changed key restarts that account only.
 */
export class AccountPool {
  readonly #workers = new Map<string, Worker>();
  readonly #readers = new Map<string, MarketDataReader>();
  readonly #markets = new Map<string, SharedMarkets>();
  readonly #channels: ChannelHub;
  #applying: Promise<void> = Promise.resolve();

  constructor(private readonly o: AccountPoolOptions) {
    this.#channels = new ChannelHub(o.redis, o.logger);
  }

  /** Converges on `accounts`; calls are applied one after another. */
  apply(accounts: PoolAccounts): Promise<void> {
    const run = this.#applying.then(() => this.#apply(accounts));
    this.#applying = run.catch((err) => this.o.logger.error({ err: describeError(err) }, 'could not apply the pool accounts'));
    return run;
  }

  async #apply(accounts: PoolAccounts): Promise<void> {
    const stopping: Promise<void>[] = [];
    for (const [id, worker] of this.#workers) {
      const wanted = accounts.get(id);
      if (wanted && poolAccountFingerprint(wanted) === worker.fingerprint) continue;
      this.#workers.delete(id);
      this.o.logger.info({ account_id: id }, wanted ? 'account key or exchange changed: restarting it' : 'account left the pool: stopping it');
      stopping.push(this.#stop(worker));
    }
    await Promise.all(stopping);
    for (const [id, account] of accounts) {
      if (this.#workers.has(id)) continue;
      const exchange = account.exchange ?? this.o.exchange;
      const registry = new Registry();
      registry.setDefaultLabels({ component: 'trader', account: id, pool: this.o.pool });
      const db = accountDb(this.o.pg, await traderRoleName(this.o.db, id));
      const trader = new Trader({
        accountId: id,
        redis: this.o.redis,
        db,
        logger: this.o.logger,
        registry,
        governor: this.o.governor,
        exchange,
        wsUrl: this.o.wsUrl,
        credentials: async () => account.pair,
        channels: this.#channels,
        reader: this.#reader(exchange),
        markets: this.#sharedMarkets(exchange),
      });
      // Trader.start handles its own failures (error state, backoff); nothing here waits on it.
      // Its work runs in the account's scope: an error that escapes it names the account (`crashed`).
      const started = asAccount(id, () => trader.start()).catch((err) =>
        this.o.logger.error({ account_id: id, err: describeError(err) }, 'account could not start'),
      );
      this.#workers.set(id, { trader, fingerprint: poolAccountFingerprint(account), registry, db, started });
      this.o.logger.info({ account_id: id }, 'account joined the pool');
    }
  }

  async #stop(worker: Worker): Promise<void> {
    await worker.started;
    await worker.trader
      .stop()
      .catch((err) => this.o.logger.warn({ account_id: worker.trader.accountId, err: describeError(err) }, 'account did not stop cleanly'));
    await worker.db.destroy();
  }

  #reader(exchange: string | undefined): MarketDataReader {
    const key = exchange ?? '';
    let reader = this.#readers.get(key);
    if (!reader) {
      reader = new MarketDataReader({
        redis: this.o.redis,
        upstream: () => createGovernedClient({ exchange, wsUrl: this.o.wsUrl, governor: this.o.governor }),
      });
      this.#readers.set(key, reader);
    }
    return reader;
  }

  #sharedMarkets(exchange: string | undefined): SharedMarkets {
    const key = exchange ?? '';
    let markets = this.#markets.get(key);
    if (!markets) this.#markets.set(key, (markets = new SharedMarkets()));
    return markets;
  }

  /**
   * An uncaught exception: when it came from an account's work, that account alone goes to its
   * error state and starts again with backoff (as after a failed start), and this is true; the
   * process and the other accounts go on. False when the work was no account's (the pool's own).
   */
  crashed(err: unknown): boolean {
    const id = currentAccount();
    if (id === undefined) return false;
    const worker = this.#workers.get(id);
    if (worker) worker.trader.crashed(err);
    // An account on its way out (stopping, or its key changed): its error goes with it.
    else this.o.logger.error({ account_id: id, err: describeError(err) }, 'unhandled error in an account that is leaving the pool');
    return true;
  }

  /** Each account's trading state. */
  states(): Record<string, TraderState> {
    return Object.fromEntries([...this.#workers].map(([id, w]) => [id, w.trader.state]));
  }

  /** The Prometheus text of the process and of every account (each series labelled with its account). */
  async metrics(): Promise<{ contentType: string; text: string }> {
    const all = await Promise.all([this.o.registry, ...[...this.#workers.values()].map((w) => w.registry)].map((r) => r.getMetricsAsJSON()));
    const merged = AggregatorRegistry.aggregate(all);
    return { contentType: merged.contentType, text: await merged.metrics() };
  }

  /** SIGTERM: every account stops as a dedicated trader does (protection stays on the exchange). */
  async stop(): Promise<void> {
    await this.#applying;
    const workers = [...this.#workers.values()];
    this.#workers.clear();
    await Promise.all(workers.map((w) => this.#stop(w)));
    await Promise.all([...this.#readers.values()].map((r) => r.close()));
    this.#channels.close();
  }
}
