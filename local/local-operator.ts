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
import type { ProcessSupervisor } from './process-supervisor.js';
import { describeError } from '../core/errors.js';

export type { LocalAccountStatus } from '../core/account-status.js';

/** `ats trader` for an account, with its key from the local key store. */
export const traderArgs = (accountId: string, exchange: string, keyName: string): string[] => [
  'trader',
  '--account',
  accountId,
  '--exchange',
  exchange,
  '--key-name',
  keyName,
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
  #watcher: FSWatcher | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(
    private readonly o: {
      dir: string;
      db: Db;
      redis: Redis;
      keys: LocalKeyStore;
      supervisor: ProcessSupervisor;
      logger: Logger;
      intervalMs?: number;
      simulatorUrl?: string;
      /** Called for every valid account before its key is looked up (`ats up`: a demo key and a simulator account). */
      provision?: (accountId: string, spec: TradingAccountSpec) => void;
    },
  ) {
    this.#folder = new ManifestFolder(o.dir);
  }

  start(): void {
    this.#timer = setInterval(() => void this.reconcileAll(), this.o.intervalMs ?? 2_000);
    try {
      this.#watcher = watch(this.o.dir, () => void this.reconcileAll());
    } catch {
      // Polling alone is enough.
    }
    void this.reconcileAll();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#watcher?.close();
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
    for (const p of problems) this.o.logger.warn({ problem: p }, 'manifest ignored');
    for (const { object } of accounts.values()) await this.#reconcile(object);
    for (const id of [...this.#known.keys()]) {
      if (accounts.has(id)) continue;
      this.#known.delete(id);
      await this.o.supervisor.stop(id);
      await retireAccount(this.o, id);
      await this.o.redis.del(redisKeys.accountStatus(id));
      this.o.logger.info({ account_id: id }, 'manifest removed: trader stopped, records kept');
    }
  }

  async #reconcile(account: AccountObject): Promise<void> {
    const id = account.name;
    if (!this.#known.has(id)) this.#known.set(id, new Date().toISOString());
    const parsed = parseSpec(account.spec);
    if (parsed.ok) {
      try {
        this.o.provision?.(id, parsed.spec);
      } catch (err) {
        this.o.logger.error({ account_id: id, err: describeError(err) }, 'could not provision the account');
      }
    }
    const keyName = parsed.ok ? parsed.spec.secretRef.name : undefined;
    const plan = planAccount({
      deleting: false,
      spec: parsed,
      keyProblem: keyName && !this.o.keys.has(keyName) ? `no key pair stored under "${keyName}": run \`ats keys set --account ${keyName}\`` : undefined,
    });
    if (plan.records === 'sync' && plan.spec) await syncAccount(this.o, id, plan.spec);
    if (plan.trader === 'stop') await this.o.supervisor.stop(id);
    if (plan.trader === 'run' && plan.spec && keyName) {
      // `simulator` means the simulator this runtime started, wherever it listens.
      const exchange = plan.spec.exchange === 'simulator' && this.o.simulatorUrl ? this.o.simulatorUrl : plan.spec.exchange;
      await this.o.supervisor.ensure({ name: id, args: traderArgs(id, exchange, keyName), fingerprint: `${exchange}|${this.o.keys.fingerprint(keyName)}` });
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
