import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AtsError } from '../errors.js';
import { readJson, redisKeys, redisValues } from '../redis-contract.js';
import { PRIORITY_SHARE, type Priority } from './priority.js';

/** Before any exchangeInfo is seen: Binance's documented (lower) limit. */
export const DEFAULT_WEIGHT_LIMIT = 2400;

/** The most of a minute's budget one account's requests below `protect` may use. */
export const ACCOUNT_SHARE = 0.1;

export interface GovernorOptions {
  readonly redis: Redis;
  /** Share of the limit kept free for what ats does not see (other tools on the IP, clock drift). */
  readonly safetyMargin?: number;
  /** Longest a caller waits for budget before getting an error. */
  readonly maxWaitMs?: number;
  readonly registry?: Registry;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * The egress identity (ATS_EGRESS_ID, in a cluster the node's name): processes that share it
   * share one weight budget and one pause, as Binance counts per IP; another node spends its own.
   */
  readonly egress?: string | undefined;
}

// Reserve `weight` in the current minute unless paused, over the caller's share of the budget, or
// (with an account key) over the account's own share of the minute.
// KEYS: weight prefix, pause key, limit key[, account prefix]. ARGV: now, weight, margin, default limit, share[, account share].
// Returns {1, used} when granted, {0, waitMs} when the caller must wait.
const RESERVE = `
local now = tonumber(ARGV[1])
local weight = tonumber(ARGV[2])
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
if pause > now then return {0, pause - now} end
local limit = tonumber(redis.call('GET', KEYS[3]) or ARGV[4])
local budget = math.floor(limit * (1 - tonumber(ARGV[3])) * tonumber(ARGV[5]))
local minute = math.floor(now / 60000)
local key = KEYS[1] .. ':' .. minute
local used = tonumber(redis.call('GET', key) or '0')
if weight > 0 and used + weight > budget then return {0, (minute + 1) * 60000 - now} end
local mine = nil
if KEYS[4] then
  mine = KEYS[4] .. ':' .. minute
  local spent = tonumber(redis.call('GET', mine) or '0')
  local cap = math.floor(limit * (1 - tonumber(ARGV[3])) * tonumber(ARGV[6]))
  if weight > 0 and spent + weight > cap then return {0, (minute + 1) * 60000 - now} end
end
used = redis.call('INCRBY', key, weight)
redis.call('PEXPIRE', key, 120000)
if mine then
  redis.call('INCRBY', mine, weight)
  redis.call('PEXPIRE', mine, 120000)
end
return {1, used}
`;

// Raise this minute's count to what the exchange reported, if it saw more than we did.
const OBSERVE = `
local minute = math.floor(tonumber(ARGV[1]) / 60000)
local key = KEYS[1] .. ':' .. minute
local used = tonumber(redis.call('GET', key) or '0')
local seen = tonumber(ARGV[2])
if seen > used then
  redis.call('SET', key, seen, 'PX', 120000)
  return seen
end
return used
`;

// Count one order against an account's 10 s and 1 min windows.
// KEYS: 10 s key prefix, 1 min key prefix. ARGV: now, limit10s, limit1m.
const ORDER = `
local now = tonumber(ARGV[1])
local w10 = math.floor(now / 10000)
local w60 = math.floor(now / 60000)
local k10 = KEYS[1] .. ':' .. w10
local k60 = KEYS[2] .. ':' .. w60
local c10 = tonumber(redis.call('GET', k10) or '0')
local c60 = tonumber(redis.call('GET', k60) or '0')
if c10 >= tonumber(ARGV[2]) then return {0, (w10 + 1) * 10000 - now} end
if c60 >= tonumber(ARGV[3]) then return {0, (w60 + 1) * 60000 - now} end
redis.call('INCR', k10)
redis.call('PEXPIRE', k10, 20000)
redis.call('INCR', k60)
redis.call('PEXPIRE', k60, 120000)
return {1, c10 + 1}
`;

/**
 * The rate-limit governor shared by every ats process on the node (one IP): each REST call
 * reserves its request weight in Redis first; bursts wait for the next minute instead of failing;
 * a 429 or 418 pauses every process until its Retry-After has passed.
 */
export class RateGovernor {
  readonly #redis: Redis;
  readonly #margin: number;
  readonly #maxWaitMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #metrics;
  #orderLimits = { tenSeconds: 300, minute: 1200 };
  readonly #weightKey: string;
  readonly #scripts: GovernorScripts;
  readonly #pauseKey: string;

