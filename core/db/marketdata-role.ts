import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { loginPassword, loginUrl } from '../login.js';
import type { Db } from './connection.js';

/** marketdata's Postgres role on this database (roles belong to the whole server, so the name hashes the database's). */
export async function marketdataRoleName(db: Db): Promise<string> {
  const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(db);
  return `ats_marketdata_${createHash('sha256').update(rows[0]!.db).digest('hex').slice(0, 24)}`;
}

/**
 * Makes (or re-keys) marketdata's login role, a member of `ats_marketdata` (migration 0007:
 * it records recommendations and reads no account's rows), and returns its connection URL.
 * A new password each call unless `keep` is given. Needs CREATEROLE (the operator's connection).
 */
export async function provisionMarketdataRole(db: Db, adminUrl: string, keep?: string): Promise<string> {
  const role = await marketdataRoleName(db);
  const password = loginPassword(keep);
  await db.transaction().execute(async (tx) => {
    const exists = await sql<{ n: number }>`select 1 as n from pg_roles where rolname = ${role}`.execute(tx);
    const [ident, secret] = [sql.id(role), sql.lit(password)];
    if (exists.rows.length === 0) await sql`create role ${ident} login password ${secret} connection limit 10 in role ats_marketdata`.execute(tx);
    else await sql`alter role ${ident} login password ${secret}`.execute(tx);
  });
  return loginUrl(adminUrl, role, password);
}

/** Removes marketdata's role of this database (for cleanups). */
export async function dropMarketdataRole(db: Db): Promise<void> {
  await sql`drop role if exists ${sql.id(await marketdataRoleName(db))}`.execute(db);
}
