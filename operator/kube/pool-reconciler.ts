import type { V1OwnerReference } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError } from '../../core/errors.js';
import { keyFingerprint } from '../../core/credentials/key-pair.js';
import type { Db } from '../../core/db/connection.js';
import { boundKeys, keyBoundIn, secretMarkProblem } from '../key-binding.js';
import { provisionPoolLogins, removePoolLogins, removeTraderLogins, type AdminLogins } from '../logins.js';
import { assignPools, poolMembers, type Placement } from '../pools.js';
import { parseSpec } from '../spec.js';
import type { KubeApi } from './kube-api.js';
import { loginsIn, sameLogins } from './logins-secret.js';
import {
  POOL_COMPONENT,
  poolDeployment,
  poolKeysSecret,
  poolKeysSecretName,
  poolLoginsSecret,
  poolLoginsSecretName,
  type PoolMember,
  type PoolWorkloadOptions,
} from './pool-workload.js';

export interface PoolReconcilerDeps {
  readonly kube: KubeApi;
  readonly db: Db;
  readonly logger: Logger;
  readonly namespace: string;
  readonly workload: PoolWorkloadOptions;
  readonly defaultPlacement: Placement;
  readonly maxAccounts: number;
  readonly logins?: AdminLogins | undefined;
  /** The chart's runtime Secret: pools and their Secrets are owned by it, so they go with the release. */
  readonly runtimeSecret?: string | undefined;
  readonly now?: () => number;
  /** How long an account that left a pool stays in its logins (default POOL_LEAVING_GRACE_MS). */
  readonly leavingGraceMs?: number;
}

/**
 * An account that left a pool keeps its place in the pool's logins this long: the kubelet takes
 * up to about a minute to update the pool's mounted keys, and the pool writes the account's last
 * records and heartbeat as it lets it go.
 */
export const POOL_LEAVING_GRACE_MS = 120_000;

/**
 * Places the pooled TradingAccounts of a namespace into trader pools and keeps each pool's
 * workload in step: its keys Secret (assembled from the accounts' Secrets), its logins (covering
 * exactly its accounts, plus those just leaving) and its Deployment; a pool left without accounts
 * is removed with its Secrets and logins. Level-triggered: every pass looks at every account.
 */
export class PoolReconciler {
  /** The pool of each pooled account, as last placed (the account reconciler shows it in the status). */
  assignment = new Map<string, string>();
  /** Per pool, accounts that left it and when. */
  readonly #leaving = new Map<string, Map<string, number>>();
  #placed = false;

  constructor(private readonly d: PoolReconcilerDeps) {}

  /** Whether a pass has placed the pools since the operator started (before that, statuses keep their pool). */
  get placed(): boolean {
    return this.#placed;
  }

