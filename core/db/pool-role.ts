import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { loginPassword, loginUrl } from '../login.js';
import type { Db } from './connection.js';
import { traderRoleName } from './trader-role.js';

/** A trader pool's login role on this database (roles belong to the whole server, so the name hashes the database's). */
export async function poolRoleName(db: Db, pool: string): Promise<string> {
  const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(db);
  return `ats_pool_${createHash('sha256').update(`${rows[0]!.db}\0${pool}`).digest('hex').slice(0, 24)}`;
}

/**
 * Makes (or re-keys) a trader pool's login and returns its connection URL. The role is NOINHERIT
 * and a member of exactly its accounts' trader roles: on its own it may read nothing but the
 * migrations table, and each
 * account's work runs under `SET ROLE <that account's trader role>` (`core/db/account-db.ts`),
 * which row-level security holds to that account's rows. An account moved out of the pool is
 * revoked here. Each account's row must exist. Needs CREATEROLE (the operator's connection).
 */
export async function provisionPoolRole(db: Db, adminUrl: string, pool: string, accountIds: readonly string[], keep?: string): Promise<string> {
  const role = await poolRoleName(db, pool);
  const password = loginPassword(keep);
  const wanted = new Map(await Promise.all(accountIds.map(async (id) => [await traderRoleName(db, id), id] as const)));
  await db.transaction().execute(async (tx) => {
    const [ident, secret] = [sql.id(role), sql.lit(password)];
    const exists = await sql<{ n: number }>`select 1 as n from pg_roles where rolname = ${role}`.execute(tx);
    if (exists.rows.length === 0) await sql`create role ${ident} login noinherit password ${secret} connection limit 20`.execute(tx);
    else await sql`alter role ${ident} login noinherit password ${secret}`.execute(tx);
    // Its one read of its own: whether the schema is what this version needs.
    await sql`grant select on ats_migrations to ${ident}`.execute(tx);
    const { rows: held } = await sql<{ name: string }>`select g.rolname as name from pg_auth_members m
      join pg_roles g on g.oid = m.roleid join pg_roles u on u.oid = m.member where u.rolname = ${role}`.execute(tx);
    const have = new Set(held.map((r) => r.name));
    for (const name of have) if (!wanted.has(name)) await sql`revoke ${sql.id(name)} from ${ident}`.execute(tx);
    for (const [name, accountId] of wanted) {
      if (have.has(name)) continue;
      // A pooled account's own role needs no login: only its pool becomes it.
      const own = await sql<{ n: number }>`select 1 as n from pg_roles where rolname = ${name}`.execute(tx);
      if (own.rows.length === 0) await sql`create role ${sql.id(name)} nologin in role ats_trader`.execute(tx);
      await sql`insert into account_roles (role_name, account_id) values (${name}, ${accountId})
        on conflict (role_name) do update set account_id = excluded.account_id`.execute(tx);
      await sql`grant ${sql.id(name)} to ${ident}`.execute(tx);
    }
  });
  return loginUrl(adminUrl, role, password);
}

/** Removes a pool's login (the pool is gone); its accounts' roles and records stay. */
export async function dropPoolRole(db: Db, pool: string): Promise<void> {
  const role = await poolRoleName(db, pool);
  const exists = await sql`select 1 from pg_roles where rolname = ${role}`.execute(db);
  if (exists.rows.length === 0) return;
  // What was granted to it must go first, or the role cannot be dropped.
  await sql`revoke select on ats_migrations from ${sql.id(role)}`.execute(db);
  await sql`drop role ${sql.id(role)}`.execute(db);
}

/** Every pool role of this database: the logins that may become one of its accounts' roles (for cleanups). */
export async function poolRoles(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select distinct u.rolname as name from pg_auth_members m
    join pg_roles g on g.oid = m.roleid join pg_roles u on u.oid = m.member
    where g.rolname in (select role_name from account_roles) and u.rolname like 'ats\\_pool\\_%'`.execute(db);
  return rows.map((r) => r.name);
}