  constructor(opts: GovernorOptions) {
    this.#redis = opts.redis;
    this.#margin = opts.safetyMargin ?? 0.2;
    this.#maxWaitMs = opts.maxWaitMs ?? 90_000;
    this.#now = opts.now ?? Date.now;
    this.#sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#metrics = governorMetrics(opts.registry);
    this.#scripts = governorScripts(opts.redis);
    this.#weightKey = redisKeys.governor(opts.egress ? `weight:${opts.egress}` : 'weight');
    this.#pauseKey = redisKeys.governor(opts.egress ? `pause_until:${opts.egress}` : 'pause_until');
  }

  /** Takes the limits from an exchangeInfo `rateLimits` array. */
  async setLimits(rateLimits: ReadonlyArray<{ rateLimitType: string; interval: string; intervalNum: number; limit: number }>): Promise<void> {
    const weight = rateLimits.find((r) => r.rateLimitType === 'REQUEST_WEIGHT' && r.interval === 'MINUTE' && r.intervalNum === 1);
    if (weight) {
      await this.#redis.set(redisKeys.governor('weight_limit'), String(weight.limit));
      this.#metrics.limit.set(weight.limit);
    }
    const tenSeconds = rateLimits.find((r) => r.rateLimitType === 'ORDERS' && r.interval === 'SECOND' && r.intervalNum === 10);
    const minute = rateLimits.find((r) => r.rateLimitType === 'ORDERS' && r.interval === 'MINUTE' && r.intervalNum === 1);
    this.#orderLimits = { tenSeconds: tenSeconds?.limit ?? 300, minute: minute?.limit ?? 1200 };
  }