  async reconcile(): Promise<void> {
    const { kube, namespace } = this.d;
    const now = (this.d.now ?? Date.now)();
    const grace = this.d.leavingGraceMs ?? POOL_LEAVING_GRACE_MS;
    const { items } = await kube.listAccounts(namespace);
    const candidates: Array<PoolMember & { previous?: string | undefined }> = [];
    const bound = await boundKeys(this.d.db);
    for (const account of items) {
      if (account.metadata.deletionTimestamp) continue;
      const parsed = parseSpec(account.spec);
      if (!parsed.ok || (parsed.spec.placement ?? this.d.defaultPlacement) !== 'pooled') continue;
      const name = account.metadata.name;
      const secret = await kube.getSecret(namespace, parsed.spec.secretRef.name);
      if (!secret?.data.apiKey || !secret.data.apiSecret) continue;
      // The same rules as for a dedicated trader: the Secret must name the account, and the key must serve it alone.
      if (secretMarkProblem(parsed.spec.secretRef.name, namespace, name, secret.markedFor)) continue;
      if (keyBoundIn(bound, name, keyFingerprint(Buffer.from(secret.data.apiKey, 'base64').toString('utf8')))) continue;
      candidates.push({
        id: name,
        apiKey: secret.data.apiKey,
        apiSecret: secret.data.apiSecret,
        exchange: parsed.spec.exchange,
        previous: account.status?.pool,
      });
    }
    const assignment = assignPools(candidates, this.d.maxAccounts);
    const members = poolMembers(assignment);
    const byId = new Map(candidates.map((c) => [c.id, c]));
    for (const [id, pool] of this.assignment) {
      if (assignment.get(id) === pool) continue;
      const leaving = this.#leaving.get(pool) ?? new Map<string, number>();
      leaving.set(id, now);
      this.#leaving.set(pool, leaving);
    }
    this.assignment = assignment;
    const owner = await this.#owner();
    const names = new Set(items.map((a) => a.metadata.name));
    for (const [pool, leaving] of this.#leaving)
      for (const [id, since] of leaving) {
        if (now - since <= grace && !members.get(pool)?.includes(id)) continue;
        leaving.delete(id);
        // A deleted account's own role goes once its pool has surely let it go.
        if (!names.has(id) && this.d.logins)
          await removeTraderLogins(this.d.logins, id).catch((err) =>
            this.d.logger.warn({ account_id: id, err: describeError(err) }, 'could not remove the trader logins'),
          );
      }
    for (const [pool, ids] of members) {
      const leaving = this.#leaving.get(pool) ?? new Map<string, number>();
      await this.#apply(pool, ids, [...leaving.keys()], byId, owner);
    }
    const existing = await kube.listDeployments(namespace, `app.kubernetes.io/component=${POOL_COMPONENT}`);
    for (const pool of existing) {
      if (members.has(pool)) continue;
      const leaving = this.#leaving.get(pool);
      if (leaving && leaving.size > 0) {
        // Its last accounts are told to go first (an empty keys Secret); the workload goes after the grace.
        await this.#apply(pool, [], [...leaving.keys()], byId, owner);
        continue;
      }
      this.#leaving.delete(pool);
      await kube.deleteDeployment(namespace, pool);
      await kube.deleteSecret(namespace, poolKeysSecretName(pool));
      await kube.deleteSecret(namespace, poolLoginsSecretName(pool));
      if (this.d.logins)
        await removePoolLogins(this.d.logins, pool).catch((err) => this.d.logger.warn({ pool, err: describeError(err) }, 'could not remove the pool logins'));
      this.d.logger.info({ pool }, 'pool has no accounts left: removed');
    }
    this.#placed = true;
  }

  async #apply(
    pool: string,
    ids: readonly string[],
    leaving: readonly string[],
    byId: ReadonlyMap<string, PoolMember>,
    owner: V1OwnerReference | undefined,
  ): Promise<void> {
    const { kube, namespace, workload } = this.d;
    if (this.d.logins) {
      const found = loginsIn(await kube.getSecret(namespace, poolLoginsSecretName(pool)));
      const logins = await provisionPoolLogins(this.d.logins, pool, [...ids, ...leaving], found);
      if (!sameLogins(found, logins)) await kube.applySecret(poolLoginsSecret(namespace, pool, logins, this.d.logins.keyPrefix, owner, workload.instance));
    }
    await kube.applySecret(
      poolKeysSecret(
        namespace,
        pool,
        ids.map((id) => byId.get(id)!),
        owner,
        workload.instance,
      ),
    );
    if (ids.length > 0) await kube.applyDeployment(poolDeployment(namespace, pool, workload, owner));
  }

  async #owner(): Promise<V1OwnerReference | undefined> {
    if (!this.d.runtimeSecret) return undefined;
    const secret = await this.d.kube.getSecret(this.d.namespace, this.d.runtimeSecret);
    return secret ? { apiVersion: 'v1', kind: 'Secret', name: this.d.runtimeSecret, uid: secret.uid } : undefined;
  }
}
