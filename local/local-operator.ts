import { POOL_NODE_FLAGS, TRADER_NODE_FLAGS } from '../core/node-flags.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { watch, type FSWatcher } from 'node:fs';
import type { LocalKeyStore } from '../core/credentials/local-key-store.js';
import type { Db } from '../core/db/connection.js';
import { localAccountStatusSchema, type LocalAccountStatus } from '../core/account-status.js';
import { readJson, redisKeys, statsDay } from '../core/redis-contract.js';
import { retireAccount, syncAccount } from '../operator/account-sync.js';
import { parseSpec, type AccountObject, type TradingAccountSpec } from '../operator/spec.js';
import { planAccount } from '../operator/plan.js';
import { buildStatus, readHeartbeat } from '../operator/status.js';
import { ManifestFolder } from './manifests.js';
import { keyBoundElsewhere } from '../operator/key-binding.js';
import { provisionPoolLogins, provisionTraderLogins, removePoolLogins, removeTraderLogins, type AdminLogins, type Logins } from '../operator/logins.js';
import { assignPools, DEFAULT_POOL_MAX_ACCOUNTS, poolMembers, type Placement } from '../operator/pools.js';
import type { ProcessSupervisor } from './process-supervisor.js';
import { describeError } from '../core/errors.js';

export type { LocalAccountStatus } from '../core/account-status.js';

/** A trader's arguments: its key pair arrives on standard input, never through the key store. */
export const traderArgs = (accountId: string, exchange: string): string[] => [
  'trader',
  '--account',
  accountId,
  '--exchange',
  exchange,
  '--credentials-stdin',
  '--port',
  '0',
];

/** A pool's arguments: its accounts (and logins) arrive on standard input, a line per change. */
export const poolArgs = (pool: string): string[] => ['pool', '--pool', pool, '--credentials-stdin', '--port', '0'];

/** A pooled account that is to trade: where its key is and which exchange it trades on. */
interface PooledAccount {
  readonly id: string;
  readonly keyName: string;
  readonly exchange: string;
  /** The pool its status names (kept while that pool has room). */
  readonly previous: string | undefined;
}

/** A running pool: what its accounts were last told to be, its logins, and whom they cover. */
interface PoolEntry {
  state: string;
  logins?: Logins;
  /** The accounts its logins cover: those it runs, and for a while those it was just told to let go. */
  covers: readonly string[];
  changedAt: number;
}

/**
 * An account leaving a pool keeps its place in the pool's logins this long, so that its last
 * records and heartbeat (written as the pool stops it) still go through.
 */
const LEAVING_GRACE_MS = 30_000;

/**
 * The operator's reconcile logic with a local runtime: TradingAccount manifests from a folder,
 * traders as supervised child processes, keys from the encrypted local store. Level-triggered:
 * every pass looks at everything and converges; a removed manifest stops its trader.
 */
