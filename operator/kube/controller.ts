import { Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, PLURAL, VERSION } from '../spec.js';
import type { TradingAccountResource } from './kube-api.js';
import { reconcile, type ReconcilerDeps } from './reconciler.js';
import { describeError } from '../../core/errors.js';
import { ensureServiceLogins, type LoginsService } from './logins-secret.js';
import type { PoolReconciler } from './pool-reconciler.js';

export interface ControllerOptions extends ReconcilerDeps {
  readonly namespace: string;
  /** Everything is listed and reconciled again this often (Secrets, status, drift). */
  readonly resyncMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Also kept on every relist: marketdata's and the console's logins, each in its Secret (owned by the runtime Secret). */
  readonly serviceLogins?: ReadonlyArray<{ readonly service: LoginsService; readonly secret: string; readonly runtimeSecret: string }>;
  /** Places pooled accounts and keeps the pools' workloads: on every relist, and soon after a pooled account changes. */
  readonly pools?: PoolReconciler;
}

/**
 * Events only enqueue keys; one key is reconciled at a time, and a key enqueued while it is being
 * reconciled runs once more afterwards. The watch relists after 410 Gone and reconnects with
 * capped exponential backoff (1 s → 30 s).
 */
export class Controller {
  readonly #o: ControllerOptions;
  readonly #log: Logger;
  readonly #queued = new Set<string>();
  readonly #active = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #stopped = false;
  #abort: AbortController | undefined;
  #resync: NodeJS.Timeout | undefined;
  #backoff = 1_000;
  #poolsTimer: NodeJS.Timeout | undefined;
  #poolsRunning: Promise<void> | undefined;
  #poolsAgain = false;
  /** What each pooled account's place depends on, as last reconciled. */
  readonly #poolKeys = new Map<string, string>();

  constructor(o: ControllerOptions) {
    this.#o = o;
    this.#log = o.logger.child({ controller: 'tradingaccounts' });
  }

  async start(): Promise<void> {
    this.#stopped = false;
    const resourceVersion = await this.#relist();
    void this.#watch(resourceVersion);
    this.#resync = setInterval(
      () => void this.#relist().catch((err) => this.#log.warn({ err: describeError(err) }, 'periodic relist of TradingAccounts failed; the next one follows')),
      this.#o.resyncMs ?? 30_000,
    );
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
    clearInterval(this.#resync);
    clearTimeout(this.#poolsTimer);
    for (const t of this.#timers.values()) clearTimeout(t);
  }

  enqueue(name: string): void {
    if (this.#stopped) return;
    if (this.#active.has(name)) {
      this.#queued.add(name);
      return;
    }
    void this.#run(name);
  }

  async #run(name: string): Promise<void> {
    this.#active.add(name);
    this.#queued.delete(name);
    clearTimeout(this.#timers.get(name));
    let requeue: number | undefined;
    try {
      const result = await reconcile(this.#o, this.#o.namespace, name);
      requeue = result.requeueAfterMs;
      // A pooled account that joined, left or changed: the pools are placed again soon.
      if (result.poolKey !== this.#poolKeys.get(name)) {
        if (result.poolKey === undefined) this.#poolKeys.delete(name);
        else this.#poolKeys.set(name, result.poolKey);
        this.#schedulePools();
      }
    } catch (err) {
      this.#log.warn({ account_id: name, err: describeError(err) }, 'reconcile failed; retrying');
      requeue = 5_000;
    } finally {
      this.#active.delete(name);
    }
    if (this.#queued.has(name)) return this.#run(name);
    if (requeue !== undefined && !this.#stopped)
      this.#timers.set(
        name,
        setTimeout(() => this.enqueue(name), requeue),
      );
  }

  async #relist(): Promise<string> {
    for (const s of this.#o.serviceLogins ?? []) {
      if (!this.#o.logins) break;
      await ensureServiceLogins(this.#o.kube, this.#o.logins, {
        namespace: this.#o.namespace,
        name: s.secret,
        runtimeSecret: s.runtimeSecret,
        service: s.service,
      }).catch((err) =>
        this.#log.warn({ service: s.service, err: describeError(err) }, "a service's logins could not be made or set again; the next relist retries"),
      );
    }
    const { items, resourceVersion } = await this.#o.kube.listAccounts(this.#o.namespace);
    for (const item of items) this.enqueue(item.metadata.name);
    this.#schedulePools();
    return resourceVersion;
  }

  /** One pools pass soon (changes close together share it); one at a time, and once more if asked meanwhile. */
  #schedulePools(): void {
    const pools = this.#o.pools;
    if (!pools || this.#stopped) return;
    if (this.#poolsRunning) {
      this.#poolsAgain = true;
      return;
    }
    clearTimeout(this.#poolsTimer);
    this.#poolsTimer = setTimeout(() => {
      const before = pools.placed ? new Map(pools.assignment) : new Map<string, string>();
      this.#poolsRunning = pools
        .reconcile()
        .catch((err) => this.#log.warn({ err: describeError(err) }, 'placing the trader pools failed; the next pass retries'))
        .finally(() => {
          this.#poolsRunning = undefined;
          // Accounts whose pool just changed show it in their status.
          for (const name of new Set([...before.keys(), ...pools.assignment.keys()])) if (before.get(name) !== pools.assignment.get(name)) this.enqueue(name);
          if (this.#poolsAgain) {
            this.#poolsAgain = false;
            this.#schedulePools();
          }
        });
    }, 300);
  }

  async #watch(resourceVersion: string): Promise<void> {
    let rv = resourceVersion;
    while (!this.#stopped) {
      const ended = new Promise<{ gone: boolean }>((resolve) => {
        const path = `/apis/${GROUP}/${VERSION}/namespaces/${this.#o.namespace}/${PLURAL}`;
        new Watch(this.#o.kube.kc)
          .watch(
            path,
            { resourceVersion: rv, allowWatchBookmarks: true },
            (type, obj: TradingAccountResource & { code?: number }) => {
              if (type === 'ERROR') {
                if (obj.code === 410) resolve({ gone: true });
                return;
              }
              this.#backoff = 1_000;
              if (obj.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
              if (type !== 'BOOKMARK') this.enqueue(obj.metadata.name);
            },
            (err) => resolve({ gone: Boolean(err && (err as { code?: number }).code === 410) }),
          )
          .then((abort) => {
            this.#abort = abort;
          })
          .catch(() => resolve({ gone: false }));
      });
      const { gone } = await ended;
      this.#abort?.abort();
      if (this.#stopped) return;
      if (gone) {
        this.#log.info('watch expired (410 Gone): relisting');
        rv = await this.#relist().catch(() => rv);
        continue;
      }
      await (this.#o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(this.#backoff);
      this.#backoff = Math.min(this.#backoff * 2, 30_000);
    }
  }
}
