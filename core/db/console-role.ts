import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { loginPassword, loginUrl } from '../login.js';
import type { Db } from './connection.js';

/** The console's Postgres role on this database (roles belong to the whole server, so the name hashes the database's). */
export async function consoleRoleName(db: Db): Promise<string> {
  const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(db);
  return `ats_console_${createHash('sha256').update(rows[0]!.db).digest('hex').slice(0, 24)}`;
}

/**
 * Makes (or re-keys) the console's login role, a member of `ats_console` (migration 0009: it
 * reads records and keeps its users, sessions and audit log), and returns its connection URL.
 * A new password each call unless `keep` is given. Needs CREATEROLE (the operator's connection).
 */
export async function provisionConsoleRole(db: Db, adminUrl: string, keep?: string): Promise<string> {
  const role = await consoleRoleName(db);
  const password = loginPassword(keep);
  await db.transaction().execute(async (tx) => {
    const exists = await sql<{ n: number }>`select 1 as n from pg_roles where rolname = ${role}`.execute(tx);
    const [ident, secret] = [sql.id(role), sql.lit(password)];
    if (exists.rows.length === 0) await sql`create role ${ident} login password ${secret} connection limit 10 in role ats_console`.execute(tx);
    else await sql`alter role ${ident} login password ${secret}`.execute(tx);
  });
  return loginUrl(adminUrl, role, password);
}
