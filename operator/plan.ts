import type { TradingAccountSpec } from './spec.js';

/** What was observed of one account, by the Kubernetes operator or the local runtime alike. */
export interface ObservedAccount {
  /** The account is being deleted (a deletionTimestamp, or its manifest is gone). */
  readonly deleting: boolean;
  /** The spec as the code reads it (`parseSpec`). */
  readonly spec: { ok: true; spec: TradingAccountSpec } | { ok: false; message: string };
  /** Undefined when the account's key pair is there; otherwise what a person should do. */
  readonly keyProblem: string | undefined;
}

/** What to do about it. Each runtime carries it out its own way (Deployments, child processes). */
export interface AccountPlan {
  /** The `accounts` and `trading_config` rows and `ats:cfg:{id}`: kept in step with the spec, retired, or left. */
  readonly records: 'sync' | 'retire' | 'leave';
  /** The trader: running with this spec, stopped, or left as it is. */
  readonly trader: 'run' | 'stop' | 'leave';
  readonly spec?: TradingAccountSpec;
  /** For the status: a spec the code refuses, or a missing key. */
  readonly specError?: string;
  readonly keyProblem?: string;
  /** When to look again even if nothing changes (the status follows the trader's heartbeat). */
  readonly requeueAfterMs?: number;
}

export const STATUS_REFRESH_MS = 30_000;

/**
 * The one planning step both reconcilers share (pure): a deleted account stops its trader and
 * keeps its records; a spec the code refuses changes nothing and says why (retrying will not
 * help); without its key an account keeps its records and config in step but runs no trader;
 * otherwise its trader runs with the spec.
 */
export function planAccount(o: ObservedAccount): AccountPlan {
  if (o.deleting) return { records: 'retire', trader: 'stop' };
  if (!o.spec.ok) return { records: 'leave', trader: 'leave', specError: o.spec.message };
  if (o.keyProblem) return { records: 'sync', trader: 'stop', spec: o.spec.spec, keyProblem: o.keyProblem, requeueAfterMs: STATUS_REFRESH_MS };
  return { records: 'sync', trader: 'run', spec: o.spec.spec, requeueAfterMs: STATUS_REFRESH_MS };
}
