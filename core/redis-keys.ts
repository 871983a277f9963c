/**
 * The only place Redis key names are spelled. The names in the first block are the user's
 * contract (DESIGN.md) and must not change; the rest are ours, under the same `ats:` prefix,
 * and are listed in the README.
 */
export type LogLevelName = 'error' | 'warning' | 'info';

export const redisKeys = {
  // --- the user's contract ---
  recommendationsSnapshot: () => 'ats:recommendations:snapshot',
  markPriceAll: () => 'ats:md:mark_price:all',
  ticker24hAll: () => 'ats:md:ticker_24h:all',
  klines: (symbol: string, interval: string, limit: number) =>
    `ats:md:klines:${symbol}:${interval}:${limit}`,
  logs: (level: LogLevelName) => `ats:logs:${level}`,
  config: (accountId: string) => `ats:cfg:${accountId}`,
  positions: (accountId: string) => `ats:positions:${accountId}`,
  pendingOrders: (accountId: string) => `ats:orders:pending:${accountId}`,
  /** Daily counters (a hash: orders_placed, orders_filled, …), kept about two days. */
  stats: (accountId: string, day: string) => `ats:stats:${accountId}:${day}`,

  // --- ours ---
  /** Monotonic snapshot version, shared by whichever marketdata instance publishes. */
  recommendationsVersion: () => 'ats:recommendations:version',
  exchangeInfo: () => 'ats:md:exchange_info',
  /** Short lock that collapses concurrent refreshes of one cache key into one request. */
  refreshLock: (cacheKey: string) => `ats:lock:${cacheKey}`,
  /** Lease held by the active marketdata process; a standby waits for it. */
  marketdataLease: () => 'ats:lease:marketdata',
  heartbeat: (component: string) => `ats:heartbeat:${component}`,
  /** The rate-limit governor's shared state. */
  governor: (name: string) => `ats:governor:${name}`,
  /** Recommendations a trader has decided on (entered or denied), so each is decided once. */
  decisions: (accountId: string) => `ats:decisions:${accountId}`,
  /** Records waiting for Postgres (a list of JSON operations), so nothing is lost while it is down. */
  outbox: (accountId: string) => `ats:outbox:${accountId}`,
  /** The local runtime's TradingAccount status (what `.status` holds in the cluster), for `ats status`. */
  accountStatus: (accountId: string) => `ats:status:${accountId}`,
  /** Pub/sub channel: a new recommendations snapshot was published. */
  recommendationsChannel: () => 'ats:events:recommendations',
  /** Pub/sub channel: an account's config changed. */
  configChannel: (accountId: string) => `ats:events:cfg:${accountId}`,
} as const;

/** Day bucket (UTC) used for `ats:stats:{account}:{day}`. */
export const statsDay = (at: Date = new Date()) => at.toISOString().slice(0, 10);
