import { sql, type Kysely } from 'kysely';
import { PRIVATE_TABLES } from './0006-row-level-security.js';

/**
 * The console connects as a role of its own (made by the operator or `ats up`, see
 * `core/db/console-role.ts`), a member of `ats_console`: it reads every account's records (it
 * filters them by user itself), keeps its users, sessions, ownership and audit log, and writes
 * no record, creates no role and changes no schema.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Roles belong to the whole server: another database may have made it already.
  await sql`do $$ begin create role ats_console nologin; exception when duplicate_object or unique_violation then null; end $$`.execute(db);
  await sql`grant usage on schema public to ats_console`.execute(db);
  await sql`grant select on accounts, recommendations, ats_migrations to ats_console`.execute(db);
  for (const table of PRIVATE_TABLES) await sql`grant select on ${sql.table(table)} to ats_console`.execute(db);
  // Row-level security lets a role with no policy see nothing: the console reads every row.
  for (const table of ['accounts', ...PRIVATE_TABLES]) {
    await sql`create policy console_reads on ${sql.table(table)} for select to ats_console using (true)`.execute(db);
  }
  await sql`grant select, insert, update, delete on users, sessions, account_owners to ats_console`.execute(db);
  await sql`grant select, insert on audit_log to ats_console`.execute(db);
  await sql`grant usage on sequence audit_log_id_seq to ats_console`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['accounts', ...PRIVATE_TABLES]) await sql`drop policy if exists console_reads on ${sql.table(table)}`.execute(db);
  await sql`revoke all on all tables in schema public from ats_console`.execute(db);
  await sql`revoke all on all sequences in schema public from ats_console`.execute(db);
  await sql`revoke usage on schema public from ats_console`.execute(db);
}
