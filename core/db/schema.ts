import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { OrderPurpose } from '../runtime-values.js';

/** Postgres `numeric` comes back as a string (exact); write strings or numbers. */
type Numeric = ColumnType<string, string | number, string | number>;
type NullableNumeric = ColumnType<string | null, string | number | null | undefined, string | number | null>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json = ColumnType<unknown, string, string>;

export type AccountStatus = 'active' | 'paused' | 'error' | 'deleted';

export interface AccountsTable {
  id: string;
  name: string;
  status: ColumnType<AccountStatus, AccountStatus | undefined, AccountStatus>;
  exchange: string;
  /** A masked fingerprint of the API key for display; never the key itself. */
  key_fingerprint: string | null;
  last_error: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface TradingConfigTable {
  id: Generated<number>;
  account_id: string;
  config_key: string;
  config_value: Json;
  updated_at: Timestamp;
}

export type { OrderPurpose };

export interface OrdersTable {
  id: Generated<string>;
  account_id: string;
  client_order_id: string;
  exchange_order_id: string | null;
  symbol: string;
  side: 'buy' | 'sell';
  type: string;
  purpose: OrderPurpose;
  quantity: Numeric;
  price: NullableNumeric;
  trigger_price: NullableNumeric;
  reduce_only: ColumnType<boolean, boolean | undefined, boolean>;
  status: string;
  filled_quantity: ColumnType<string, string | number | undefined, string | number>;
  average_price: NullableNumeric;
  recommendation_id: string | null;
  error: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface TradesTable {
  id: Generated<string>;
  account_id: string;
  exchange_trade_id: string;
  exchange_order_id: string;
  client_order_id: string | null;
  symbol: string;
  side: 'buy' | 'sell';
  price: Numeric;
  quantity: Numeric;
  quote_quantity: Numeric;
  commission: Numeric;
  commission_asset: string;
  realized_pnl: Numeric;
  is_maker: boolean;
  traded_at: Timestamp;
  /** The position this fill belongs to, set when the position is settled. */
  position_key: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}

export interface PositionsTable {
  id: Generated<string>;
  account_id: string;
  symbol: string;
  side: 'long' | 'short';
  status: ColumnType<'open' | 'closed', 'open' | 'closed' | undefined, 'open' | 'closed'>;
  quantity: Numeric;
  entry_price: Numeric;
  exit_price: NullableNumeric;
  realized_pnl: ColumnType<string, string | number | undefined, string | number>;
  fees: ColumnType<string, string | number | undefined, string | number>;
  recommendation_id: string | null;
  /** The recommendation id, or `adopted:{symbol}:{opened ms}` for a position ats did not open. */
  position_key: ColumnType<string | null, string | null | undefined, string | null>;
  opened_at: Timestamp;
  closed_at: NullableTimestamp;
  updated_at: Timestamp;
}

export interface FundingPaymentsTable {
  id: Generated<string>;
  account_id: string;
  symbol: string;
  /** USDT, as the exchange printed it: negative when paid, positive when received. */
  amount: Numeric;
  paid_at: Timestamp;
  exchange_tran_id: string;
  created_at: CreatedAt;
}

export interface AccountSnapshotsTable {
  id: Generated<string>;
  account_id: string;
  taken_at: Timestamp;
  wallet_balance: Numeric;
  equity: Numeric;
  unrealized_pnl: Numeric;
  available_balance: Numeric;
  open_positions: number;
}

export interface RecommendationsTable {
  /** Deterministic (strategy, symbol, bar): a second scan of the same bar writes nothing new. */
  id: string;
  snapshot_version: string;
  strategy: string;
  symbol: string;
  side: 'long' | 'short';
  entry: Numeric;
  stop_loss: Numeric;
  take_profit: Numeric;
  score: Numeric;
  reason: string;
  bar_time: Timestamp;
  expires_at: Timestamp;
  created_at: CreatedAt;
}

export type UserRole = 'admin' | 'user';

/** A console user: `admin` sees every account, `user` only those it owns (account_owners). */
export interface UsersTable {
  name: string;
  /** An Argon2id hash (PHC string); never the password. */
  password_hash: string;
  role: UserRole;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface SessionsTable {
  /** SHA-256 of the session cookie's token: a stolen table opens no session. */
  token_hash: string;
  user_name: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
}

export interface AccountOwnersTable {
  account_id: string;
  user_name: string;
  created_at: CreatedAt;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: CreatedAt;
  user_name: string;
  action: string;
  account_id: string | null;
  detail: ColumnType<unknown, string | undefined, string>;
  outcome: string;
}

export interface Database {
  accounts: AccountsTable;
  trading_config: TradingConfigTable;
  orders: OrdersTable;
  trades: TradesTable;
  positions: PositionsTable;
  account_snapshots: AccountSnapshotsTable;
  funding_payments: FundingPaymentsTable;
  recommendations: RecommendationsTable;
  users: UsersTable;
  sessions: SessionsTable;
  account_owners: AccountOwnersTable;
  audit_log: AuditLogTable;
}

export type AccountRow = Selectable<AccountsTable>;
export type NewOrder = Insertable<OrdersTable>;
export type OrderRow = Selectable<OrdersTable>;
export type NewTrade = Insertable<TradesTable>;
export type TradeRow = Selectable<TradesTable>;
export type PositionRow = Selectable<PositionsTable>;
export type RecommendationRow = Selectable<RecommendationsTable>;
