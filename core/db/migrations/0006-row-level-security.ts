import { sql, type Kysely } from 'kysely';

/** Tables with one account's rows, keyed by `account_id` (`accounts` by `id`). */
export const PRIVATE_TABLES = ['trading_config', 'orders', 'trades', 'positions', 'funding_payments', 'account_snapshots'] as const;

/**
 * Each trader connects as a role of its own (made by the operator, see `core/db/trader-role.ts`),
 * a member of `ats_trader`. Row-level security lets such a role see and write only the rows of
 * the account its role is mapped to in `account_roles`; shared tables (recommendations) are read
 * only. The tables' owner (the operator's role) is not bound by these policies.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Roles belong to the whole server: another database may have made it already.
  await sql`do $$ begin create role ats_trader nologin; exception when duplicate_object or unique_violation then null; end $$`.execute(db);
  await sql`create table account_roles (role_name text primary key, account_id text not null unique references accounts(id) on delete cascade)`.execute(db);
  await sql`alter table account_roles enable row level security`.execute(db);
  await sql`create policy own_role on account_roles for select to ats_trader using (role_name = current_user)`.execute(db);

  await sql`grant usage on schema public to ats_trader`.execute(db);
  await sql`grant select on account_roles, recommendations, ats_migrations to ats_trader`.execute(db);
  await sql`grant usage, select on all sequences in schema public to ats_trader`.execute(db);
  const own = sql`(select r.account_id from account_roles r where r.role_name = current_user)`;
  await sql`alter table accounts enable row level security`.execute(db);
  await sql`grant select, insert on accounts to ats_trader`.execute(db);
  await sql`create policy own_account on accounts for all to ats_trader using (id = ${own}) with check (id = ${own})`.execute(db);
  for (const table of PRIVATE_TABLES) {
    await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
    await sql`grant select, insert, update on ${sql.table(table)} to ats_trader`.execute(db);
    await sql`create policy own_rows on ${sql.table(table)} for all to ats_trader using (account_id = ${own}) with check (account_id = ${own})`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [...PRIVATE_TABLES, 'accounts']) {
    await sql`drop policy if exists ${sql.raw(table === 'accounts' ? 'own_account' : 'own_rows')} on ${sql.table(table)}`.execute(db);
    await sql`alter table ${sql.table(table)} disable row level security`.execute(db);
    await sql`revoke all on ${sql.table(table)} from ats_trader`.execute(db);
  }
  await sql`revoke all on all sequences in schema public from ats_trader`.execute(db);
  await sql`revoke all on recommendations, ats_migrations from ats_trader`.execute(db);
  await sql`revoke usage on schema public from ats_trader`.execute(db);
  await sql`drop table account_roles`.execute(db);
}
