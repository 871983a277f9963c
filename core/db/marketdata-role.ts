import { sql } from 'kysely';
import type { Db } from './connection.js';
import { provisionServiceRole, serviceRoleName } from './service-role.js';

/** marketdata's Postgres role on this database. */
export const marketdataRoleName = (db: Db) => serviceRoleName(db, 'marketdata');

/**
 * Makes (or re-keys) marketdata's login role, a member of `ats_marketdata` (migration 0007:
 * it records recommendations and reads no account's rows), and returns its connection URL.
 */
export const provisionMarketdataRole = (db: Db, adminUrl: string, keep?: string) => provisionServiceRole(db, adminUrl, 'marketdata', keep);

/** Removes marketdata's role of this database (for cleanups). */
export async function dropMarketdataRole(db: Db): Promise<void> {
  await sql`drop role if exists ${sql.id(await marketdataRoleName(db))}`.execute(db);
}
