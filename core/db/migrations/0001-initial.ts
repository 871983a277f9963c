import { sql, type Kysely } from 'kysely';

/**
 * The record tables. Every private table carries `account_id` NOT NULL with an index and a
 * foreign key that forbids deleting an account that has records (accounts are marked deleted).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(sql`status in ('active', 'paused', 'error', 'deleted')`),
    )
    .addColumn('exchange', 'text', (c) => c.notNull())
    .addColumn('key_fingerprint', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deleted_at', 'timestamptz')
    .execute();

  const accountRef = (c: any) => c.notNull().references('accounts.id').onDelete('restrict');

  await db.schema
    .createTable('trading_config')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('account_id', 'text', accountRef)
    .addColumn('config_key', 'text', (c) => c.notNull())
    .addColumn('config_value', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('trading_config_account_key', ['account_id', 'config_key'])
    .execute();

  await db.schema
    .createTable('orders')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account_id', 'text', accountRef)
    .addColumn('client_order_id', 'text', (c) => c.notNull())
    .addColumn('exchange_order_id', 'text')
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull().check(sql`side in ('buy', 'sell')`))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('entry', 'stop_loss', 'take_profit', 'close')`))
    .addColumn('quantity', 'numeric', (c) => c.notNull())
    .addColumn('price', 'numeric')
    .addColumn('trigger_price', 'numeric')
    .addColumn('reduce_only', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('filled_quantity', 'numeric', (c) => c.notNull().defaultTo(0))
    .addColumn('average_price', 'numeric')
    .addColumn('recommendation_id', 'text')
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('orders_account_client_order_id', ['account_id', 'client_order_id'])
    .execute();

  await db.schema
    .createTable('trades')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account_id', 'text', accountRef)
    .addColumn('exchange_trade_id', 'text', (c) => c.notNull())
    .addColumn('exchange_order_id', 'text', (c) => c.notNull())
    .addColumn('client_order_id', 'text')
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull().check(sql`side in ('buy', 'sell')`))
    .addColumn('price', 'numeric', (c) => c.notNull())
    .addColumn('quantity', 'numeric', (c) => c.notNull())
    .addColumn('quote_quantity', 'numeric', (c) => c.notNull())
    .addColumn('commission', 'numeric', (c) => c.notNull())
    .addColumn('commission_asset', 'text', (c) => c.notNull())
    .addColumn('realized_pnl', 'numeric', (c) => c.notNull())
    .addColumn('is_maker', 'boolean', (c) => c.notNull())
    .addColumn('traded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('trades_account_symbol_trade_id', ['account_id', 'symbol', 'exchange_trade_id'])
    .execute();

  await db.schema
    .createTable('positions')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account_id', 'text', accountRef)
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull().check(sql`side in ('long', 'short')`))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('open')
        .check(sql`status in ('open', 'closed')`),
    )
    .addColumn('quantity', 'numeric', (c) => c.notNull())
    .addColumn('entry_price', 'numeric', (c) => c.notNull())
    .addColumn('exit_price', 'numeric')
    .addColumn('realized_pnl', 'numeric', (c) => c.notNull().defaultTo(0))
    .addColumn('fees', 'numeric', (c) => c.notNull().defaultTo(0))
    .addColumn('recommendation_id', 'text')
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One-way mode: at most one open position per symbol and account.
  await sql`create unique index positions_one_open_per_symbol on positions (account_id, symbol) where status = 'open'`.execute(db);

  await db.schema
    .createTable('account_snapshots')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account_id', 'text', accountRef)
    .addColumn('taken_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('wallet_balance', 'numeric', (c) => c.notNull())
    .addColumn('equity', 'numeric', (c) => c.notNull())
    .addColumn('unrealized_pnl', 'numeric', (c) => c.notNull())
    .addColumn('available_balance', 'numeric', (c) => c.notNull())
    .addColumn('open_positions', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('recommendations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('snapshot_version', 'bigint', (c) => c.notNull())
    .addColumn('strategy', 'text', (c) => c.notNull())
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull().check(sql`side in ('long', 'short')`))
    .addColumn('entry', 'numeric', (c) => c.notNull())
    .addColumn('stop_loss', 'numeric', (c) => c.notNull())
    .addColumn('take_profit', 'numeric', (c) => c.notNull())
    .addColumn('score', 'numeric', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('bar_time', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  for (const table of ['trading_config', 'orders', 'trades', 'positions', 'account_snapshots']) {
    await db.schema.createIndex(`${table}_account_id`).on(table).column('account_id').execute();
  }
  await db.schema.createIndex('account_snapshots_account_time').on('account_snapshots').columns(['account_id', 'taken_at']).execute();
  await db.schema.createIndex('trades_account_time').on('trades').columns(['account_id', 'traded_at']).execute();
  await db.schema.createIndex('recommendations_created').on('recommendations').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['recommendations', 'account_snapshots', 'positions', 'trades', 'orders', 'trading_config', 'accounts']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