  /**
   * Waits until `weight` fits the node's budget (the share of it `priority` may fill) and, for an
   * account's request below `protect`, the account's fair share of the minute, then reserves it.
   */
  async acquire(weight: number, priority: Priority = 'reconcile', accountId?: string): Promise<void> {
    // An account's own share: however busy one account is, the others' requests still fit.
    const account = accountId && priority !== 'protect' ? [redisKeys.governor(`share:${accountId}`)] : [];
    const started = this.#now();
    for (;;) {
      const [granted, value] = (await this.#scripts.atsGovernorReserve(
        3 + account.length,
        this.#weightKey,
        this.#pauseKey,
        redisKeys.governor('weight_limit'),
        ...account,
        String(this.#now()),
        String(weight),
        String(this.#margin),
        String(DEFAULT_WEIGHT_LIMIT),
        String(PRIORITY_SHARE[priority]),
        String(ACCOUNT_SHARE),
      )) as [number, number];
      if (granted === 1) {
        this.#metrics.used.set(value);
        this.#metrics.reserved.inc(weight);
        return;
      }
      await this.#wait(started, value);
    }
  }

  /** Waits until the account may place another order within its limits (with the same margin). */
  async acquireOrder(accountId: string): Promise<void> {
    const started = this.#now();
    const l10 = Math.max(1, Math.floor(this.#orderLimits.tenSeconds * (1 - this.#margin)));
    const l60 = Math.max(1, Math.floor(this.#orderLimits.minute * (1 - this.#margin)));
    for (;;) {
      const [granted, value] = (await this.#scripts.atsGovernorOrder(
        2,
        redisKeys.governor(`orders10s:${accountId}`),
        redisKeys.governor(`orders1m:${accountId}`),
        String(this.#now()),
        String(l10),
        String(l60),
      )) as [number, number];
      if (granted === 1) return;
      await this.#wait(started, value);
    }
  }

  /** What the exchange said it counted this minute (`X-MBX-USED-WEIGHT-1M`). */
  async observeUsedWeight(used: number): Promise<void> {
    const value = (await this.#scripts.atsGovernorObserve(1, this.#weightKey, String(this.#now()), String(used))) as number;
    this.#metrics.used.set(value);
  }

  /** A 429 or 418: every process on the node waits until Retry-After has passed. */
  async pauseFor(seconds: number, status: number): Promise<void> {
    this.#metrics.limited.inc({ status: String(status) });
    // Counted in Redis too, per status, for the console's system page (all processes together).
    await this.#redis.incr(redisKeys.governor(`limited:${status}`));
    const until = this.#now() + Math.max(1, seconds) * 1000;
    const key = this.#pauseKey;
    const current = (await readJson(this.#redis, key, redisValues.governor.schema)) ?? 0;
    if (until > current) await this.#redis.set(key, String(until), 'PX', Math.max(1, seconds) * 1000 + 1000);
  }

  async pausedFor(): Promise<number> {
    const until = (await readJson(this.#redis, this.#pauseKey, redisValues.governor.schema)) ?? 0;
    return Math.max(0, until - this.#now());
  }

  async #wait(started: number, waitMs: number): Promise<void> {
    if (this.#now() - started + waitMs > this.#maxWaitMs) {
      throw new AtsError(
        'ATS_RATE_BUDGET_EXHAUSTED',
        `The node's Binance request budget is exhausted for another ${Math.ceil(waitMs / 1000)} s; try again later.`,
      );
    }
    this.#metrics.waits.inc();
    // Jitter spreads the waiting processes over the next window instead of all at its start.
    const delay = Math.min(waitMs, 1_000) + Math.floor(Math.random() * 50);
    this.#metrics.waitSeconds.inc(delay / 1000);
    await this.#sleep(delay);
  }
}

type Script = (numberOfKeys: number, ...args: string[]) => Promise<unknown>;
interface GovernorScripts {
  atsGovernorReserve: Script;
  atsGovernorOrder: Script;
  atsGovernorObserve: Script;
}

/**
 * The scripts as commands of the connection (ioredis `defineCommand`): sent once, then called by
 * their SHA (EVALSHA, with EVAL again after a Redis restart forgot them). Every REST request runs
 * one or two of them: a pool of hundreds of accounts sent their text a thousand times a second.
 */
function governorScripts(redis: Redis): GovernorScripts {
  const r = redis as Redis & Partial<GovernorScripts>;
  if (!r.atsGovernorReserve) redis.defineCommand('atsGovernorReserve', { lua: RESERVE });
  if (!r.atsGovernorOrder) redis.defineCommand('atsGovernorOrder', { lua: ORDER });
  if (!r.atsGovernorObserve) redis.defineCommand('atsGovernorObserve', { lua: OBSERVE });
  return r as Redis & GovernorScripts;
}

function governorMetrics(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  return {
    used: new Gauge({ name: 'ats_governor_weight_used', help: 'Request weight used in the current minute on this node (IP)', registers }),
    limit: new Gauge({ name: 'ats_governor_weight_limit', help: "The exchange's REQUEST_WEIGHT limit per minute per IP", registers }),
    reserved: new Counter({ name: 'ats_governor_weight_reserved_total', help: 'Request weight reserved by this process', registers }),
    waits: new Counter({ name: 'ats_governor_waits_total', help: 'Times a request waited for budget or a pause', registers }),
    waitSeconds: new Counter({ name: 'ats_governor_wait_seconds_total', help: 'Time spent waiting for budget or a pause', registers }),
    limited: new Counter({ name: 'ats_governor_rate_limited_total', help: '429 and 418 answers seen', labelNames: ['status'], registers }),
  };
}
