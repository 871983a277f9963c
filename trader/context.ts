import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../core/db/connection.js';
import type { MarketDataReader } from '../core/market-data/reader.js';
import type { OrderPurpose } from '../core/runtime-values.js';
import type { TradingConfig } from '../core/trading-config.js';
import type { Balance, ExchangeAccount } from './exchange-account.js';
import type { TraderMetrics } from './metrics.js';
import type { RecordWriter } from './records.js';
import type { RuntimeState } from './runtime-state.js';
import type { TradingState } from './trading-state.js';

/** What the trader's parts (entries, position keeping) share; the Trader makes it and owns the lifecycle. */
export interface TraderContext {
  readonly accountId: string;
  readonly log: Logger;
  readonly redis: Redis;
  readonly db: Db;
  readonly runtime: RuntimeState;
  readonly records: RecordWriter;
  readonly reader: MarketDataReader;
  readonly metrics: TraderMetrics;
  readonly state: TradingState;
  /** The connected exchange account; only called while connected. */
  account(): ExchangeAccount;
  /** The account's trading config now (a bad one disables entries, never throws). */
  config(): Promise<TradingConfig>;
  /** Wallet, equity and available margin as last read from the exchange. */
  balance: Balance | undefined;
  /** When `balance` was last set (0: never). */
  readonly balanceAt: number;
  /** Counts an order outcome in the metrics and today's counters. */
  counted(purpose: OrderPurpose, outcome: 'placed' | 'filled' | 'rejected' | 'failed'): Promise<void>;
  /** Asks for a reconciliation with the exchange soon. */
  scheduleSync(delayMs: number): void;
  /** Writes the heartbeat now (after a change worth showing at once). */
  heartbeat(): Promise<void>;
}
