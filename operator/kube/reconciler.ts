import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../../core/db/connection.js';
import { redisKeys, statsDay } from '../../core/redis-contract.js';
import { keyFingerprint } from '../../core/credentials/key-pair.js';
import { retireAccount, syncAccount } from '../account-sync.js';
import { keyBoundElsewhere, secretMarkProblem } from '../key-binding.js';
import { planAccount } from '../plan.js';
import { FINALIZER, parseSpec } from '../spec.js';
import { buildStatus, readHeartbeat, type Condition } from '../status.js';
import { isConflict, type KubeApi } from './kube-api.js';
import { loginsIn, sameLogins } from './logins-secret.js';
import {
  loginsSecret,
  loginsSecretName,
  secretVersion,
  traderDeployment,
  traderName,
  type AccountRef,
  type TraderDeploymentOptions,
} from './trader-deployment.js';
import { provisionTraderLogins, removeTraderLogins, type AdminLogins } from '../logins.js';
import { describeError } from '../../core/errors.js';
import type { Placement } from '../pools.js';

export interface ReconcilerDeps {
  readonly kube: KubeApi;
  readonly db: Db;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly deployment: TraderDeploymentOptions;
  /** Admin connections to make each trader's own logins with; none: traders use the runtime Secret's. */
  readonly logins?: AdminLogins | undefined;
  readonly now?: () => number;
  /** Where an account whose spec names no placement trades (default dedicated). */
  readonly defaultPlacement?: Placement;
  /** The pools as placed (`PoolReconciler`); none: pooled accounts are not placed by this operator. */
  readonly pools?: { readonly assignment: ReadonlyMap<string, string>; readonly placed: boolean };
}

/**
 * When to look at the account again (undefined: only when something changes), and for a pooled
 * account (or one that was) what its place in a pool depends on: when that changes, the pools are
 * placed again.
 */
export type ReconcileResult = { readonly requeueAfterMs?: number; readonly poolKey?: string };

/**
 * One level-triggered, idempotent reconcile of one TradingAccount (kubebuilder's shape): load it;
 * handle deletion and the finalizer; check the spec and the Secret; keep the records, the config
 * and the trader Deployment in step; rebuild the status from what is observed.
 */