export class LocalOperator {
  readonly #folder: ManifestFolder;
  readonly #known = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  readonly #watchers: FSWatcher[] = [];
  #running: Promise<void> | undefined;
  #again = false;
  #reported = new Set<string>();
  /** Per running pool: what its accounts were last told to be, and its logins (kept across changes). */
  readonly #pools = new Map<string, PoolEntry>();
  /** Pooled accounts removed, by when: their logins go once their pool has surely let them go. */
  readonly #retiring = new Map<string, number>();
  #pooled = new Map<string, PooledAccount>();
  #assignment = new Map<string, string>();
  /** Logins are provisioned one at a time: two GRANTs on one table at once fail in Postgres. */
  #provisioning: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly o: {
      /** Folders of manifests (`ats up`: the --accounts folder, and the generated demo accounts). */
      dirs: readonly string[];
      db: Db;
      redis: Redis;
      keys: LocalKeyStore;
      supervisor: ProcessSupervisor;
      logger: Logger;
      intervalMs?: number;
      simulatorUrl?: string;
      /** Called for every valid account before its key is looked up (`ats up`: a demo key and a simulator account). */
      provision?: (accountId: string, spec: TradingAccountSpec) => void;
      /** Admin connections: each trader start gets a fresh Postgres role and Redis user of its own (none: the supervisor's environment). */
      logins?: AdminLogins;
      /** Where an account whose spec names no placement trades (default dedicated). */
      placement?: Placement;
      /** Accounts per trader pool (default 100). */
      poolMaxAccounts?: number;
    },
  ) {
    this.#folder = new ManifestFolder(o.dirs);
  }

  start(): void {
    this.#timer = setInterval(() => void this.reconcileAll(), this.o.intervalMs ?? 2_000);
    for (const dir of this.o.dirs) {
      try {
        this.#watchers.push(watch(dir, () => void this.reconcileAll()));
      } catch {
        // Polling alone is enough.
      }
    }
    void this.reconcileAll();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const w of this.#watchers.splice(0)) w.close();
    await this.#running?.catch(() => undefined); // a pass logs its own failure
    await this.o.supervisor.stopAll();
  }

  /** One pass over every account; concurrent calls are folded into one more pass. */
  reconcileAll(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#pass().catch((err) => this.o.logger.error({ err: describeError(err) }, 'reconcile pass failed'));
      } while (this.#again);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pass(): Promise<void> {
    const { accounts, problems } = this.#folder.read();
    // Each problem is logged once, when it appears, not on every pass.
    for (const p of problems) if (!this.#reported.has(p)) this.o.logger.warn({ problem: p }, 'manifest refused');
    this.#reported = new Set(problems);
    const wasPooled = new Set(this.#pooled.keys());
    const pooled: PooledAccount[] = [];
    const statuses: Array<() => Promise<void>> = [];
    for (const { object, problem } of accounts.values()) {
      const seen = await this.#reconcile(object, problem);
      if (seen.pooled) pooled.push(seen.pooled);
      statuses.push(seen.status);
    }
    await this.#placePools(pooled);
    for (const status of statuses) await status();
    for (const id of [...this.#known.keys()]) {
      if (accounts.has(id)) continue;
      this.#known.delete(id);
      await this.o.supervisor.stop(id);
      await retireAccount(this.o, id);
      if (wasPooled.has(id)) this.#retiring.set(id, Date.now());
      else if (this.o.logins)
        await removeTraderLogins(this.o.logins, id).catch((err) =>
          this.o.logger.warn({ account_id: id, err: describeError(err) }, 'could not remove the trader logins'),
        );
      await this.o.redis.del(redisKeys.accountStatus(id));
      this.o.logger.info({ account_id: id }, 'manifest removed: trader stopped, records kept');
    }
    for (const [id, since] of this.#retiring) {
      if (accounts.has(id)) this.#retiring.delete(id);
      else if (Date.now() - since > LEAVING_GRACE_MS && this.o.logins) {
        this.#retiring.delete(id);
        await removeTraderLogins(this.o.logins, id).catch((err) =>
          this.o.logger.warn({ account_id: id, err: describeError(err) }, 'could not remove the trader logins'),
        );
      }
    }
  }

  /** Whether the account has (or may have) open positions: its trader must then come back at once. */
  async #holdsPositions(id: string): Promise<boolean> {
    const [positions, pending] = await Promise.all([this.o.redis.hlen(redisKeys.positions(id)), this.o.redis.hlen(redisKeys.pendingOrders(id))]);
    if (positions + pending > 0) return true;
    const open = await this.o.db.selectFrom('positions').select('id').where('account_id', '=', id).where('status', '=', 'open').limit(1).execute();
    return open.length > 0;
  }

  /**
   * `fileProblem`: the account's manifest no longer reads; the last valid spec keeps running.
   * A dedicated account's trader is started or stopped here; a pooled one is returned, to be
   * placed with the others. The status is written once the pools are placed.
   */
  async #reconcile(account: AccountObject, fileProblem?: string): Promise<{ pooled?: PooledAccount; status: () => Promise<void> }> {
    const id = account.name;
    if (!this.#known.has(id)) this.#known.set(id, new Date().toISOString());
    const parsed = fileProblem ? ({ ok: false, message: fileProblem } as const) : parseSpec(account.spec);
    if (parsed.ok) {
      try {
        this.o.provision?.(id, parsed.spec);
      } catch (err) {
        this.o.logger.error({ account_id: id, err: describeError(err) }, 'could not provision the account');
      }
    }
    const keyName = parsed.ok ? parsed.spec.secretRef.name : undefined;
    const stored = keyName !== undefined && this.o.keys.has(keyName);
    const fingerprint = stored ? this.o.keys.fingerprint(keyName) : undefined;
    // A key serves one account: a second account naming it (or the same key stored twice) is refused.
    const keyProblem = !keyName
      ? undefined
      : !fingerprint
        ? `no key pair stored under "${keyName}": run \`ats keys set --account ${keyName}\``
        : await keyBoundElsewhere(this.o.db, id, fingerprint);
    const plan = planAccount({ deleting: false, spec: parsed, keyProblem });
    if (plan.records === 'sync' && plan.spec) await syncAccount(this.o, id, plan.spec, plan.keyProblem ? undefined : fingerprint);
    // Only to keep the conditions' transition times and the account's pool: a damaged one is rebuilt.
    const previous = await readJson(this.o.redis, redisKeys.accountStatus(id), localAccountStatusSchema).catch(() => undefined);
    // A spec that no longer reads leaves the account where it trades.
    const placement = plan.spec ? (plan.spec.placement ?? this.o.placement ?? 'dedicated') : this.#pooled.has(id) ? 'pooled' : 'dedicated';
    let pooled: PooledAccount | undefined;
    if (plan.trader === 'stop' || (plan.trader === 'run' && placement === 'pooled')) await this.o.supervisor.stop(id);
    if (plan.trader === 'leave' && placement === 'pooled' && this.#pooled.has(id)) pooled = this.#pooled.get(id);
    if (plan.trader === 'run' && plan.spec && keyName) {
      // `simulator` means the simulator this runtime started, wherever it listens.
      const exchange = plan.spec.exchange === 'simulator' && this.o.simulatorUrl ? this.o.simulatorUrl : plan.spec.exchange;
      if (placement === 'pooled') pooled = { id, keyName, exchange, previous: previous?.pool };
      else
        await this.o.supervisor.ensure({
          name: id,
          args: traderArgs(id, exchange),
          nodeFlags: TRADER_NODE_FLAGS,
          // Its key pair and its own logins, made anew (rotated) at every start.
          stdin: async () => {
            const logins = this.o.logins ? await provisionTraderLogins(this.o.logins, id) : {};
            return JSON.stringify({ ...this.o.keys.get(keyName), ...logins });
          },
          // A key stored again (a rotated secret, even with the same API key) restarts the trader.
          fingerprint: `${exchange}|${this.o.keys.version(keyName)}`,
          urgent: () => this.#holdsPositions(id),
        });
    }
    const status = async () => {
      const stats = await this.o.redis.hget(redisKeys.stats(id, statsDay()), 'day_start_equity');
      const value: LocalAccountStatus = {
        name: id,
        createdAt: this.#known.get(id)!,
        ...(parsed.ok ? { displayName: parsed.spec.displayName, exchange: parsed.spec.exchange } : {}),
        ...buildStatus({
          generation: account.generation,
          specError: plan.specError,
          secretProblem: plan.keyProblem,
          heartbeat: await readHeartbeat(this.o.redis, id),
          dayStartEquity: stats === null ? undefined : Number(stats),
          deleting: false,
          now: Date.now(),
          previous: previous?.conditions ?? [],
          pool: pooled ? this.#assignment.get(id) : undefined,
        }),
      };
      await this.o.redis.set(redisKeys.accountStatus(id), JSON.stringify(value));
    };
    return { ...(pooled ? { pooled } : {}), status };
  }

  /**
   * Places the pooled accounts into pools (stably, `assignPools`) and converges the pool processes:
   * a new pool starts with its accounts on its standard input; a running one is told of every
   * change in a line of its own (it starts, stops or restarts only the accounts concerned); a pool
   * left without accounts stops. Each pool has its own logins, which cover exactly its accounts.
   */
  async #placePools(pooled: readonly PooledAccount[]): Promise<void> {
    this.#pooled = new Map(pooled.map((p) => [p.id, p]));
    this.#assignment = assignPools(pooled, this.o.poolMaxAccounts ?? DEFAULT_POOL_MAX_ACCOUNTS);
    const members = poolMembers(this.#assignment);
    for (const [pool, ids] of members) {
      const state = ids.map((id) => `${id}|${this.#pooled.get(id)!.exchange}|${this.o.keys.version(this.#pooled.get(id)!.keyName)}`).join('\n');
      const known = this.#pools.get(pool);
      if (!known) this.#pools.set(pool, { state, covers: [], changedAt: Date.now() });
      await this.o.supervisor.ensure({
        name: pool,
        args: poolArgs(pool),
        stdin: () => this.#poolHandoff(pool),
        keepStdinOpen: true,
        nodeFlags: POOL_NODE_FLAGS,
        fingerprint: pool,
        urgent: async () => (await Promise.all((poolMembers(this.#assignment).get(pool) ?? []).map((id) => this.#holdsPositions(id)))).some(Boolean),
      });
      if (known && known.state !== state) {
        known.state = state;
        this.o.supervisor.send(pool, await this.#poolHandoff(pool));
        this.o.logger.info({ pool, accounts: ids.length }, 'pool accounts changed');
      } else if (known && known.covers.length > ids.length && Date.now() - known.changedAt > LEAVING_GRACE_MS) {
        // The accounts that left are stopped by now: the logins cover the pool's own only.
        await this.#poolLogins(pool, known, ids);
      }
    }
    for (const pool of [...this.#pools.keys()]) {
      if (members.has(pool)) continue;
      this.#pools.delete(pool);
      await this.o.supervisor.stop(pool);
      if (this.o.logins)
        await removePoolLogins(this.o.logins, pool).catch((err) => this.o.logger.warn({ pool, err: describeError(err) }, 'could not remove the pool logins'));
      this.o.logger.info({ pool }, 'pool has no accounts left: stopped');
    }
  }

  /** What a pool is handed: its accounts' key pairs and exchanges, and its logins (covering exactly them). */
  async #poolHandoff(pool: string): Promise<string> {
    const ids = poolMembers(this.#assignment).get(pool) ?? [];
    const entry = this.#pools.get(pool) ?? { state: '', covers: [], changedAt: 0 };
    // Those just leaving stay covered a while (LEAVING_GRACE_MS); an account removed since is not.
    await this.#poolLogins(
      pool,
      entry,
      [...new Set([...ids, ...entry.covers])].filter((id) => this.#known.has(id)),
    );
    entry.changedAt = Date.now();
    const accounts = Object.fromEntries(
      ids.map((id) => {
        const a = this.#pooled.get(id)!;
        return [id, { ...this.o.keys.get(a.keyName), exchange: a.exchange }];
      }),
    );
    return JSON.stringify({ ...(entry.logins ?? {}), accounts });
  }

  /** Sets the pool's logins (same passwords once made) to cover exactly `covers`. */
  async #poolLogins(pool: string, entry: PoolEntry, covers: readonly string[]): Promise<void> {
    const admin = this.o.logins;
    if (!admin) return;
    const made = this.#provisioning.then(() => provisionPoolLogins(admin, pool, covers, entry.logins));
    this.#provisioning = made.catch(() => undefined); // the caller gets the error
    entry.logins = await made;
    entry.covers = covers;
  }
}
