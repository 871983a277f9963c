import { ccxtErrors as ccxt } from '../core/exchange/ccxt-binance.js';
import { isAtsError } from '../core/errors.js';

export { describeError } from '../core/errors.js';

/**
 * What a failed exchange call means for the trader (freqtrade's tree): `auth` stops the account
 * until its key works; `rate_limited` waits (the governor pauses the node); `rejected` is final for
 * that order; `temporary` is retried later.
 */
export type Failure = 'auth' | 'rate_limited' | 'rejected' | 'temporary';

const AUTH_CODES = /"code":\s*-(2014|2015|1022)\b|Invalid API-key|API-key format invalid|Signature for this request is not valid/;

export function classify(err: unknown): Failure {
  const message = err instanceof Error ? err.message : String(err);
  // ccxt reports a revoked key as DDoSProtection once the key has worked before: go by the code.
  if (AUTH_CODES.test(message)) return 'auth';
  if (err instanceof ccxt.AuthenticationError || err instanceof ccxt.PermissionDenied || err instanceof ccxt.AccountSuspended) return 'auth';
  if (err instanceof ccxt.DDoSProtection || err instanceof ccxt.RateLimitExceeded || isAtsError(err, 'ATS_RATE_BUDGET_EXHAUSTED')) return 'rate_limited';
  if (err instanceof ccxt.NetworkError) return 'temporary';
  if (
    err instanceof ccxt.InvalidOrder ||
    err instanceof ccxt.InsufficientFunds ||
    err instanceof ccxt.BadRequest ||
    err instanceof ccxt.BadSymbol ||
    err instanceof ccxt.OperationRejected
  )
    return 'rejected';
  return 'temporary';
}

export const isWouldTrigger = (err: unknown) => err instanceof Error && /-2021|would immediately trigger/i.test(err.message);
export const isOrderNotFound = (err: unknown) =>
  err instanceof ccxt.OrderNotFound || (err instanceof Error && /-2013|-2011|Order does not exist/.test(err.message));
