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

// Reserve `weight` in the current minute unless paused or over the caller's share of the budget.
// KEYS: weight prefix, pause key, limit key. ARGV: now, weight, margin, default limit, share.
// Returns {1, used, limit} when granted, {0, waitMs} when the caller must wait. Only the node's
// keys: an account's own windows are kept where the account runs (`AccountWindows`).
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
used = redis.call('INCRBY', key, weight)
redis.call('PEXPIRE', key, 120000)
return {1, used, limit}
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

/**
 * Counts in fixed windows, per account, in this process: what Binance limits per account (orders
 * per 10 s and per minute) and the account's fair share of the node's minute. An account runs in
 * one process (its trader, or its pool), so its windows live there; only what the node's IP
 * shares goes through Redis. Keeping them out of Redis keeps every reservation to the node's own
 * keys: a pool's Redis user has a dozen key patterns per account, and Redis matches each key a
 * script touches against them one by one (a pool of 100 spent ~130 µs of Redis per request).
 * A restart forgets the counts: the windows are short and the limits kept 20 % below Binance's.
 */
class AccountWindows {
  readonly #counts = new Map<string, { spanMs: number; window: number; count: number }>();

  /** How long until `amount` more fits under `cap` in the window of `spanMs` (0: it fits now). */
  waitFor(key: string, spanMs: number, now: number, amount: number, cap: number): number {
    const window = Math.floor(now / spanMs);
    const c = this.#counts.get(key);
    const count = c && c.window === window ? c.count : 0;
    return amount > 0 && count + amount > cap ? (window + 1) * spanMs - now : 0;
  }

  add(key: string, spanMs: number, now: number, amount: number): void {
    const window = Math.floor(now / spanMs);
    const c = this.#counts.get(key);
    if (c && c.window === window) c.count += amount;
    else this.#counts.set(key, { spanMs, window, count: amount });
  }

  /** Drops the windows that have passed (a pool's accounts come and go). */
  prune(now: number): void {
    for (const [key, c] of this.#counts) if (c.window < Math.floor(now / c.spanMs)) this.#counts.delete(key);
  }
}

/**
 * The rate-limit governor shared by every ats process on the node (one IP): each REST call
 * reserves its request weight in Redis first; bursts wait for the next minute instead of failing;
 * a 429 or 418 pauses every process until its Retry-After has passed. Per account, in the
 * process where the account runs: its order limits and its share of the minute (`AccountWindows`).
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
  readonly #accounts = new AccountWindows();
  /** The node's weight limit as last seen (exchangeInfo, or a reservation's answer). */
  #limit = DEFAULT_WEIGHT_LIMIT;
  /** The node's count this minute as last seen: the exchange's count is reported only when it is higher. */
  #seen = { minute: -1, used: 0 };
  #pruned = 0;

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
      this.#limit = weight.limit;
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
    const share = accountId && priority !== 'protect' ? `share:${accountId}` : undefined;
    const started = this.#now();
    for (;;) {
      const now = this.#now();
      const cap = Math.floor(this.#limit * (1 - this.#margin) * ACCOUNT_SHARE);
      const mine = share ? this.#accounts.waitFor(share, 60_000, now, weight, cap) : 0;
      if (mine > 0) {
        await this.#wait(started, mine);
        continue;
      }
      if (now - this.#pruned > 60_000) {
        this.#accounts.prune(now);
        this.#pruned = now;
      }
      if (share) this.#accounts.add(share, 60_000, now, weight);
      const [granted, value, limit] = (await this.#scripts
        .atsGovernorReserve(
          3,
          this.#weightKey,
          this.#pauseKey,
          redisKeys.governor('weight_limit'),
          String(now),
          String(weight),
          String(this.#margin),
          String(DEFAULT_WEIGHT_LIMIT),
          String(PRIORITY_SHARE[priority]),
        )
        .catch((err: unknown) => {
          if (share) this.#accounts.add(share, 60_000, now, -weight);
          throw err;
        })) as [number, number, number?];
      if (granted === 1) {
        this.#limit = limit ?? this.#limit;
        this.#noteUsed(now, value);
        this.#metrics.used.set(value);
        this.#metrics.reserved.inc(weight);
        return;
      }
      if (share) this.#accounts.add(share, 60_000, now, -weight);
      await this.#wait(started, value);
    }
  }

  /** Waits until the account may place another order within its limits (with the same margin). */
  async acquireOrder(accountId: string): Promise<void> {
    const started = this.#now();
    const l10 = Math.max(1, Math.floor(this.#orderLimits.tenSeconds * (1 - this.#margin)));
    const l60 = Math.max(1, Math.floor(this.#orderLimits.minute * (1 - this.#margin)));
    for (;;) {
      const now = this.#now();
      const wait = Math.max(this.#accounts.waitFor(`o10:${accountId}`, 10_000, now, 1, l10), this.#accounts.waitFor(`o60:${accountId}`, 60_000, now, 1, l60));
      if (wait === 0) {
        this.#accounts.add(`o10:${accountId}`, 10_000, now, 1);
        this.#accounts.add(`o60:${accountId}`, 60_000, now, 1);
        return;
      }
      await this.#wait(started, wait);
    }
  }

  /**
   * What the exchange said it counted this minute (`X-MBX-USED-WEIGHT-1M`). Told to Redis only
   * when it is more than the node's count as last seen here (something else on the IP spends
   * weight): every request reserves before it is sent, so the exchange's count is usually lower.
   */
  async observeUsedWeight(used: number): Promise<void> {
    const now = this.#now();
    if (Math.floor(now / 60_000) === this.#seen.minute && used <= this.#seen.used) return;
    const value = (await this.#scripts.atsGovernorObserve(1, this.#weightKey, String(now), String(used))) as number;
    this.#noteUsed(now, value);
    this.#metrics.used.set(value);
  }

  #noteUsed(now: number, used: number): void {
    const minute = Math.floor(now / 60_000);
    if (minute !== this.#seen.minute || used > this.#seen.used) this.#seen = { minute, used };
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
