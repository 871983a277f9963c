import { sql, type Kysely } from 'kysely';

/**
 * An API key serves one account: no two accounts that are not deleted carry the same key
 * fingerprint (a hash of the API key, never the key itself).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create unique index accounts_one_key on accounts (key_fingerprint) where status <> 'deleted' and key_fingerprint is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('accounts_one_key').execute();
}
