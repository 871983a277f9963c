import { err } from '../binance-error.js';

export interface RateLimits {
  requestWeightPerMinute: number;
  ordersPerTenSeconds: number;
  ordersPerMinute: number;
  /** 429 answers an IP may get in one minute; the next request over the limit is banned (418). */
  banAfterViolations: number;
}

export const MAINNET_LIMITS: RateLimits = {
  requestWeightPerMinute: 6000,
  ordersPerTenSeconds: 300,
  ordersPerMinute: 1200,
  banAfterViolations: 10,
};

const MINUTE = 60_000;
const FIRST_BAN_MS = 2 * MINUTE;
const MAX_BAN_MS = 3 * 24 * 60 * MINUTE;

interface IpState {
  minute: number;
  used: number;
  violations: number;
  bannedUntil: number;
  bans: number;
}

export type WeightKind = 'public' | 'private';

export interface MinuteWeight {
  readonly minute: number;
  public: number;
  private: number;
}

/**
 * Binance's limits: request weight per IP per minute (fixed window), orders per account per 10 s
 * and per minute, 429 with Retry-After when exceeded, and 418 bans (2 minutes doubling up to 3
 * days) for an IP that keeps going.
 */
export class RateLimiter {
  limits: RateLimits;
  readonly #ips = new Map<string, IpState>();
  readonly #orders = new Map<string, number[]>();
  readonly #history = new Map<string, MinuteWeight[]>();
  readonly #now: () => number;
  sent429 = 0;
  sent418 = 0;

  constructor(limits: RateLimits = MAINNET_LIMITS, now: () => number = Date.now) {
    this.limits = { ...limits };
    this.#now = now;
  }

  /** Adds a request's weight; throws 429/418 as Binance does. Returns the minute's used weight. */
  charge(ip: string, weight: number, kind: WeightKind): number {
    const now = this.#now();
    const state = this.#state(ip, now);
    if (state.bannedUntil > now) {
      this.sent418 += 1;
      throw err.banned(ip, state.bannedUntil, Math.ceil((state.bannedUntil - now) / 1000));
    }
    state.used += weight;
    this.#record(ip, state.minute, weight, kind);
    if (state.used <= this.limits.requestWeightPerMinute) return state.used;
    state.violations += 1;
    if (state.violations > this.limits.banAfterViolations) {
      this.ban(ip, Math.min(FIRST_BAN_MS * 2 ** state.bans, MAX_BAN_MS));
      state.bans += 1;
      this.sent418 += 1;
      throw err.banned(ip, state.bannedUntil, Math.ceil((state.bannedUntil - now) / 1000));
    }
    this.sent429 += 1;
    throw err.tooManyRequests(ip, this.limits.requestWeightPerMinute, Math.ceil(((state.minute + 1) * MINUTE - now) / 1000));
  }

  used(ip: string): number {
    return this.#state(ip, this.#now()).used;
  }

  ban(ip: string, ms: number): void {
    const now = this.#now();
    this.#state(ip, now).bannedUntil = now + ms;
  }

  /** Counts a new order of an account; throws -1015 beyond its limits. */
  chargeOrder(accountId: string): { tenSeconds: number; minute: number } {
    const now = this.#now();
    const times = (this.#orders.get(accountId) ?? []).filter((t) => t > now - MINUTE);
    const tenSeconds = times.filter((t) => t > now - 10_000).length;
    if (tenSeconds >= this.limits.ordersPerTenSeconds) {
      this.sent429 += 1;
      throw err.tooManyOrders(this.limits.ordersPerTenSeconds, 'TEN_SECONDS', 10);
    }
    if (times.length >= this.limits.ordersPerMinute) {
      this.sent429 += 1;
      throw err.tooManyOrders(this.limits.ordersPerMinute, 'MINUTE', Math.ceil((times[0]! + MINUTE - now) / 1000));
    }
    times.push(now);
    this.#orders.set(accountId, times);
    return { tenSeconds: tenSeconds + 1, minute: times.length };
  }

  /** Weight per IP per minute, split public/private, for the last hour. */
  history(): Record<string, MinuteWeight[]> {
    return Object.fromEntries([...this.#history].map(([ip, minutes]) => [ip, minutes.map((m) => ({ ...m }))]));
  }

  reset(): void {
    this.#ips.clear();
    this.#orders.clear();
    this.#history.clear();
    this.sent429 = 0;
    this.sent418 = 0;
  }

  #state(ip: string, now: number): IpState {
    const minute = Math.floor(now / MINUTE);
    let state = this.#ips.get(ip);
    if (!state) {
      state = { minute, used: 0, violations: 0, bannedUntil: 0, bans: 0 };
      this.#ips.set(ip, state);
    }
    if (state.minute !== minute) {
      state.minute = minute;
      state.used = 0;
      state.violations = 0;
    }
    return state;
  }

  #record(ip: string, minute: number, weight: number, kind: WeightKind): void {
    const list = this.#history.get(ip) ?? [];
    let last = list.at(-1);
    if (!last || last.minute !== minute) {
      last = { minute, public: 0, private: 0 };
      list.push(last);
      if (list.length > 60) list.shift();
    }
    last[kind] += weight;
    this.#history.set(ip, list);
  }
}
