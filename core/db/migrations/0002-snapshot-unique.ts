import type { Kysely } from 'kysely';

/** A replayed account snapshot (outbox after a crash) must not be recorded twice. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('account_snapshots_account_time').execute();
  await db.schema.createIndex('account_snapshots_account_time').unique().on('account_snapshots').columns(['account_id', 'taken_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('account_snapshots_account_time').execute();
  await db.schema.createIndex('account_snapshots_account_time').on('account_snapshots').columns(['account_id', 'taken_at']).execute();
}
