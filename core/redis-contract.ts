import type { Redis } from 'ioredis';
import { z } from 'zod';
import { AtsError, describeError } from './errors.js';
import { heartbeatSchema, localAccountStatusSchema } from './account-status.js';
import { exchangeInfoSchema, klinesSchema, markPricesSchema, tickersSchema } from './market-data/types.js';
import { recommendationsSnapshotSchema } from './recommendations.js';
import { closeRequestSchema, pendingOrderSchema, recordOpSchema, trackedPositionSchema } from './runtime-values.js';
import { tradingConfigSchema } from './trading-config.js';

/**
 * Everything that passes through Redis: each key's name (the only place one is spelled) and the
 * zod schema of what it holds. The names in the first block are the user's contract
 * (ARCHITECTURE.md) and must not change; the rest are ours, under the same `ats:` prefix. Every
 * read goes through `readJson` / `readHashJson` (or a schema below), so a value of the wrong
 * shape is a miss or a clear error, never a cast.
 */
export type LogLevelName = 'error' | 'warning' | 'info';

export const redisKeys = {
  // --- the user's contract ---
  recommendationsSnapshot: () => 'ats:recommendations:snapshot',
  markPriceAll: () => 'ats:md:mark_price:all',
  ticker24hAll: () => 'ats:md:ticker_24h:all',
  klines: (symbol: string, interval: string, limit: number) => `ats:md:klines:${symbol}:${interval}:${limit}`,
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
  /**
   * Present while Redis holds the trader's tracking state (positions, pending orders): missing
   * after Redis came back empty, which makes the trader rebuild that state from Postgres.
   */
  tracking: (accountId: string) => `ats:tracking:${accountId}`,
  /** Records waiting for Postgres (a list of JSON operations), so nothing is lost while it is down. */
  outbox: (accountId: string) => `ats:outbox:${accountId}`,
  /** The local runtime's TradingAccount status (what `.status` holds in the cluster), for `ats status`. */
  accountStatus: (accountId: string) => `ats:status:${accountId}`,
  /** Pub/sub channel: a new recommendations snapshot was published. */
  recommendationsChannel: () => 'ats:events:recommendations',
  /**
   * A hash: `request` (the account's close request, from the operator) and `done` (the id of
   * the last request the trader carried out).
   */
  closeRequest: (accountId: string) => `ats:close:${accountId}`,
  /** Pub/sub channel: an account's config changed. */
  configChannel: (accountId: string) => `ats:events:cfg:${accountId}`,
} as const;

/**
 * A channel's name on the wire: ioredis prefixes keys but not channels, so the connection's key
 * prefix is put in front here; two installations (or two test runs) sharing a Redis then never
 * hear each other's events.
 */
export const channelOf = (redis: Pick<Redis, 'options'>, channel: string) => `${redis.options.keyPrefix ?? ''}${channel}`;

/** Day bucket (UTC) used for `ats:stats:{account}:{day}`. */
export const statsDay = (at: Date = new Date()) => at.toISOString().slice(0, 10);

const counter = z.coerce.number().int();
const epochMs = z.coerce.number();

/** One entry of `ats:logs:{level}` (XADD fields; `entry` is the whole pino line). */
export const logEntryFieldsSchema = z.object({
  time: z.string(),
  component: z.string(),
  account_id: z.string(),
  msg: z.string(),
  entry: z.string(),
});

/** `ats:stats:{account}:{day}`: counters (orders_placed, denied:<reason>, …) and the day's first equity. */
export const statsSchema = z.record(z.string(), z.coerce.number());

/**
 * What each key holds. `string`: a JSON value; `hash`: one JSON value per field (or a plain
 * number); `set`: members; `stream`: entries with these fields; `channel`: pub/sub messages.
 */
export const redisValues = {
  recommendationsSnapshot: { type: 'string', schema: recommendationsSnapshotSchema },
  markPriceAll: { type: 'string', schema: markPricesSchema },
  ticker24hAll: { type: 'string', schema: tickersSchema },
  klines: { type: 'string', schema: klinesSchema },
  logs: { type: 'stream', schema: logEntryFieldsSchema },
  /** One field per config key, each a JSON value of that key (parseConfigEntries validates the whole). */
  config: { type: 'hash', schema: tradingConfigSchema.partial() },
  positions: { type: 'hash', schema: trackedPositionSchema },
  pendingOrders: { type: 'hash', schema: pendingOrderSchema },
  stats: { type: 'hash', schema: statsSchema },
  recommendationsVersion: { type: 'string', schema: counter },
  exchangeInfo: { type: 'string', schema: exchangeInfoSchema },
  /** A random token: the holder releases only its own lock. */
  refreshLock: { type: 'string', schema: z.string() },
  /** The holder's instance id. */
  marketdataLease: { type: 'string', schema: z.string() },
  heartbeat: { type: 'string', schema: heartbeatSchema },
  /** weight[:{egress}]:{window} counters; pause_until and weight_limit numbers (an account's own windows are in its process). */
  governor: { type: 'string', schema: epochMs },
  decisions: { type: 'set', schema: z.string() },
  /** When the tracking state was (re)built, epoch ms. */
  tracking: { type: 'string', schema: epochMs },
  outbox: { type: 'list', schema: recordOpSchema },
  accountStatus: { type: 'string', schema: localAccountStatusSchema },
  closeRequest: { type: 'hash', schema: z.object({ request: closeRequestSchema, done: z.string() }).partial() },
  recommendationsChannel: { type: 'channel', schema: z.object({ version: z.number().int() }) },
  configChannel: { type: 'channel', schema: z.unknown() },
} as const satisfies Record<keyof typeof redisKeys, { type: 'string' | 'hash' | 'set' | 'list' | 'stream' | 'channel'; schema: z.ZodType }>;

/** A JSON text read from `key`, checked against `schema`; a bad value is an error naming the key. */
export function parseJson<T>(key: string, raw: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new AtsError('ATS_REDIS_VALUE_INVALID', `Redis ${key}: not JSON (${raw.slice(0, 40)})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new AtsError(
      'ATS_REDIS_VALUE_INVALID',
      `Redis ${key}: unexpected value (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`,
    );
  return parsed.data;
}

/** The JSON value at `key`, or undefined when absent. */
export async function readJson<T>(redis: Redis, key: string, schema: z.ZodType<T>): Promise<T | undefined> {
  const raw = await redis.get(key);
  return raw === null ? undefined : parseJson(key, raw, schema);
}

/**
 * Every field of a hash of JSON values. A field of the wrong shape is left out and reported to
 * `onBad`, so one damaged entry never hides the others.
 */
export async function readHashJson<T>(
  redis: Redis,
  key: string,
  schema: z.ZodType<T>,
  onBad: (field: string, problem: string) => void,
): Promise<Map<string, T>> {
  return parseHashJson(key, await redis.hgetall(key), schema, onBad);
}

/** A hash's entries as read (HGETALL, alone or in a pipeline), each field's JSON checked as readHashJson does. */
export function parseHashJson<T>(
  key: string,
  entries: Record<string, string>,
  schema: z.ZodType<T>,
  onBad: (field: string, problem: string) => void,
): Map<string, T> {
  const out = new Map<string, T>();
  for (const [field, raw] of Object.entries(entries)) {
    try {
      out.set(field, parseJson(`${key} ${field}`, raw, schema));
    } catch (err) {
      onBad(field, describeError(err));
    }
  }
  return out;
}
