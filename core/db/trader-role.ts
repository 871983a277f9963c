import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { loginPassword, loginUrl } from '../login.js';
import type { Db } from './connection.js';

/**
 * The Postgres role of one account's trader: a login role in `ats_trader`, mapped to its account
 * in `account_roles`, so row-level security (migration 0006) shows it only that account's rows.
 * Roles belong to the whole server, so the name hashes the database's name with the account id:
 * two databases on one server never share a trader role.
 */
export async function traderRoleName(db: Db, accountId: string): Promise<string> {
  const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(db);
  return `ats_trader_${createHash('sha256').update(`${rows[0]!.db}\0${accountId}`).digest('hex').slice(0, 24)}`;
}

/**
 * Makes (or re-keys) the account's trader role with a new random password and returns the
 * connection URL for it: `adminUrl` with that role and password. Each call rotates the password
 * unless `keep` (a password this made before) is given; connections already open stay open. Needs a connection with CREATEROLE (the operator's).
 */
export async function provisionTraderRole(db: Db, adminUrl: string, accountId: string, keep?: string): Promise<string> {
  const role = await traderRoleName(db, accountId);
  const password = loginPassword(keep);
  await db.transaction().execute(async (tx) => {
    const exists = await sql<{ n: number }>`select 1 as n from pg_roles where rolname = ${role}`.execute(tx);
    const ident = sql.id(role);
    const secret = sql.lit(password);
    if (exists.rows.length === 0) await sql`create role ${ident} login password ${secret} connection limit 20 in role ats_trader`.execute(tx);
    else await sql`alter role ${ident} login password ${secret}`.execute(tx);
    await sql`insert into account_roles (role_name, account_id) values (${role}, ${accountId})
      on conflict (role_name) do update set account_id = excluded.account_id`.execute(tx);
  });
  return loginUrl(adminUrl, role, password);
}

/** Removes the account's trader role (an account deleted): it can no longer log in. */
export async function dropTraderRole(db: Db, accountId: string): Promise<void> {
  const role = await traderRoleName(db, accountId);
  await sql`delete from account_roles where role_name = ${role}`.execute(db);
  await sql`drop role if exists ${sql.id(role)}`.execute(db);
}

/** Every trader role of this database (for cleanups). */
export async function traderRoles(db: Db): Promise<string[]> {
  const { rows } = await sql<{ role_name: string }>`select role_name from account_roles`.execute(db);
  return rows.map((r) => r.role_name);
}
