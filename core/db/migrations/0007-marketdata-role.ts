import { sql, type Kysely } from 'kysely';

/**
 * marketdata connects as a role of its own (made by the operator, see `core/db/marketdata-role.ts`),
 * a member of `ats_marketdata`: it records the recommendations it publishes and reads nothing
 * of any account.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Roles belong to the whole server: another database may have made it already.
  await sql`do $$ begin create role ats_marketdata nologin; exception when duplicate_object or unique_violation then null; end $$`.execute(db);
  await sql`grant usage on schema public to ats_marketdata`.execute(db);
  await sql`grant select, insert on recommendations to ats_marketdata`.execute(db);
  await sql`grant select on ats_migrations to ats_marketdata`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`revoke all on recommendations, ats_migrations from ats_marketdata`.execute(db);
  await sql`revoke usage on schema public from ats_marketdata`.execute(db);
}
