import type { Redis } from 'ioredis';
import { heartbeatSchema, type AccountStatus, type Condition, type Phase, type TraderHeartbeat } from '../core/account-status.js';
import { readJson, redisKeys } from '../core/redis-contract.js';

export { accountStatusSchema, conditionSchema, type AccountStatus, type Condition, type Phase } from '../core/account-status.js';

export interface Observation {
  readonly generation: number;
  readonly specError: string | undefined;
  /** undefined when the Secret (or local key) exists; otherwise what a person should do. */
  readonly secretProblem: string | undefined;
  readonly heartbeat: TraderHeartbeat | undefined;
  readonly dayStartEquity: number | undefined;
  readonly deleting: boolean;
  readonly now: number;
  /** Only to keep lastTransitionTime when a condition did not change. */
  readonly previous?: readonly Condition[];
  /** The trader pool the account is placed in (pooled placement). */
  readonly pool?: string | undefined;
}

/** A heartbeat older than this means the trader is not running. */
export const HEARTBEAT_STALE_MS = 30_000;

export async function readHeartbeat(redis: Redis, accountId: string): Promise<TraderHeartbeat | undefined> {
  // A heartbeat of the wrong shape says as much as none: the trader is not known to run.
  return readJson(redis, redisKeys.heartbeat(`trader:${accountId}`), heartbeatSchema).catch(() => undefined);
}

/**
 * The status of an account, rebuilt from what is observed now (spec, Secret, the trader's
 * heartbeat), never from the previous status.
 */
export function buildStatus(o: Observation): AccountStatus {
  const fresh = o.heartbeat && o.now - o.heartbeat.at < HEARTBEAT_STALE_MS && o.heartbeat.state !== 'stopped' ? o.heartbeat : undefined;
  const condition = (type: string, ok: boolean | undefined, reason: string, message: string): Condition => {
    const status = ok === undefined ? 'Unknown' : ok ? 'True' : 'False';
    const before = o.previous?.find((c) => c.type === type);
    return {
      type,
      status,
      observedGeneration: o.generation,
      reason,
      message,
      lastTransitionTime: before && before.status === status ? before.lastTransitionTime : new Date(o.now).toISOString(),
    };
  };
  const conditions = [
    condition('SpecValid', !o.specError, o.specError ? 'InvalidSpec' : 'Valid', o.specError ?? 'the spec is valid'),
    condition(
      'SecretReady',
      o.specError ? undefined : !o.secretProblem,
      o.secretProblem ? 'SecretNotFound' : 'Found',
      o.secretProblem ?? 'the key pair is available',
    ),
    fresh
      ? condition('TraderReady', fresh.state !== 'error', fresh.state === 'error' ? 'TraderError' : 'Heartbeat', fresh.lastError ?? `trader is ${fresh.state}`)
      : condition('TraderReady', false, 'NoHeartbeat', 'the trader has not reported in the last 30 s (starting, or not running)'),
  ];
  // Ready sums the others up, so `kubectl wait --for=condition=Ready ta/NAME` works.
  const notReady = conditions.find((c) => c.status !== 'True');
  conditions.push(condition('Ready', !notReady, notReady ? notReady.reason : 'Trading', notReady ? notReady.message : 'the account is trading'));
  let phase: Phase;
  let lastError: string | undefined;
  if (o.deleting) phase = 'Terminating';
  // A refused change leaves a running trader on its last valid spec: its phase stays, the reason shows.
  else if (o.specError) [phase, lastError] = [fresh ? traderPhase(fresh) : 'Error', o.specError];
  else if (o.secretProblem) [phase, lastError] = ['Error', o.secretProblem];
  else if (!fresh) phase = 'Pending';
  else if (fresh.state === 'error') [phase, lastError] = ['Error', fresh.lastError ?? 'the trader is in error'];
  else phase = traderPhase(fresh);
  const round = (x: number | undefined) => (x === undefined ? undefined : Math.round(x * 100) / 100);
  return {
    phase,
    observedGeneration: o.generation,
    conditions,
    ...(fresh
      ? {
          traderState: fresh.state,
          openPositions: fresh.openPositions,
          ...(fresh.equity !== undefined ? { equity: round(fresh.equity) } : {}),
          ...(fresh.unrealizedPnl !== undefined ? { unrealizedPnl: round(fresh.unrealizedPnl) } : {}),
          ...(fresh.equity !== undefined && o.dayStartEquity !== undefined ? { pnlToday: round(fresh.equity - o.dayStartEquity) } : {}),
          lastHeartbeat: new Date(fresh.at).toISOString(),
        }
      : {}),
    ...(lastError ? { lastError } : {}),
    ...(o.pool && !o.deleting ? { pool: o.pool } : {}),
  };
}

function traderPhase(h: TraderHeartbeat): Phase {
  return h.state === 'error' ? 'Error' : h.state === 'paused' ? 'Paused' : h.state === 'halted' ? 'Halted' : h.state === 'active' ? 'Running' : 'Pending';
}
