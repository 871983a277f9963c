import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { loginPassword, loginUrl } from '../login.js';
import type { Db } from './connection.js';

/**
 * The services that log in to Postgres as a role of their own, each a member of its group role
 * (`ats_marketdata`: migration 0007, records recommendations and reads no account's rows;
 * `ats_console`: migration 0009, reads records and keeps the console's own tables).
 */
export type Service = 'marketdata' | 'console';

/** A service's Postgres role on this database (roles belong to the whole server, so the name hashes the database's). */
export async function serviceRoleName(db: Db, service: Service): Promise<string> {
  const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(db);
  return `ats_${service}_${createHash('sha256').update(rows[0]!.db).digest('hex').slice(0, 24)}`;
}

/**
 * Makes (or re-keys) a service's login role, a member of `ats_<service>`, and returns its
 * connection URL. A new password each call unless `keep` is given. Needs CREATEROLE (the
 * operator's connection).
 */
export async function provisionServiceRole(db: Db, adminUrl: string, service: Service, keep?: string): Promise<string> {
  const role = await serviceRoleName(db, service);
  const password = loginPassword(keep);
  await db.transaction().execute(async (tx) => {
    const exists = await sql<{ n: number }>`select 1 as n from pg_roles where rolname = ${role}`.execute(tx);
    const [ident, secret, group] = [sql.id(role), sql.lit(password), sql.id(`ats_${service}`)];
    if (exists.rows.length === 0) await sql`create role ${ident} login password ${secret} connection limit 10 in role ${group}`.execute(tx);
    else await sql`alter role ${ident} login password ${secret}`.execute(tx);
  });
  return loginUrl(adminUrl, role, password);
}
