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
import { provisionTraderLogins, removeTraderLogins, type AdminLogins } from '../operator/logins.js';
import type { ProcessSupervisor } from './process-supervisor.js';
import { describeError } from '../core/errors.js';

export type { LocalAccountStatus } from '../core/account-status.js';

/** `ats trader` for an account, with its key from the local key store. */
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
    for (const { object, problem } of accounts.values()) await this.#reconcile(object, problem);
    for (const id of [...this.#known.keys()]) {
      if (accounts.has(id)) continue;
      this.#known.delete(id);
      await this.o.supervisor.stop(id);
      await retireAccount(this.o, id);
      if (this.o.logins)
        await removeTraderLogins(this.o.logins, id).catch((err) =>
          this.o.logger.warn({ account_id: id, err: describeError(err) }, 'could not remove the trader logins'),
        );
      await this.o.redis.del(redisKeys.accountStatus(id));
      this.o.logger.info({ account_id: id }, 'manifest removed: trader stopped, records kept');
    }
  }

  /** Whether the account has (or may have) open positions: its trader must then come back at once. */
  async #holdsPositions(id: string): Promise<boolean> {
    const [positions, pending] = await Promise.all([this.o.redis.hlen(redisKeys.positions(id)), this.o.redis.hlen(redisKeys.pendingOrders(id))]);
    if (positions + pending > 0) return true;
    const open = await this.o.db.selectFrom('positions').select('id').where('account_id', '=', id).where('status', '=', 'open').limit(1).execute();
    return open.length > 0;
  }

  /** `fileProblem`: the account's manifest no longer reads; the last valid spec keeps running. */
  async #reconcile(account: AccountObject, fileProblem?: string): Promise<void> {
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
    if (plan.trader === 'stop') await this.o.supervisor.stop(id);
    if (plan.trader === 'run' && plan.spec && keyName) {
      // `simulator` means the simulator this runtime started, wherever it listens.
      const exchange = plan.spec.exchange === 'simulator' && this.o.simulatorUrl ? this.o.simulatorUrl : plan.spec.exchange;
      await this.o.supervisor.ensure({
        name: id,
        args: traderArgs(id, exchange),
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
    const stats = await this.o.redis.hget(redisKeys.stats(id, statsDay()), 'day_start_equity');
    // Only to keep the conditions' transition times: a damaged one is rebuilt.
    const previous = await readJson(this.o.redis, redisKeys.accountStatus(id), localAccountStatusSchema).catch(() => undefined);
    const status: LocalAccountStatus = {
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
      }),
    };
    await this.o.redis.set(redisKeys.accountStatus(id), JSON.stringify(status));
  }
}