export async function reconcile(deps: ReconcilerDeps, namespace: string, name: string): Promise<ReconcileResult> {
  const { kube, logger } = deps;
  const now = deps.now ?? Date.now;
  const log = logger.child({ account_id: name });
  // Events tell what the operator did and what fails; a failed event never fails the reconcile.
  const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
    kube.recordEvent(account!, type, reason, message).catch((err) => log.warn({ err: describeError(err), reason }, 'could not record an event'));

  // 1. Load the account; gone means nothing to do (the Deployment goes with its owner).
  const account = await kube.getAccount(namespace, name);
  if (!account) return {};
  const finalizers = account.metadata.finalizers ?? [];

  // 2. Deleted: stop the trader, keep the records (marked deleted), then let the object go.
  if (account.metadata.deletionTimestamp) {
    if (!finalizers.includes(FINALIZER)) return {};
    await kube.deleteDeployment(namespace, traderName(name));
    await retireAccount(deps, name);
    // Its logins stop working; their Secret goes with the account (owner reference). A pooled
    // account's role goes once its pool has let it go (the PoolReconciler).
    const wasPooled = account.status?.pool !== undefined && deps.pools !== undefined;
    if (deps.logins && !wasPooled) await removeTraderLogins(deps.logins, name);
    try {
      await kube.setFinalizers(
        account,
        finalizers.filter((f) => f !== FINALIZER),
      );
    } catch (err) {
      if (isConflict(err)) return { requeueAfterMs: 0 };
      throw err;
    }
    await event('Normal', 'Deleted', 'trader stopped; the records are kept (account marked deleted)');
    log.info('account deleted: trader stopped, records kept');
    return wasPooled ? { poolKey: 'deleted' } : {};
  }

  // 3. Our finalizer first, so a deletion always passes through step 2.
  if (!finalizers.includes(FINALIZER)) {
    try {
      await kube.setFinalizers(account, [...finalizers, FINALIZER]);
    } catch (err) {
      if (isConflict(err)) return { requeueAfterMs: 0 };
      throw err;
    }
    return { requeueAfterMs: 0 };
  }

  const writeStatus = async (specError: string | undefined, secretProblem: string | undefined, pooled: boolean) => {
    const day = await deps.redis.hget(redisKeys.stats(name, statsDay()), 'day_start_equity');
    const status = buildStatus({
      generation: account.metadata.generation,
      specError,
      secretProblem,
      heartbeat: await readHeartbeat(deps.redis, name),
      dayStartEquity: day === null ? undefined : Number(day),
      deleting: false,
      now: now(),
      previous: (account.status?.conditions ?? []) as Condition[],
      // Until the pools are placed after a start, the account's pool stays as it was.
      pool: pooled ? (deps.pools?.placed ? deps.pools.assignment.get(name) : account.status?.pool) : undefined,
    });
    await kube.patchStatus(namespace, name, status);
    // One event per change, not one per reconcile: a new problem, or a recovery from one.
    for (const c of status.conditions) {
      const before = account.status?.conditions?.find((x) => x.type === c.type);
      const problem = c.status === 'False' && (before?.status !== 'False' || before.reason !== c.reason);
      const recovered = c.status === 'True' && before?.status === 'False';
      if (c.type !== 'Ready' && (problem || recovered)) await event(problem ? 'Warning' : 'Normal', c.reason, `${c.type}: ${c.message}`);
    }
    return status;
  };

  // 4. The spec and the Secret with the key pair, planned the same way as in the local runtime.
  const parsed = parseSpec(account.spec);
  const secretName = parsed.ok ? parsed.spec.secretRef.name : undefined;
  const found = secretName ? await kube.getSecret(namespace, secretName) : undefined;
  const secret = found?.data;
  const missing = !secret ? 'not found' : !secret.apiKey || !secret.apiSecret ? 'lacks the key apiKey or apiSecret' : undefined;
  // A key serves one account: the Secret must name it, and the key must not be bound to another.
  const fingerprint = secret?.apiKey ? keyFingerprint(Buffer.from(secret.apiKey, 'base64').toString('utf8')) : undefined;
  const keyProblem = !secretName
    ? undefined
    : missing
      ? `Secret ${secretName} ${missing} in namespace ${namespace}: create it with the keys apiKey and apiSecret (for example seal one with kubeseal), then the trader starts`
      : (secretMarkProblem(secretName, namespace, name, found?.markedFor) ?? (await keyBoundElsewhere(deps.db, name, fingerprint!)));
  const plan = planAccount({ deleting: false, spec: parsed, keyProblem });
  if (plan.specError) log.warn({ problem: plan.specError }, 'invalid spec');

  // 5. Records and live config (the trader picks a config change up without a restart).
  if (plan.records === 'sync' && plan.spec) {
    const { configChanged } = await syncAccount(deps, name, plan.spec, plan.keyProblem ? undefined : fingerprint);
    if (configChanged) log.info('trading config updated');
  }

  // 6. The trader Deployment (server-side apply; the Secret's digest rolls it on key rotation).
  // A pooled account has none: its pool's workload is kept by the PoolReconciler.
  const pooled = (plan.spec?.placement ?? deps.defaultPlacement ?? 'dedicated') === 'pooled' || (!plan.spec && account.status?.pool !== undefined);
  if (plan.trader === 'stop' || (plan.trader === 'run' && pooled)) await kube.deleteDeployment(namespace, traderName(name));
  if (plan.trader === 'run' && plan.spec && secret && !pooled) {
    const ref = { name, namespace, uid: account.metadata.uid };
    const loginsVersion = deps.logins ? await ensureLogins(deps.kube, deps.logins, ref) : '';
    const desired = traderDeployment(ref, plan.spec, secretVersion(secret) + loginsVersion, { ...deps.deployment, ownLogins: deps.logins !== undefined });
    const current = await kube.getDeployment(namespace, traderName(name));
    await kube.applyDeployment(desired);
    const keyAnnotation = 'ats.dev/secret-version';
    if (!current) await event('Normal', 'TraderCreated', `Deployment ${traderName(name)} created`);
    else if (current.spec?.template.metadata?.annotations?.[keyAnnotation] !== desired.spec!.template.metadata!.annotations![keyAnnotation]) {
      await event('Normal', 'KeyRotated', `Secret ${plan.spec.secretRef.name} changed: rolling the trader`);
    }
  }

  // 7. Status from observation.
  await writeStatus(plan.specError, plan.keyProblem, pooled);
  const poolKey = pooled ? `${plan.trader}|${plan.spec?.exchange}|${secretVersion(secret)}` : account.status?.pool !== undefined ? 'dedicated' : undefined;
  return { ...(plan.requeueAfterMs === undefined ? {} : { requeueAfterMs: plan.requeueAfterMs }), ...(poolKey ? { poolKey } : {}) };
}

/**
 * The trader's own Postgres role and Redis user, and the Secret that hands them to its pod. The
 * passwords in an existing Secret are set again (a Redis restarted empty has forgotten its
 * users); deleting the Secret rotates them, and the trader rolls. Returns the logins' digest.
 */
async function ensureLogins(kube: KubeApi, admin: AdminLogins, ref: AccountRef): Promise<string> {
  const found = loginsIn(await kube.getSecret(ref.namespace, loginsSecretName(ref.name)));
  const logins = await provisionTraderLogins(admin, ref.name, found);
  if (!sameLogins(found, logins)) await kube.applySecret(loginsSecret(ref, logins, admin.keyPrefix));
  return secretVersion({ ...logins });
}
