import { sql, type Kysely } from 'kysely';

/**
 * A position has a key of its own (its recommendation, or `adopted:{symbol}:{time}`), and every
 * fill names the position it belongs to: a position's PnL and fees are the sums over exactly its
 * fills, never over a time window.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('positions').addColumn('position_key', 'text').execute();
  // Rows written before: the key the trader derives for them (recommendation, else adoption).
  await sql`update positions set position_key = coalesce(recommendation_id,
    'adopted:' || symbol || ':' || (extract(epoch from opened_at) * 1000)::bigint)`.execute(db);
  await sql`create unique index positions_account_key on positions (account_id, position_key)`.execute(db);
  // The key is the position's identity now; a stale open row must not block a new position.
  await db.schema.dropIndex('positions_one_open_per_symbol').execute();
  await db.schema.alterTable('trades').addColumn('position_key', 'text').execute();
  await db.schema.createIndex('trades_account_position').on('trades').columns(['account_id', 'position_key']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('trades_account_position').execute();
  await db.schema.alterTable('trades').dropColumn('position_key').execute();
  await db.schema.dropIndex('positions_account_key').execute();
  await sql`create unique index positions_one_open_per_symbol on positions (account_id, symbol) where status = 'open'`.execute(db);
  await db.schema.alterTable('positions').dropColumn('position_key').execute();
}
